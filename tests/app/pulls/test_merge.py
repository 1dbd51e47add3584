"""The merge record in this process (`app.pulls.merge`, as the pull_request closed handler calls
it) against the fake GitHub: one commit and one comment per merged pull request, whatever is
delivered twice or stops half way, and only plans the Decider approved are vetted."""

from __future__ import annotations

import json
import re
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

import pytest
from gidgethub import GitHubBroken
from gidgethub.abc import GitHubAPI

from rapidvet.app.handbook import unvetted_merges
from rapidvet.app.pulls import merge, timeline
from rapidvet.app.pulls.evaluation import judged
from rapidvet.app.store import Store
from rapidvet.app.store.records import MERGE_RECORD, TIMELINE, merge_key, pull_key
from rapidvet.checks.dates import format_date, parse_date
from rapidvet.workflows.merge_message import merge_record_marker
from tests.support.e2e import PLAN, PLAN_PATH, REPO
from tests.support.installed_app import WEB_URL, DiesWriting, InstalledApp, Killed

VETTED = "| Vetted date | Feb 3, 2026 |"  # the plan's Vetted date before any merge
FOLLOW_UP = "rapidvet/vetting-{number}"


def merged(app: InstalledApp, *approvers: str) -> dict[str, Any]:
    """A pull request editing the plan, approved by `approvers` and merged by a maintainer:
    the pull request as the closed event carries it."""
    number = app.propose({PLAN_PATH: PLAN.replace("once a year", "twice a year")})
    app.approve(number, *approvers)
    return dict(app.fake.merge_pull_request(REPO, number))


def record(app: InstalledApp, pull: dict[str, Any], store: Store | None = None) -> merge.Progress:
    """One try of the closed event's job: judge the merged pull request, record it."""

    async def steps(gh: GitHubAPI) -> merge.Progress:
        evaluation = await judged(gh, app.context(store), REPO, pull["number"], pull)
        assert evaluation is not None
        return await merge.record(gh, store or app.store, evaluation, WEB_URL)

    return app.run(steps)


def stored(app: InstalledApp, pull: dict[str, Any]) -> dict[str, Any]:
    """The merge's `merge_record`: its progress as the store keeps it, or {} before any."""
    key = merge_key(REPO, pull["number"], pull["merge_commit_sha"])
    return MERGE_RECORD.get(app.store, key) or {}


def calls(app: InstalledApp, method: str, pattern: str, since: int = 0) -> list[dict[str, Any]]:
    """The GitHub requests of `method` whose path matches `pattern`, after the first `since`."""
    return [
        r
        for r in app.requests(since)
        if r["method"] == method and re.search(pattern, r["path"]) and r["status"] < 300
    ]


def commit_messages(app: InstalledApp) -> list[str]:
    return [r["body"]["message"] for r in calls(app, "POST", r"/git/commits$")]


def test_an_approved_merge_is_one_commit_vetting_the_plan_and_one_comment(
    app: InstalledApp,
) -> None:
    fake = app.fake
    base = fake.branch_sha(REPO, "main")
    pull = merged(app, "dee", "lee")
    merge_commit = fake.branch_sha(REPO, "main")
    assert not merge.recorded(app.store, REPO, pull)

    progress = record(app, pull)

    assert progress.commit == fake.branch_sha(REPO, "main") != merge_commit
    page = fake.read_file(REPO, PLAN_PATH)
    merged_on = datetime.fromisoformat(pull["merged_at"]).astimezone(UTC).date()
    before = parse_date("Feb 3, 2026")
    assert before is not None
    vetted = format_date(merged_on, before.style)  # in the style of the plan's own date
    assert f"| Vetted date | {vetted} |" in page
    # The version before the merge, at the plan's heading, labelled with its Vetted date.
    link = f"[Feb 3, 2026]({WEB_URL}/{REPO}/blob/{base}/{PLAN_PATH}#fy27-ops-vpmom)"
    assert f"| Previous versions | {link}, [Feb 1, 2025](https://example.com/old) |" in page
    [message] = commit_messages(app)
    trailers = re.findall(r"^[A-Z][a-z]+(?:-[a-z]+)+: .*$", message, re.MULTILINE)
    assert trailers == ["Decided-by: @dee", "Agreed-by: @lee", f"Vetted-in: #{pull['number']}"]
    [comment] = fake.comments(REPO, pull["number"])
    assert comment["id"] == progress.comment
    assert comment["body"].startswith(merge_record_marker(pull["number"], pull["merge_commit_sha"]))
    assert "@dee" in comment["body"] and "Merged without vetting" not in comment["body"]
    assert stored(app, pull) == asdict(progress)
    assert merge.recorded(app.store, REPO, pull)
    assert unvetted_merges.unvetted(app.store, REPO) == {}


def test_a_redelivered_merge_writes_nothing_more(app: InstalledApp) -> None:
    pull = merged(app, "dee", "lee")
    first = record(app, pull)
    before = app.seen()

    again = record(app, pull)

    assert again == first
    writes = [r for r in app.requests(before) if r["method"] != "GET" and r["repository"]]
    assert writes == []
    assert len(commit_messages(app)) == 1
    assert len(app.fake.comments(REPO, pull["number"])) == 1
    # The details page shows the record once.
    shown = [e["kind"] for e in timeline.pull_events(app.store, REPO, pull["number"])]
    assert [k for k in shown if k.startswith("merge")] == ["merge_commit", "merge_comment"]


