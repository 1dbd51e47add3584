"""Traffic for the durability tests (tests/app/jobs/test_durability.py).

- A handbook with one plan page per pull request, so that merges never conflict.
- Scenarios: pull requests whose lives (opening, pushes, reviews, a merge) are scripted, so
  the RAPID conclusion on each one's last head is known beforehand, interleaved at random.
- `Traffic` plays a scenario's steps for real in the fake GitHub and turns each into the
  signed delivery GitHub would send; `Sender` delivers it to whichever server is up, again
  and again until it is answered, as GitHub's redelivery after downtime does.
- `Fleet`: the real rapidvet processes of one database, any of which can be SIGKILLed and
  started again.
- What rapidvet did: job states per delivery, and its side effects counted in the fake.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import re
import signal
import sqlite3
import subprocess
import time
import uuid
from collections import Counter, deque
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, closing, contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg

from rapidvet.app.pulls.check_runs import RAPID, STRUCTURE
from rapidvet.app.store import JobCounts, open_store
from rapidvet.app.store.postgres import DELIVERY_QUEUE
from tests.app.web.test_service import post
from tests.support.e2e import FILES, PLAN
from tests.support.service import RAPIDVET, Server, running_service, signed, stop

# The RAPID conclusion a pull request's last head ends with, and the reviews that give it,
# all given after a last push that edits the plan (which makes earlier approvals stale).
FINAL_REVIEWS: dict[str, tuple[tuple[str, str], ...]] = {
    "success": (("dee", "APPROVED"), ("lee", "APPROVED"), ("lou", "APPROVED")),
    "failure": (("dee", "APPROVED"), ("lee", "APPROVED"), ("lou", "CHANGES_REQUESTED")),
    "action_required": (("lee", "APPROVED"), ("lou", "APPROVED")),  # the Decider's is missing
}
# Three in five pull requests are approved and merged; only the A holders veto on the way,
# and the last round overrides them.
OUTCOMES = ("success", "success", "failure", "success", "action_required")
MIDDLE_REVIEWS = (
    ("dee", "APPROVED"),
    ("dee", "COMMENTED"),
    ("lee", "APPROVED"),
    ("lee", "CHANGES_REQUESTED"),
    ("lou", "APPROVED"),
    ("lou", "CHANGES_REQUESTED"),
    ("lou", "COMMENTED"),
    ("ivy", "APPROVED"),
    ("pat", "COMMENTED"),
)
MERGE_MARKER = "rapidvet:merge-record"
VETTED_IN = re.compile(r"^Vetted-in: #(\d+)$", re.MULTILINE)


def plan_path(pull: int) -> str:
    return f"handbook/ops/plan-{pull:02}.md"


def notes_path(pull: int) -> str:
    return f"handbook/ops/notes-{pull:02}.md"


def handbook_files(pulls: int) -> dict[str, str]:
    """The end-to-end handbook plus a plan page for each pull request, all in the table of
    contents."""
    pages = [plan_path(n) for n in range(pulls)]
    toc = "".join(f"* [Ops {n}]({page})\n" for n, page in enumerate(pages))
    return {**FILES, **dict.fromkeys(pages, PLAN), "SUMMARY.md": FILES["SUMMARY.md"] + toc}


def lift_rate_limits(fake: Any, limit: int = 1_000_000) -> None:
    """Room for a long run: at GitHub's 5 000 calls an hour per installation, or its 80
    content-creating requests a minute (the secondary limit, tested on its own), jobs would wait
    for the window to end. Reads the in-process fake's installations."""
    for installation in fake.state.installations:
        fake.set_rate_limit(limit, installation_id=installation, limit=limit)
    fake.set_secondary_limit(limit)


# -- scenarios -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    pull: int  # the pull request's index in the scenario (-1 for a redelivery)
    action: str  # open | push | review | merge | redeliver
    what: str = ""  # push: "plan" or "notes"; review: the reviewer's login
    state: str = ""  # review: APPROVED, CHANGES_REQUESTED or COMMENTED


