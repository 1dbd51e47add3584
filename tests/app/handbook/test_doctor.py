"""`rapidvet doctor OWNER/REPO` as a real process against the fake GitHub: a well set-up
repository passes; each thing it can find wrong is named with what to click."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.support.e2e import CONFIG, FILES, REPO, app_env, create_handbook, install_app
from tests.support.service import RAPIDVET

CHECKS_RULE = {
    "type": "required_status_checks",
    "parameters": {
        "required_status_checks": [{"context": "RAPID review"}],
        "strict_required_status_checks_policy": False,
    },
}


@dataclass
class Site:
    """The fake GitHub, and `doctor(*args)` running `rapidvet doctor` as the installed App."""

    fake: Any
    doctor: Callable[..., subprocess.CompletedProcess[str]]

    def __getattr__(self, name: str) -> Any:  # the fake's control operations
        return getattr(self.fake, name)


@pytest.fixture
def site(fake_github: Any, tmp_path: Path) -> Site:
    """The App installed on acme and its handbook with rapid.yml."""
    credentials = install_app(fake_github)
    create_handbook(fake_github, REPO, FILES)
    env = app_env(fake_github, credentials, tmp_path)

    def doctor(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [RAPIDVET, "doctor", *args],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
        )

    return Site(fake_github, doctor)


def well_set_up(site: Site) -> None:
    """RAPID review required by a ruleset the App may bypass."""
    site.add_ruleset(REPO, [CHECKS_RULE], bypass_apps=[site.fake.state.require_app().id])


def test_a_well_set_up_repository_passes(site: Site) -> None:
    well_set_up(site)
    done = site.doctor(REPO)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.splitlines() == [
        "ok: `RAPID review` is a required check on main.",
        "ok: The App can commit the merge record to main.",
        "ok: The App can see the team @acme/leads.",
    ]


def problems(done: subprocess.CompletedProcess[str]) -> list[str]:
    assert done.returncode == 1, done.stdout + done.stderr
    return [line for line in done.stdout.splitlines() if not line.startswith("ok: ")]


def test_rapid_review_not_required(site: Site) -> None:
    found = problems(site.doctor(REPO))
    assert found[0] == (
        "problem: `RAPID review` is not a required check on main: a pull request can be "
        "merged before its plan is vetted."
    )
    assert found[1].startswith("  fix: Settings → Rules → Rulesets → New branch ruleset")
    assert len(found) == 2


def test_a_ruleset_without_the_app_on_its_bypass_list(site: Site) -> None:
    site.add_ruleset(REPO, [CHECKS_RULE, {"type": "pull_request"}], name="guard main")
    found = problems(site.doctor(REPO))
    assert found == [
        "problem: The ruleset “guard main” stops the App from committing the merge record to "
        "main; records go to follow-up pull requests instead.",
        "  fix: Settings → Rules → Rulesets → “guard main” → Bypass list → Add bypass → this "
        "App (Always allow).",
    ]


def test_classic_protection(site: Site) -> None:
    well_set_up(site)
    site.protect_branch(REPO, "main", required_checks=["RAPID review"])
    found = problems(site.doctor(REPO))
    assert found[0].startswith("problem: Classic branch protection on main stops the App")
    assert "merge.record: pull_request" in found[1]


def test_a_team_the_app_cannot_see(site: Site) -> None:
    well_set_up(site)
    config = CONFIG.replace('LEADS: "@acme/leads"', 'LEADS: "@acme/ghosts"')
    site.commit(REPO, "main", {".github/rapid.yml": config}, message="Ghosts")
    found = problems(site.doctor(REPO))
    assert found[0] == "problem: The App cannot see the team @acme/ghosts."
    assert found[1].startswith("  fix: check the team's name in rapid.yml")


def test_a_follow_up_record_needs_no_push(site: Site) -> None:
    site.add_ruleset(REPO, [CHECKS_RULE, {"type": "pull_request"}])
    config = CONFIG.replace("record: direct", "record: pull_request")
    site.commit(REPO, "main", {".github/rapid.yml": config}, message="Follow-ups")
    done = site.doctor(REPO)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "ok: merge.record is pull_request: the App does not commit to main." in done.stdout


def test_not_installed_and_bad_usage(site: Site) -> None:
    site.create_repo("elsewhere/handbook", files={"README.md": "hi\n"})
    done = site.doctor("elsewhere/handbook")
    assert done.returncode == 1
    assert "problem: the App is not installed on elsewhere/handbook." in done.stdout
    done = site.doctor("not a repository")
    assert done.returncode == 2
    assert "is not OWNER/REPO" in done.stderr


def test_a_team_without_access_to_the_repository(site: Site) -> None:
    well_set_up(site)
    site.set_team_repository("acme", "leads", REPO, None)
    found = problems(site.doctor(REPO))
    assert found == [
        f"problem: The team @acme/leads has no access to {REPO}: GitHub refuses to request "
        "its review.",
        "  fix: Settings → Collaborators and teams → Add teams → @acme/leads (Read or more).",
    ]
