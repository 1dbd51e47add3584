"""The evaluation in this process (`evaluate`, as the pull request handlers call it) against the
fake GitHub: two check runs per head commit, created once and then updated, each reviewer asked
once per content of the plans, the summary the details page reads, and a RAPID review that fails
closed when the policy cannot be read."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from gidgethub.abc import GitHubAPI

from rapidvet.app.jobs.isolation import CheckPool
from rapidvet.app.pulls.evaluation import evaluate
from rapidvet.app.store import Store
from rapidvet.app.store.records import ASKED, CHECK_RUN, EVALUATION, check_run_key, pull_key
from tests.support.e2e import FILES, PLAN, PLAN_PATH, REPO
from tests.support.fake_github import FakeGitHub
from tests.support.installed_app import DiesWriting, InstalledApp, Killed, installed_app

NOTES = "handbook/ops/notes.md"
EDITED = {PLAN_PATH: PLAN.replace("once a year", "twice a year")}
BROKEN = "version: 1\npolicy:\n  team_approval: some\n"  # line 3: not any | all
RUNS = ("VPMOM structure", "RAPID review")
# The RAPID review check run's conclusion for each conclusion of the decision.
SHOWN_AS = {
    "success": "success",
    "failure": "failure",
    "pending": "action_required",
    "neutral": "neutral",
}


def evaluated(
    app: InstalledApp, number: int, store: Store | None = None
) -> dict[str, dict[str, Any]]:
    """Evaluate the pull request as one job; its head commit's check runs, by name."""

    async def steps(gh: GitHubAPI) -> None:
        await evaluate(gh, app.context(store), REPO, number)

    app.run(steps)
    head = app.fake.pull_request(REPO, number)["head"]["sha"]
    runs = app.fake.check_runs(REPO, head_sha=head)
    assert sorted(r["name"] for r in runs) == sorted(RUNS), "one check run of each name"
    return {r["name"]: r for r in runs}


def review_requests(app: InstalledApp, since: int = 0) -> list[dict[str, Any]]:
    return [
        r["body"]
        for r in app.requests(since)
        if r["method"] == "POST" and r["path"].endswith("/requested_reviewers")
    ]


def check_run_calls(app: InstalledApp, method: str) -> list[str]:
    """The paths of the check-run calls of `method` made so far."""
    return [
        r["path"]
        for r in app.requests()
        if r["method"] == method and re.search(r"/check-runs(/\d+)?$", r["path"])
    ]


def test_both_check_runs_are_created_once_per_head_and_updated_after(app: InstalledApp) -> None:
    number = app.propose(EDITED)
    first = evaluated(app, number)
    assert first["VPMOM structure"]["conclusion"] == "success"
    assert first["RAPID review"]["conclusion"] == "action_required"

    app.approve(number, "dee", "lee")
    again = evaluated(app, number)

    assert {name: run["id"] for name, run in again.items()} == {
        name: run["id"] for name, run in first.items()
    }
    assert again["RAPID review"]["conclusion"] == "success"
    assert len(check_run_calls(app, "POST")) == 2
    rapid = first["RAPID review"]["id"]
    assert check_run_calls(app, "PATCH") == [f"/repos/{REPO}/check-runs/{rapid}"]
    head = app.fake.pull_request(REPO, number)["head"]["sha"]
    assert CHECK_RUN.get(app.store, check_run_key(REPO, head, "RAPID review")) == rapid


def test_a_check_run_created_before_a_crash_is_updated_on_the_retry(app: InstalledApp) -> None:
    number = app.propose(EDITED)
    # Killed right after GitHub created the first check run, before its id was kept.
    dying = DiesWriting(app.database, lambda scope, _: scope == CHECK_RUN.scope)
    try:
        with pytest.raises(Killed):
            evaluated(app, number, dying)
    finally:
        dying.close()
    [created] = app.fake.check_runs(REPO)

    runs = evaluated(app, number)

    assert runs[created["name"]]["id"] == created["id"]
    assert len(check_run_calls(app, "POST")) == 2
    assert check_run_calls(app, "PATCH") == [f"/repos/{REPO}/check-runs/{created['id']}"]


def test_each_reviewer_is_asked_once_per_content_of_the_plans(app: InstalledApp) -> None:
    number = app.propose(EDITED)
    evaluated(app, number)
    evaluated(app, number)
    [asked] = review_requests(app)
    assert (sorted(asked["reviewers"]), asked["team_reviewers"]) == (
        ["dee", "ivy", "pat"],
        ["leads"],
    )
    records = ASKED.all(app.store)
    holders = {key.split(":")[1] for key in records}
    assert holders == {"@dee", "@ivy", "@pat", "leads"} and set(records.values()) == {"1"}
    before = app.seen()

    app.push({NOTES: "# Notes\n\nStill nothing planned.\n"})  # the plans read the same
    evaluated(app, number)
    assert review_requests(app, before) == []

    app.push({PLAN_PATH: PLAN.replace("once a year", "every quarter")})
    evaluated(app, number)
    [again] = review_requests(app, before)
    assert sorted(again["reviewers"]) == ["dee", "ivy", "pat"]
    assert len(ASKED.all(app.store)) == 8  # four holders, two contents


def test_the_stored_summary_is_the_published_decision(app: InstalledApp) -> None:
    number = app.propose(EDITED)
    for approvers in ((), ("dee", "lee")):
        app.approve(number, *approvers)
        rapid = evaluated(app, number)["RAPID review"]
        summary = EVALUATION.get(app.store, pull_key(REPO, number))
        assert summary is not None
        assert summary["head_sha"] == rapid["head_sha"]
        assert SHOWN_AS[summary["conclusion"]] == rapid["conclusion"]
        assert summary["title"] == rapid["output"]["title"]
        assert {b["path"] for b in summary["blocks"]} == {PLAN_PATH}
        rows = {(r["role"], r["holder"]): (r["state"], r["reviewer"]) for r in summary["rows"]}
        assert rows[("D", "DEE")] == (("approved", "dee") if approvers else ("waiting", None))
    assert summary["conclusion"] == "success"


def test_a_broken_rapid_yml_on_the_base_branch_fails_closed(
    fake_github: FakeGitHub, tmp_path: Path, pool: CheckPool
) -> None:
    files = {**FILES, ".github/rapid.yml": BROKEN}
    with installed_app(fake_github, tmp_path, pool, files) as app:
        number = app.propose(EDITED)
        app.approve(number, "dee", "lee")
        rapid = evaluated(app, number)["RAPID review"]
    assert rapid["conclusion"] == "failure"
    assert rapid["output"]["title"] == ".github/rapid.yml is invalid"
    assert rapid["output"]["summary"].startswith(
        "The RAPID policy on the base branch cannot be read:"
    )
    [note] = rapid["annotations"]
    assert (note["path"], note["start_line"]) == (".github/rapid.yml", 3)
    assert "expected one of 'any', 'all'" in note["message"]
    assert review_requests(app) == []


def test_a_pull_request_that_changes_no_plan_passes(app: InstalledApp) -> None:
    number = app.propose({NOTES: "# Notes\n\nStill nothing planned.\n"})
    runs = evaluated(app, number)
    assert {name: run["conclusion"] for name, run in runs.items()} == {
        "VPMOM structure": "neutral",
        "RAPID review": "neutral",
    }
    assert runs["VPMOM structure"]["output"]["title"] == "No VPMOM plans changed"
    assert review_requests(app) == []