@dataclass(frozen=True)
class Scenario:
    outcomes: tuple[str, ...]  # per pull request: the RAPID conclusion its last head gets
    steps: tuple[Step, ...]

    def merged(self, pull: int) -> bool:
        return self.outcomes[pull] == "success"


def pull_script(pull: int, outcome: str, middle: int, rng: random.Random) -> list[Step]:
    """Open; `middle` random pushes and reviews; a plan push; the final reviews; a merge
    when they approve."""
    steps = [Step(pull, "open")]
    for _ in range(middle):
        if rng.random() < 0.2:
            steps.append(Step(pull, "push", rng.choice(("plan", "notes"))))
        else:
            steps.append(Step(pull, "review", *rng.choice(MIDDLE_REVIEWS)))
    steps.append(Step(pull, "push", "plan"))
    steps += [Step(pull, "review", login, state) for login, state in FINAL_REVIEWS[outcome]]
    if outcome == "success":
        steps.append(Step(pull, "merge"))
    return steps


def scenario(pulls: int, middle: int, seed: int, redeliveries: float = 0.0) -> Scenario:
    """`pulls` scripted pull requests, their steps interleaved at random; after a step, with
    probability `redeliveries`, an earlier delivery is sent again under its GUID."""
    rng = random.Random(seed)
    outcomes = tuple(OUTCOMES[n % len(OUTCOMES)] for n in range(pulls))
    scripts = [deque(pull_script(n, outcomes[n], middle, rng)) for n in range(pulls)]
    steps = []
    while live := [script for script in scripts if script]:
        steps.append(rng.choice(live).popleft())
        if rng.random() < redeliveries:
            steps.append(Step(-1, "redeliver"))
    return Scenario(outcomes, tuple(steps))


# -- playing a scenario in the fake GitHub -------------------------------------------------


@dataclass(frozen=True)
class Delivery:
    guid: str
    name: str  # "pull_request.opened"...
    event: str  # the X-GitHub-Event header
    body: bytes

    def headers(self) -> dict[str, str]:
        return signed(self.body, self.event, self.guid)


@dataclass
class Pull:
    number: int
    branch: str
    heads: list[str] = field(default_factory=list)


class Traffic:
    """Plays a scenario's steps in the fake GitHub; each becomes the delivery GitHub would
    send for it, built when it happens (a later step does not change it)."""

    def __init__(self, fake: Any, repo: str, seed: int = 0) -> None:
        self.fake = fake
        self.repo = repo
        self.pulls: dict[int, Pull] = {}
        self.deliveries: list[Delivery] = []  # in the order they happened
        self._edits: Counter[int] = Counter()
        self._rng = random.Random(seed)

    def play(self, step: Step) -> Delivery:
        if step.action == "redeliver":
            return self._rng.choice(self.deliveries)  # the same GUID and body
        if step.action == "open":
            self._open(step.pull)
            name, params = "pull_request.opened", {}
        elif step.action == "push":
            self._push(step.pull, step.what)
            name, params = "pull_request.synchronize", {}
        elif step.action == "review":
            number = self.pulls[step.pull].number
            review = self.fake.add_review(self.repo, number, step.what, step.state)
            name, params = "pull_request_review.submitted", {"review_id": review["id"]}
        elif step.action == "merge":
            self.fake.merge_pull_request(self.repo, self.pulls[step.pull].number)
            name, params = "pull_request.closed", {}
        else:
            raise ValueError(f"unknown step {step}")
        delivery = self._delivery(name, self.pulls[step.pull], params)
        self.deliveries.append(delivery)
        return delivery

    def _open(self, pull: int) -> None:
        branch = f"vet-{pull:02}"
        self.fake.create_branch(self.repo, branch)
        self.pulls[pull] = Pull(0, branch)
        self._push(pull, "plan")
        opened = self.fake.open_pull_request(
            self.repo, branch, title=f"Vet plan {pull}", user="author"
        )
        self.pulls[pull].number = int(opened["number"])

    def _push(self, pull: int, what: str) -> None:
        self._edits[pull] += 1
        edit = self._edits[pull]
        if what == "plan":  # new text of the plan: approvals given before go stale
            files = {plan_path(pull): PLAN.replace("once a year", f"{edit + 1} times a year")}
        else:  # another page: approvals stay
            files = {notes_path(pull): f"# Notes\n\nRevision {edit}.\n"}
        branch = self.pulls[pull].branch
        commit = self.fake.commit(self.repo, branch, files, message=f"Edit {edit}", author="author")
        self.pulls[pull].heads.append(str(commit["sha"]))

    def _delivery(self, name: str, pull: Pull, params: dict[str, Any]) -> Delivery:
        built = self.fake.webhook(name, repo=self.repo, number=pull.number, **params)
        return Delivery(
            str(uuid.uuid4()), name, built["event"], json.dumps(built["payload"]).encode()
        )


