"""End-to-end harness: the real `rapidvet serve` process against the fake GitHub, both on
loopback; webhooks are built from GitHub's example payloads, signed and POSTed like GitHub's."""

from __future__ import annotations

import functools
import json
import sqlite3
import time
import uuid
from collections import Counter
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.app.web.test_service import post
from tests.support.service import Server, running_service, service_env, signed

REPO = "acme/handbook"
PLAN_PATH = "handbook/ops/plan.md"
CONFIG = """\
version: 1
aliases:
  DEE: "@dee"
  LEADS: "@acme/leads"
paths:
  - pattern: "handbook/ops/**"
    roles: {D: DEE, A: [LEADS], I: ["@ivy"], P: ["@pat"]}
merge:
  record: direct
  previous_versions_limit: 3
"""
PLAN = """\
# Operations

## FY27 Ops VPMOM

|Period| Feb 1, 2026 to Jan 31, 2027 |
|:---|:---|
| RAPID | DEE(D), LEADS(R & A), @ivy(I), @pat(P) |
| Vetted date | Feb 3, 2026 |
| Previous versions | [Feb 1, 2025](https://example.com/old) |

#### Vision
- Run the company on documented, vacation-ready processes.

#### Priorities
- Documented: every procedure has a page

#### Methods
- Review every procedure through RAPID once a year

#### Obstacles
- Procedures that live only in people's heads

#### Measures
- 80% of procedures vetted within the last 12 months
"""
FILES = {
    ".github/rapid.yml": CONFIG,
    PLAN_PATH: PLAN,
    "handbook/ops/notes.md": "# Notes\n\nNothing planned here.\n",
    "SUMMARY.md": "* [Ops](handbook/ops/plan.md)\n",
}


@dataclass
class Handbook:
    """One fake GitHub with the App installed on a handbook repository, and the App serving."""

    fake: Any
    server: Server
    number: int = 0
    calls: Counter[str] = field(default_factory=Counter)  # API calls per event name
    # The repositories webhooks were sent for: the only ones the App may touch.
    repositories: set[str] = field(default_factory=lambda: {REPO})

    def pull(self) -> dict[str, Any]:
        return dict(self.fake.pull_request(REPO, self.number))

    def send(self, name: str, guid: str | None = None, **params: Any) -> int:
        """Deliver webhook `name` for the pull request; wait until the App has done its work,
        and count the GitHub calls it made for it."""
        params.setdefault("repo", REPO)
        self.repositories.add(params["repo"])
        if name.startswith(("pull_request", "check_run")) and "number" not in params:
            params.setdefault("number", self.number)
        built = self.fake.webhook(name, **params)
        assert self.fake.receives(built["event"]), f"the App does not subscribe to {name}"
        body = json.dumps(built["payload"]).encode()
        before = len(self.fake.requests())
        status, _ = post(self.server.url + "/webhooks", body, signed(body, built["event"], guid))
        self.settle()
        self.calls[name] += len(self.fake.requests()) - before
        return status

    def settle(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with sqlite3.connect(self.server.database) as db:
                (busy,) = db.execute(
                    "SELECT COUNT(*) FROM jobs WHERE state IN ('queued', 'running')"
                ).fetchone()
            if busy == 0:
                return
            time.sleep(0.05)
        raise AssertionError(f"jobs still pending after {timeout}s:\n{self.server.logs()[-3000:]}")

    def check_run(self, name: str, head_sha: str | None = None) -> dict[str, Any]:
        head = head_sha or self.pull()["head"]["sha"]
        runs = [r for r in self.fake.check_runs(REPO, head_sha=head) if r["name"] == name]
        assert len(runs) == 1, f"{len(runs)} check runs named {name!r} on {head[:8]}"
        return dict(runs[0])

    def strayed(self) -> set[str]:
        """The repositories the App sent requests to that no webhook came from."""
        touched = {r["repository"] for r in self.fake.requests() if r["repository"]}
        return touched - {name.lower() for name in self.repositories}

    def dead_jobs(self) -> list[tuple[str, str]]:
        with sqlite3.connect(self.server.database) as db:
            return db.execute(
                "SELECT delivery_id, last_error FROM jobs WHERE state = 'dead'"
            ).fetchall()

    def approve_and_merge(self) -> None:
        """Open the pull request to the App, have its Decider and a team lead approve it, and
        merge it on GitHub (the closed webhook is the caller's to send)."""
        self.send("pull_request.opened")
        for login in ("dee", "lee"):
            review = self.fake.add_review(REPO, self.number, login, "APPROVED")
            self.send("pull_request_review.submitted", review_id=review["id"])
        self.fake.merge_pull_request(REPO, self.number)

    def push(self, files: dict[str, str | None], message: str = "Edit") -> str:
        commit = self.fake.commit(REPO, "plan-update", files, message=message, author="author")
        return str(commit["sha"])


def install_app(fake: Any) -> Any:
    """The App registered and installed on the acme organization, whose team leads holds A;
    its credentials."""
    credentials = fake.setup_app()
    fake.create_installation("acme")
    fake.set_team_members("acme", "leads", ["lee", "lou"])
    return credentials


def create_handbook(fake: Any, repo: str, files: dict[str, str]) -> None:
    """A handbook repository of acme, where everyone the RAPID roles name may review."""
    fake.create_repo(repo, files=files)
    fake.add_collaborators(repo, ["dee", "lee", "lou", "ivy", "pat", "author"])


def app_env(fake: Any, credentials: Any, tmp: Path, **extra: str) -> dict[str, str]:
    """The environment of rapidvet processes acting as the installed App against `fake`."""
    return service_env(
        tmp,
        fake.url,
        key=credentials.private_key,
        RAPIDVET_APP_ID=str(credentials.app_id),
        **extra,
    )


def open_handbook(
    stack: ExitStack, fake: Any, tmp: Path, files: dict[str, str] | None = None, **env: str
) -> Handbook:
    """The App registered and serving (with `env` added to its environment), the repository
    with its team, a branch editing the plan and a pull request opened from it (no webhook
    sent yet)."""
    credentials = install_app(fake)
    create_handbook(fake, REPO, files or FILES)
    server = stack.enter_context(running_service(app_env(fake, credentials, tmp, **env), tmp))
    fake.create_branch(REPO, "plan-update")
    edited = PLAN.replace("once a year", "twice a year")
    fake.commit(REPO, "plan-update", {PLAN_PATH: edited}, message="Review twice", author="author")
    pull = fake.open_pull_request(REPO, "plan-update", user="author")
    handbook = Handbook(fake, server, number=int(pull["number"]))
    stack.push(functools.partial(stayed_home, handbook))
    return handbook


def stayed_home(handbook: Handbook, error: type[BaseException] | None, *_: object) -> None:
    """At the end of a test (unless its own block raised): the App touched no repository but
    the handbooks its webhooks came from, whatever their pull requests held."""
    if error is None:
        assert not handbook.strayed(), f"the App reached {sorted(handbook.strayed())}"


def new_guid() -> str:
    return str(uuid.uuid4())
