"""The App against the fake GitHub's stricter rules: installation tokens that expire on GitHub's
clock, and the secondary limit on content-creating requests."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from contextlib import ExitStack

from rapidvet.app.github import GitHubApp
from rapidvet.app.settings import Settings
from tests.e2e import REPO, create_handbook, install_app, open_handbook
from tests.fake_github import FakeGitHub

ACCESS_TOKENS = "/app/installations/{id}/access_tokens"


def test_installation_tokens_are_renewed_before_github_expires_them(
    fake_github: FakeGitHub,
) -> None:
    credentials = install_app(fake_github)
    create_handbook(fake_github, REPO, {"README.md": "hello\n"})
    installation = fake_github.state.installation_for(fake_github.state.repos[REPO])
    assert installation is not None
    settings = Settings(
        app_id=credentials.app_id,
        private_key=credentials.private_key,
        webhook_secret=credentials.webhook_secret,
        github_url=fake_github.url,
    )

    def github_clock() -> float:  # the App's clock agrees with GitHub's
        return time.time() + fake_github.state.clock_offset

    async def read_twice() -> None:
        async with GitHubApp(settings, clock=github_clock) as app:
            gh = await app.installation_api(installation.id, [REPO])
            await gh.getitem(f"/repos/{REPO}")
            # Four minutes left: a job starting now could outlive the token.
            fake_github.advance_clock(56 * 60)
            gh = await app.installation_api(installation.id, [REPO])
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