class Sender:
    """Delivers to whichever web server is up. A try that gets no answer (the server is down,
    or was killed while answering) is made again under the same GUID, as GitHub redelivers;
    so are 5xx answers. Remembers the deliveries answered 2xx."""

    def __init__(self, url: Callable[[], str], patience: float = 60.0) -> None:
        self.url = url
        self.patience = patience  # seconds without any answer before giving up
        self.accepted: dict[str, Delivery] = {}
        self.sent = 0
        self.statuses: Counter[int] = Counter()
        self.unanswered = 0  # tries that got no answer

    def send(self, delivery: Delivery) -> int:
        self.sent += 1
        deadline = time.monotonic() + self.patience
        while True:
            try:
                status, _ = post(self.url() + "/webhooks", delivery.body, delivery.headers())
            except (OSError, http.client.HTTPException, ValueError) as error:
                self.unanswered += 1
                if time.monotonic() > deadline:
                    raise AssertionError(f"no answer for {self.patience}s: {error}") from error
                time.sleep(0.05)
                continue
            self.statuses[status] += 1
            if status < 500:
                break
            time.sleep(0.05)
        if 200 <= status < 300:
            self.accepted[delivery.guid] = delivery
        return status


Around = Callable[[Step], AbstractContextManager[object]]


def play(
    traffic: Traffic, scenario: Scenario, sender: Sender, around: Around = lambda _: nullcontext()
) -> None:
    """Every step of the scenario, each delivered before the next happens; `around(step)`
    is entered just before the step's delivery is sent and left after it was answered."""
    for step in scenario.steps:
        delivery = traffic.play(step)
        with around(step):
            status = sender.send(delivery)
        assert status in (200, 202), f"{step}: answered {status}"


# -- rapidvet processes --------------------------------------------------------------------


@contextmanager
def running_worker(env: dict[str, str], tmp: Path) -> Iterator[subprocess.Popen[str]]:
    """A `rapidvet worker` process, its log in `tmp`."""
    log = tmp / f"worker-{uuid.uuid4().hex[:6]}.log"
    with open(log, "w") as sink:
        process = subprocess.Popen([RAPIDVET, "worker"], env=env, cwd=tmp, stderr=sink, text=True)
    try:
        yield process
    finally:
        stop(process)


