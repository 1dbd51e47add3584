"""The App against the fake GitHub's stricter rules: installation tokens that expire on GitHub's
clock, the secondary limit on content-creating requests, and review requests GitHub refuses."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from contextlib import ExitStack
from datetime import date

from rapidvet.app.github.auth import GitHubApp
from rapidvet.app.jobs.isolation import CheckPool, Limits
from rapidvet.app.pulls.evaluation import assess, request_reviewers
from rapidvet.app.store import open_store
from tests.support.e2e import (
    CONFIG,
    FILES,
    PLAN,
    PLAN_PATH,
    REPO,
    open_handbook,
)
from tests.support.fake_github import FakeGitHub
from tests.support.installed_app import installed

ACCESS_TOKENS = "/app/installations/{id}/access_tokens"


def test_installation_tokens_are_renewed_before_github_expires_them(
    fake_github: FakeGitHub,
) -> None:
    settings, installation = installed(fake_github, {"README.md": "hello\n"})

    def github_clock() -> float:  # the App's clock agrees with GitHub's
        return time.time() + fake_github.state.clock_offset

    async def read_twice() -> None:
        async with GitHubApp(settings, clock=github_clock) as app:
            gh = await app.installation_api(installation, [REPO])
            await gh.getitem(f"/repos/{REPO}")
            # Four minutes left: a job starting now could outlive the token.
            fake_github.advance_clock(56 * 60)
            gh = await app.installation_api(installation, [REPO])
            await gh.getitem(f"/repos/{REPO}")
            fake_github.advance_clock(60 * 60)  # past the second token's hour too
            await gh.getitem(f"/repos/{REPO}")

    asyncio.run(read_twice())
    requests = fake_github.requests()
    issued = [r for r in requests if r["operation"] == "apps/create-installation-access-token"]
    assert len(issued) == 3
    assert all(r["status"] != 401 for r in requests)  # no expired token was ever sent


def test_a_pull_request_evaluation_waits_out_the_secondary_limit(
    fake_github: FakeGitHub, tmp_path
) -> None:
    with ExitStack() as stack:
        handbook = open_handbook(stack, fake_github, tmp_path)
        fake_github.set_secondary_limit(2, window_seconds=2)
        assert handbook.send("pull_request.opened") == 202
        for name in ("VPMOM structure", "RAPID review"):
            assert handbook.check_run(name)["status"] == "completed"
        limited = [r for r in fake_github.requests() if r["status"] == 403]
        with sqlite3.connect(handbook.server.database) as db:
            tries = [n for (n,) in db.execute("SELECT attempts FROM jobs")]
        assert limited and tries == [1]  # waited in-process, without spending a job's try
        assert handbook.pull()["requested_reviewers"]  # a limited review request is not lost


def test_a_team_without_access_is_not_asked_and_the_rapid_check_says_why(
    fake_github: FakeGitHub, tmp_path
) -> None:
    with ExitStack() as stack:
        handbook = open_handbook(stack, fake_github, tmp_path)
        fake_github.set_team_repository("acme", "leads", REPO, None)
        for _ in range(2):  # asked once; the second evaluation still names the team
            assert handbook.send("pull_request.opened") == 202
            summary = handbook.check_run("RAPID review")["output"]["summary"]
            assert f"@acme/leads: the team has no access to {REPO}" in summary
        assert handbook.dead_jobs() == []
        pull = handbook.pull()
        assert {u["login"] for u in pull["requested_reviewers"]} == {"dee", "ivy", "pat"}
        assert pull["requested_teams"] == []
        asks = [r for r in fake_github.requests() if r["path"].endswith("/requested_reviewers")]
        # Skipped, not refused: GitHub would have refused the others' request with it.
        assert [(r["status"], r["body"]["team_reviewers"]) for r in asks] == [(201, [])]


def test_a_user_github_refuses_is_named_and_the_others_are_asked(
    fake_github: FakeGitHub, tmp_path
) -> None:
    # @zed holds P but is no collaborator: GitHub refuses any request naming him.
    files = {**FILES, ".github/rapid.yml": CONFIG.replace('"@pat"', '"@zed"')}
    files[PLAN_PATH] = PLAN.replace("@pat(P)", "@zed(P)")
    settings, installation = installed(fake_github, files)
    fake_github.create_branch(REPO, "plan-update")
    edited = files[PLAN_PATH].replace("once a year", "twice a year")
    fake_github.commit(REPO, "plan-update", {PLAN_PATH: edited}, author="author")
    number = fake_github.open_pull_request(REPO, "plan-update", user="author")["number"]
    store = open_store(f"sqlite:///{tmp_path / 'rapidvet.db'}")
    store.migrate()
    checks = CheckPool(Limits(seconds=60, memory_mb=1024))

    async def ask_twice() -> list[dict[str, str]]:
        async with GitHubApp(settings) as app:
            gh = await app.installation_api(installation, [REPO])
            with checks.job():
                evaluation = await assess(gh, REPO, number, date(2026, 3, 1))
            return [await request_reviewers(gh, store, evaluation) for _ in range(2)]

    try:
        first, again = asyncio.run(ask_twice())
    finally:
        store.close()
        checks.close()
    assert first == again
    assert list(first) == ["@zed"] and "is not a collaborator of the acme/handbook" in first["@zed"]
    pull = fake_github.pull_request(REPO, number)
    assert {u["login"] for u in pull["requested_reviewers"]} == {"dee", "ivy"}
    assert [t["slug"] for t in pull["requested_teams"]] == ["leads"]
    asks = [r for r in fake_github.requests() if r["path"].endswith("/requested_reviewers")]
    assert [r["status"] for r in asks].count(422) == 2  # all together, then @zed alone
