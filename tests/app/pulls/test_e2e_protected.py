"""Protected base branches end to end: a direct merge record that a branch rule refuses goes to
a follow-up pull request, and the decision comment and the pull request's timeline say so."""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

from rapidvet.app.pulls import summary, timeline
from rapidvet.app.store import open_store
from rapidvet.app.web.pages.pull_view import pull_details
from tests.support.e2e import PLAN_PATH, REPO, Handbook, open_handbook

FOLLOW_UP = "rapidvet/vetting-{number}"


@pytest.fixture
def handbook(fake_github: Any, tmp_path: Path) -> Any:
    with ExitStack() as stack:
        yield open_handbook(stack, fake_github, tmp_path)


def pull_view(handbook: Handbook) -> dict[str, Any]:
    """What the pull request's details page shows, from the server's database."""
    store = open_store(f"sqlite:///{handbook.server.database}")
    try:
        return pull_details(
            REPO,
            handbook.number,
            summary.stored(store, REPO, handbook.number),
            timeline.pull_events(store, REPO, handbook.number),
            web_url="https://github.com",
        )
    finally:
        store.close()


def ref_updates(handbook: Handbook) -> list[tuple[str, int]]:
    return [
        (r["path"].rsplit("/refs/", 1)[1], r["status"])
        for r in handbook.fake.requests()
        if r["method"] == "PATCH" and "/git/refs/" in r["path"]
    ]


@pytest.mark.parametrize(
    "protect",
    [
        lambda fake: fake.add_ruleset(REPO, [{"type": "pull_request"}]),
        lambda fake: fake.protect_branch(REPO, "main", require_pull_request=True),
    ],
    ids=["ruleset", "classic"],
)
def test_a_refused_direct_record_becomes_a_follow_up_pull_request(
    handbook: Handbook, protect: Any
) -> None:
    fake = handbook.fake
    protect(fake)
    handbook.approve_and_merge()
    main_before = fake.branch_sha(REPO, "main")
    handbook.send("pull_request.closed")

    branch = FOLLOW_UP.format(number=handbook.number)
    # One refused try on main, no retrying against the rule, then the follow-up branch.
    assert ref_updates(handbook) == [("heads/main", 422), (f"heads/{branch}", 200)]
    assert fake.branch_sha(REPO, "main") == main_before
    recorded = fake.read_file(REPO, PLAN_PATH, ref=branch)
    assert recorded is not None and "| Vetted date | Feb 3, 2026 |" not in recorded
    follow_up = fake.pull_request(REPO, handbook.number + 1)
    assert (follow_up["head"]["ref"], follow_up["base"]["ref"]) == (branch, "main")
    [comment] = fake.comments(REPO, handbook.number)
    assert "**Recorded through a follow-up pull request:** `main` refused" in comment["body"]
    assert f"`{branch}`" in comment["body"] and "Not recorded" not in comment["body"]

    # The pull request's details page shows why.
    view = pull_view(handbook)
    texts = [event["text"] for event in view["timeline"]]
    assert any(t.startswith("main refused the direct record (") for t in texts), texts

    # A redelivery changes nothing.
    handbook.send("pull_request.closed")
    assert len(fake.comments(REPO, handbook.number)) == 1
    assert len(ref_updates(handbook)) == 2


def test_with_the_app_on_the_bypass_list_the_record_lands_on_main(handbook: Handbook) -> None:
    fake = handbook.fake
    fake.add_ruleset(REPO, [{"type": "pull_request"}], bypass_apps=[fake.state.require_app().id])
    handbook.approve_and_merge()
    handbook.send("pull_request.closed")
    assert ref_updates(handbook) == [("heads/main", 200)]
    [comment] = fake.comments(REPO, handbook.number)
    assert "follow-up" not in comment["body"]
