"""A check run's summary and text stay within GitHub's 65 535 characters, however many findings
a pull request has: published against the fake GitHub, which refuses longer ones as GitHub does."""

from __future__ import annotations

from pathlib import Path

from gidgethub.aiohttp import GitHubAPI

from rapidvet.app.pulls.check_runs import MAX_OUTPUT_CHARS, CheckRun, fit, publish
from rapidvet.app.store import open_store
from tests.rig.test_fake_github import REPO, World, with_github, world  # noqa: F401
from tests.support.fake_github.fixtures import fake_github, github_assets  # noqa: F401


def test_short_output_is_left_alone() -> None:
    assert fit("a\nb\n") == "a\nb\n"


def test_a_3000_file_summary_is_published_cut(world: World, tmp_path: Path) -> None:  # noqa: F811
    lines = [f"- `assets/file-{n:04}.txt`: a finding about this page\n" for n in range(3000)]
    summary = "".join(lines) * 2  # about 300 000 characters
    run = CheckRun("RAPID review", "action_required", "Waiting", summary, text=summary)
    store = open_store(f"sqlite:///{tmp_path / 'rapidvet.db'}")
    store.migrate()

    async def scenario(gh: GitHubAPI) -> None:
        for _ in range(2):  # created, then updated
            await publish(gh, store, REPO, world.head_sha, run, "https://rapidvet.example.com")

    try:
        with_github(world, scenario)
    finally:
        store.close()
    [published] = world.fake.check_runs(REPO, head_sha=world.head_sha)
    for field in ("summary", "text"):
        shown = published["output"][field]
        assert len(shown) <= MAX_OUTPUT_CHARS
        kept = shown.count("\n- ") + 1
        assert shown.endswith(f"… {6000 - kept} more lines: see the details page.\n"), shown[-80:]