class Fleet:
    """The rapidvet processes sharing one database: a web server (`rapidvet serve`, which runs
    the worker itself unless `workers` `rapidvet worker` processes are given). Any process can
    be SIGKILLed and started again; a new web server listens on a new port."""

    def __init__(self, stack: ExitStack, env: dict[str, str], tmp: Path, workers: int = 0) -> None:
        self.stack, self.env, self.tmp = stack, env, tmp
        self.web_args = ("--no-worker",) if workers else ()
        self.web: Server = self._start_web()
        self.workers = [self._start_worker() for _ in range(workers)]
        self.kills: Counter[str] = Counter()
        self.restarts: list[float] = []  # seconds each restart took until it served

    def _start_web(self) -> Server:
        return self.stack.enter_context(running_service(self.env, self.tmp, *self.web_args))

    def _start_worker(self) -> subprocess.Popen[str]:
        return self.stack.enter_context(running_worker(self.env, self.tmp))

    @property
    def url(self) -> str:
        return self.web.url

    @property
    def size(self) -> int:
        return 1 + len(self.workers)

    def kill(self, index: int) -> None:
        """SIGKILL process `index`: 0 is the web server, then come the workers."""
        victim = self.web.process if index == 0 else self.workers[index - 1]
        os.kill(victim.pid, signal.SIGKILL)
        # Reaped at once, as a supervisor would: a zombie still looks alive to `kill(pid, 0)`,
        # which is how the SQLite backend tells a dead worker's lease.
        victim.wait()
        self.kills["web" if index == 0 else "worker"] += 1

    def start(self, index: int) -> None:
        """Start process `index` again (a web server: once it listens)."""
        started = time.monotonic()
        if index == 0:
            self.web = self._start_web()
        else:
            self.workers[index - 1] = self._start_worker()
        self.restarts.append(time.monotonic() - started)

    def restart(self, index: int) -> None:
        self.kill(index)
        self.start(index)

    def logs(self, tail: int = 3000) -> str:
        """The end of every log, newest process last: for failure messages."""
        logs = sorted(self.tmp.glob("*.log"), key=lambda path: path.stat().st_mtime)
        return "\n".join(f"== {log.name}\n{log.read_text()[-tail:]}" for log in logs[-4:])

    def error_lines(self) -> list[str]:
        """Every log line at level error, from every process that ran."""
        return [
            line
            for log in self.tmp.glob("*.log")
            for line in log.read_text().splitlines()
            if '"level": "error"' in line
        ]


def kill_repeatedly(
    fleet: Fleet,
    rng: random.Random,
    kills: int,
    progress: Callable[[], float],
    uptime: tuple[float, float] = (0.2, 1.0),
) -> None:
    """SIGKILL a random process of the fleet `kills` times, starting another each time: once
    the traffic's `progress` (0 to 1) passes a random mark, after a random uptime. Marks are
    spread over the whole traffic; those past its end fall while the backlog is worked off."""
    for mark in sorted(rng.uniform(0, 1.1) for _ in range(kills)):
        while progress() < min(mark, 1):
            time.sleep(0.02)
        time.sleep(rng.uniform(*uptime))
        fleet.restart(rng.randrange(fleet.size))


# -- what rapidvet did ----------------------------------------------------------------------


def wait_idle(database_url: str, seconds: float) -> JobCounts:
    """The job counts once no job is queued or running (a retry scheduled for later counts as
    queued), or when `seconds` have passed."""
    store = open_store(database_url)
    try:
        deadline = time.monotonic() + seconds
        while ((counts := store.job_counts()).queued or counts.running) and (
            time.monotonic() < deadline
        ):
            time.sleep(0.2)
        return counts
    finally:
        store.close()


def settle(database_url: str, timeout: float, describe: Callable[[], str]) -> JobCounts:
    """Wait until every job is done or dead."""
    counts = wait_idle(database_url, timeout)
    if counts.queued or counts.running:
        raise AssertionError(f"jobs left after {timeout}s: {counts}\n{describe()}")
    return counts


# procrastinate's job statuses, named as the SQLite backend names its states
PROCRASTINATE_STATES = {"todo": "queued", "doing": "running", "succeeded": "done", "failed": "dead"}


def job_states(database_url: str) -> dict[str, str]:
    """Each stored delivery's job state: queued, running, done or dead."""
    if database_url.startswith("sqlite:///"):
        path = database_url.removeprefix("sqlite:///")
        with closing(sqlite3.connect(path)) as db:
            rows = db.execute(
                "SELECT d.id, j.state FROM deliveries d JOIN jobs j ON j.delivery_id = d.id"
            ).fetchall()
        return dict(rows)
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT d.id, j.status::text FROM rapidvet_deliveries d"
            " LEFT JOIN procrastinate_jobs j ON j.id = d.job_id"
        ).fetchall()
    return {guid: PROCRASTINATE_STATES.get(status, str(status)) for guid, status in rows}