def test_a_comment_that_failed_after_the_commit_is_posted_once_on_the_retry(
    app: InstalledApp,
) -> None:
    fake = app.fake
    pull = merged(app, "dee", "lee")
    fake.add_fault(rf"/issues/{pull['number']}/comments$", method="POST", status=502, times=1)
    with pytest.raises(GitHubBroken):
        record(app, pull)
    half_way = stored(app, pull)
    assert half_way["commit"] == fake.branch_sha(REPO, "main") and half_way["comment"] is None
    assert fake.comments(REPO, pull["number"]) == []
    before = app.seen()

    retried = record(app, pull)

    assert retried.commit == half_way["commit"]  # the retry went on from the stored progress
    assert calls(app, "POST", r"/git/", before) == []
    assert calls(app, "PATCH", r"/git/refs/", before) == []
    [comment] = fake.comments(REPO, pull["number"])
    assert retried.comment == comment["id"]


def test_a_comment_posted_before_a_crash_is_found_not_posted_again(app: InstalledApp) -> None:
    pull = merged(app, "dee", "lee")
    # Killed right after GitHub took the comment, before the progress could say so.
    dying = DiesWriting(
        app.database,
        lambda scope, value: (
            scope == MERGE_RECORD.scope and json.loads(value)["comment"] is not None
        ),
    )
    try:
        with pytest.raises(Killed):
            record(app, pull, dying)
    finally:
        dying.close()
    [posted] = app.fake.comments(REPO, pull["number"])
    assert stored(app, pull)["comment"] is None
    before = app.seen()

    retried = record(app, pull)

    assert retried.comment == posted["id"]
    assert calls(app, "POST", r"/comments$", before) == []
    assert len(app.fake.comments(REPO, pull["number"])) == 1
    assert len(commit_messages(app)) == 1


@pytest.mark.parametrize("dies_at", [timeline.MERGE_COMMIT, timeline.MERGE_COMMENT])
def test_a_worker_killed_putting_the_merge_on_the_timeline_leaves_one_of_each_event(
    app: InstalledApp, dies_at: str
) -> None:
    pull = merged(app, "dee", "lee")
    # Killed as it adds the merge's commit event (nothing of the merge on the timeline yet),
    # or its comment event (the commit event already there), after the comment was posted.
    dying = DiesWriting(
        app.database,
        lambda scope, value: scope == TIMELINE.scope and json.loads(value)["kind"] == dies_at,
    )
    try:
        with pytest.raises(Killed):
            record(app, pull, dying)
    finally:
        dying.close()
    assert not merge.recorded(app.store, REPO, pull)  # so the redelivered job tries again

    record(app, pull)

    subject = pull_key(REPO, pull["number"])
    kinds = [event["kind"] for event in timeline.events(app.store, subject)]
    assert kinds.count(timeline.MERGE_COMMIT) == kinds.count(timeline.MERGE_COMMENT) == 1
    assert merge.recorded(app.store, REPO, pull)
    assert len(app.fake.comments(REPO, pull["number"])) == 1


def test_a_merge_without_the_deciders_approval_is_recorded_as_not_vetted(
    app: InstalledApp,
) -> None:
    fake = app.fake
    pull = merged(app, "lee")  # an A holder approved; the Decider did not
    merge_commit = fake.branch_sha(REPO, "main")

    progress = record(app, pull)

    assert progress.commit is None and fake.branch_sha(REPO, "main") == merge_commit
    page = fake.read_file(REPO, PLAN_PATH)
    assert VETTED in page and "twice a year" in page
    assert commit_messages(app) == []
    [comment] = fake.comments(REPO, pull["number"])
    assert "#### Merged without vetting" in comment["body"]
    assert "missing approval: D DEE (@dee): waiting" in comment["body"]
    [(plan, last)] = unvetted_merges.unvetted(app.store, REPO).items()
    assert (plan.path, last.number, last.sha) == (PLAN_PATH, pull["number"], merge_commit)
    assert last.missing


def test_a_branch_rule_refusing_the_direct_commit_leads_to_a_follow_up_pull_request(
    app: InstalledApp,
) -> None:
    fake = app.fake
    fake.add_ruleset(REPO, [{"type": "pull_request"}])
    pull = merged(app, "dee", "lee")
    merge_commit = fake.branch_sha(REPO, "main")

    progress = record(app, pull)

    branch = FOLLOW_UP.format(number=pull["number"])
    assert fake.branch_sha(REPO, "main") == merge_commit
    assert progress.refused is not None
    assert progress.refused.startswith("Repository rule violations found")
    assert progress.commit == fake.branch_sha(REPO, branch)
    refs = [
        (r["path"].rsplit("/refs/", 1)[1], r["status"])
        for r in app.requests()
        if r["method"] == "PATCH" and "/git/refs/" in r["path"]
    ]
    assert refs == [("heads/main", 422), (f"heads/{branch}", 200)]  # no retrying against a rule
    page = fake.read_file(REPO, PLAN_PATH, ref=branch)
    assert VETTED not in page and f"Vetted-in: #{pull['number']}" in commit_messages(app)[-1]
    follow_up = fake.pull_request(REPO, pull["number"] + 1)
    assert (follow_up["head"]["ref"], follow_up["base"]["ref"]) == (branch, "main")
    [comment] = fake.comments(REPO, pull["number"])
    assert "**Recorded through a follow-up pull request:** `main` refused" in comment["body"]
    assert f"`{branch}`" in comment["body"] and "Not recorded" not in comment["body"]
