"""A merge group's check runs, in process against the fake GitHub: what reaches GitHub's URLs
from a merge_group payload."""

from __future__ import annotations

import pytest
from gidgethub.abc import GitHubAPI

from rapidvet.app.pulls.merge_queue import check_group
from tests.support.e2e import REPO
from tests.support.installed_app import InstalledApp


@pytest.mark.parametrize(
    "head_sha",
    ["../../../../user", "a" * 39, "A" * 40, "a" * 40 + "/..", "a" * 40 + "?x=1", None],
)
def test_a_group_whose_head_is_no_commit_sha_is_not_checked(app: InstalledApp, head_sha) -> None:
    """The head goes into the compare URL (`{+basehead}`, where / stays a path separator):
    anything but 40 hex digits is refused before any request."""
    group = {"head_ref": f"refs/heads/gh-readonly-queue/main/pr-7-{'b' * 40}"}
    if head_sha is not None:
        group["head_sha"] = head_sha
    before = app.seen()

    async def steps(gh: GitHubAPI) -> None:
        await check_group(gh, app.context(), REPO, group)

    app.run(steps)
    assert [r["path"] for r in app.requests(before) if "/access_tokens" not in r["path"]] == []
    assert app.fake.check_runs(REPO) == []