def rerun_jobs(database_url: str) -> int:
    """Jobs tried more than once: cut short by a kill, or failed and retried."""
    if database_url.startswith("sqlite:///"):
        path = database_url.removeprefix("sqlite:///")
        with closing(sqlite3.connect(path)) as db:
            (count,) = db.execute("SELECT count(*) FROM jobs WHERE attempts > 1").fetchone()
        return int(count)
    with psycopg.connect(database_url) as conn:
        row = conn.execute(  # procrastinate counts a try as it ends, or is put back
            "SELECT count(*) FROM procrastinate_jobs WHERE queue_name = %s AND attempts > 1",
            (DELIVERY_QUEUE,),
        ).fetchone()
    return int(row[0]) if row else 0


def check_runs_per_head(fake: Any, repo: str) -> Counter[tuple[str, str]]:
    """How many check runs each (head commit, check name) has."""
    return Counter((run["head_sha"], run["name"]) for run in fake.check_runs(repo))


def conclusions(fake: Any, repo: str, head: str) -> dict[str, str]:
    """Check name -> conclusion on one commit."""
    return {run["name"]: run["conclusion"] for run in fake.check_runs(repo, head_sha=head)}


def merge_comments(fake: Any, repo: str, number: int) -> int:
    return sum(MERGE_MARKER in (c["body"] or "") for c in fake.comments(repo, number))


def record_commits(fake: Any, repo: str, branch: str = "main") -> Counter[int]:
    """Merge-record commits on the branch's history, per pull request (`Vetted-in: #N`).
    Reads the in-process fake's Git objects: no REST call lists commits."""
    owner, name = repo.split("/")
    git = fake.state.repo(owner, name).git
    counts: Counter[int] = Counter()
    for sha in git.ancestors(fake.branch_sha(repo, branch)):
        counts.update(int(n) for n in VETTED_IN.findall(git.commit(sha).message))
    return counts


def ref_updates(fake: Any, repo: str, branch: str = "main") -> int:
    """Updates of the branch through the Git Data API that GitHub accepted."""
    path = f"/repos/{repo}/git/refs/heads/{branch}"
    return sum(
        r["method"] == "PATCH" and r["path"] == path and r["status"] == 200 for r in fake.requests()
    )


@dataclass(frozen=True)
class PullState:
    """Where one pull request ended: comparable between runs, whatever its commit SHAs."""

    checks_per_head: tuple[tuple[str, ...], ...]  # check names on each head, in push order
    final: tuple[tuple[str, str], ...]  # (check name, conclusion) on the last head
    comments: int
    records: int


def pull_states(fake: Any, traffic: Traffic) -> dict[int, PullState]:
    runs = check_runs_per_head(fake, traffic.repo)
    records = record_commits(fake, traffic.repo)
    return {
        index: PullState(
            tuple(tuple(sorted(n for h, n in runs.elements() if h == head)) for head in pull.heads),
            tuple(sorted(conclusions(fake, traffic.repo, pull.heads[-1]).items())),
            merge_comments(fake, traffic.repo, pull.number),
            records[pull.number],
        )
        for index, pull in sorted(traffic.pulls.items())
    }


def expected_state(scenario: Scenario, index: int, pull: Pull) -> PullState:
    """What the script says pull request `index` ends with: both checks on every head, the
    scripted conclusion on the last, one comment and one record commit when merged."""
    merged = int(scenario.merged(index))
    return PullState(
        tuple((RAPID, STRUCTURE) for _ in pull.heads),
        ((RAPID, scenario.outcomes[index]), (STRUCTURE, "success")),
        merged,
        merged,
    )
