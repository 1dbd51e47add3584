"""A pull request whose branch carries a hostile `.github/rapid.yml`: the App parses the head's
rapid.yml when a pull request changes it, so an alias bomb there reaches the server process.
It is refused as an ordinary config problem, shown on the RAPID review check run, within a
memory ceiling (the 108 KB bomb once took the server from 62 MB to 654 MB)."""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

from rapidvet.app.pulls.check_runs import RAPID
from rapidvet.workflows.config_errors import MAX_PROBLEMS
from tests.app.web.test_hostile_webhooks import rss_mib
from tests.support.e2e import CONFIG, FILES, open_handbook
from tests.workflows.test_config_limits import alias_bomb, many_bad_holders

RSS_LIMIT_MIB = 300
SUMMARY_LIMIT = 2000  # characters: one problem, quoting a value's start at most
REFUSED_TITLE = ".github/rapid.yml on this pull request's branch is invalid"


@pytest.mark.parametrize(
    ("size", "uses", "refusal"),
    [
        (100_000, 2000, "bytes with aliases written out"),
        (600_000, 2000, "file is larger than the limit"),
    ],
    ids=["108 KB", "600 KB"],
)
def test_an_alias_bomb_on_the_branch_is_refused_within_memory(
    fake_github: Any, tmp_path: Path, size: int, uses: int, refusal: str
) -> None:
    with ExitStack() as stack:
        handbook = open_handbook(stack, fake_github, tmp_path)
        handbook.push({".github/rapid.yml": alias_bomb(size, uses)}, message="New policy")
        handbook.send("pull_request.opened")
        run = handbook.check_run(RAPID)
        peak = rss_mib(handbook.server.process.pid)["VmHWM"]
        print(f"\n{size // 1000} KB alias bomb: server peak RSS {peak:.0f} MiB")
        assert handbook.dead_jobs() == []
        assert run["conclusion"] == "failure"
        assert run["output"]["title"] == REFUSED_TITLE
        assert refusal in run["output"]["summary"]
        assert len(run["output"]["summary"]) < SUMMARY_LIMIT
        (note,) = run["annotations"]
        assert note["path"] == ".github/rapid.yml"
        assert peak < RSS_LIMIT_MIB


def test_a_branch_rapid_yml_with_tens_of_thousands_of_problems_lists_the_first(
    fake_github: Any, tmp_path: Path
) -> None:
    # Each problem was an annotation and a line of the summary: GitHub takes 65 535 characters.
    with ExitStack() as stack:
        handbook = open_handbook(stack, fake_github, tmp_path)
        handbook.push({".github/rapid.yml": many_bad_holders(40_000)}, message="New policy")
        handbook.send("pull_request.opened")
        run = handbook.check_run(RAPID)
        assert handbook.dead_jobs() == []
        assert run["output"]["title"] == REFUSED_TITLE
        summary = run["output"]["summary"]
        assert summary.endswith(f"… and {40_001 - MAX_PROBLEMS} more problems; fix these first")
        assert len(summary) < 65_535
        assert len(run["annotations"]) == MAX_PROBLEMS + 1


def test_a_team_of_another_organization_is_reported_and_never_looked_up(
    fake_github: Any, tmp_path: Path
) -> None:
    # The job's client may read only its own organization's teams: asking for this one
    # killed the job, so a typo or a stranger's RAPID line stopped every evaluation.
    policy = CONFIG.replace('"@acme/leads"', '"@other-org/leads"')
    with ExitStack() as stack:
        handbook = open_handbook(
            stack, fake_github, tmp_path, {**FILES, ".github/rapid.yml": policy}
        )
        fake_github.set_team_members("other-org", "leads", ["mallory"])
        handbook.send("pull_request.opened")
        run = handbook.check_run(RAPID)
        assert handbook.dead_jobs() == []
        assert run["conclusion"] == "failure"
        assert (
            "@other-org/leads is not a team of acme; only teams of the repository's "
            "organization can hold roles"
        ) in run["output"]["text"]
        paths = [request["path"] for request in fake_github.requests()]
        assert not [path for path in paths if path.startswith("/orgs/other-org")]
        asked = [
            r["body"] for r in fake_github.requests() if r["path"].endswith("/requested_reviewers")
        ]
        assert asked and all(body["team_reviewers"] == [] for body in asked)
