"""Default-branch snapshots against the fake GitHub: the same measures as `rapidvet report` on
the same files, one blob read per changed page, 304s on listing a commit again, and the push
and installation handlers that take them."""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import Awaitable, Callable
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest
from gidgethub import sansio
from gidgethub.abc import GitHubAPI

from rapidvet.app.checkout.handbook import pages, table_of_contents
from rapidvet.app.commands.report import as_json, measure
from rapidvet.app.context import Context
from rapidvet.app.github.auth import GitHubApp
from rapidvet.app.handbook import reading, snapshots
from rapidvet.app.handlers import handled, router
from rapidvet.app.jobs.isolation import CheckPool, Limits
from rapidvet.app.settings import Settings
from rapidvet.app.store.sqlite import SqliteStore
from rapidvet.checks.layout import walk_order
from tests.support.e2e import PLAN_PATH, REPO, open_handbook

TODAY = date(2026, 11, 23)
NOW = datetime(2026, 11, 23, 12, tzinfo=UTC)
ARCHIVE = "company/archive/previous-fiscal-year-information.md"
NEW_PLAN = """

## FY27 Archive VPMOM

|Period| Feb 1, 2026 to Jan 31, 2027 |
|:---|:---|
| RAPID | @dee(D), @lee(R, A) |
| Vetted date | Mar 2, 2026 |
| Previous versions | none |

#### Vision
- Keep what we decided findable.

#### Priorities
- Findable

#### Methods
- Link every archived plan

#### Obstacles
- Pages nobody links

#### Measures
- 100% of archived plans linked
"""
PLAN = "# Ops\n" + NEW_PLAN
FILES = {
    "SUMMARY.md": "* [Ops](ops/plan.md)\n",
    "ops/plan.md": PLAN,
    "ops/notes.md": "# Notes\n\nNothing planned here.\n",
    "people/plan.md": PLAN.replace("Archive", "People"),
    "logo.png": "not a page",
}
T = TypeVar("T")


@dataclass
class World:
    """The fake GitHub with the App installed on `acme`, rapidvet's store, and the child
    processes that parse the pages."""

    fake: Any
    store: SqliteStore
    settings: Settings
    installation: int
    pool: CheckPool

    def run(self, steps: Callable[[GitHubAPI], Awaitable[T]]) -> T:
        """Run `steps` as one job, with one App (one conditional-request cache) acting as the
        installation."""

        async def main() -> T:
            async with GitHubApp(self.settings) as app:
                with self.pool.job():
                    return await steps(await app.installation_api(self.installation))

        return asyncio.run(main())

    def refresh(self, now: datetime = NOW, store: SqliteStore | None = None) -> Any:
        async def steps(gh: GitHubAPI) -> Any:
            return await reading.refresh(gh, store or self.store, REPO, "main", TODAY, now)

        return self.run(steps)

    def seq(self) -> int:
        return len(self.fake.requests())

    def reads(self, since: int) -> list[str]:
        """The blob shas and content paths GitHub was asked for since request `since`."""
        return [
            r["path"].rsplit("/", 1)[-1]
            for r in self.fake.requests(since=since)
            if "/git/blobs/" in r["path"] or "/contents/" in r["path"]
        ]

    def dispatch(self, name: str, **params: Any) -> None:
        """Deliver webhook `name` straight to the handlers, as the worker does."""
        built = self.fake.webhook(name, **params)
        event = sansio.Event(built["payload"], event=built["event"], delivery_id="test")
        context = Context(self.store, "https://github.example", lambda: TODAY)
        self.run(lambda gh: router.dispatch(event, gh, context))


@pytest.fixture(scope="module")
def pool():
    checks = CheckPool(Limits(seconds=60, memory_mb=1024))
    yield checks
    checks.close()


@pytest.fixture
def world(fake_github, tmp_path, pool):
    credentials = fake_github.setup_app()
    installation = fake_github.create_installation("acme")["id"]
    settings = Settings(
        app_id=credentials.app_id,
        private_key=credentials.private_key,
        webhook_secret=credentials.webhook_secret,
        github_url=fake_github.url,
    )
    store = SqliteStore(str(tmp_path / "rapidvet.db"))
    store.migrate()
    yield World(fake_github, store, settings, installation, pool)
    store.close()


def report_json(folder: Path) -> str:
    """What `rapidvet report FOLDER --format json --today TODAY` prints."""
    args = argparse.Namespace(paths=[str(folder)], config=None, today=TODAY, jobs=1)
    return as_json(*measure(args))


# -- measures --------------------------------------------------------------------------------


def test_corpus_snapshot_measures_equal_rapidvet_report(world: World, corpus: Path):
    head = corpus / "handbook-head"
    world.fake.create_repo(REPO, folder=str(head))
    snapshot = world.refresh()
    assert as_json(snapshot.measures(TODAY)) == report_json(head)
    measures = snapshot.measures(TODAY)
    assert measures.pages == 357 and measures.unlisted  # the real handbook, with its GitBook TOC
    # Every page and .gitbook.yaml read once, as blobs: files with equal content are one blob.
    read = world.reads(0)
    assert len(read) == len(set(read))
    assert set(read) == {*snapshot.files.values(), snapshot.toc.gitbook[0]}
    assert snapshots.load(world.store, REPO) == snapshot


def test_sphinx_toctrees_are_the_table_of_contents_rapidvet_check_finds(
    world: World, corpus: Path, tmp_path: Path
):
    """The corpus keeps the Sphinx sources flat (`source__index.rst`): laid out again here,
    with the toctrees' `/` entries resolving against the folder holding conf.py."""
    folder = tmp_path / "sphinx"
    for source in (corpus / "toc" / "handbook-1").glob("source__*"):
        target = folder / source.name.replace("__", "/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(source.read_bytes())
    world.fake.create_repo(REPO, folder=str(folder))
    toc = world.refresh().toc.paths
    assert toc and toc == table_of_contents(str(folder))
    assert "source/guides/operations" in toc


def test_pages_are_listed_in_the_order_of_a_folder_walk(corpus: Path):
    found = [page.rel for page in pages([str(corpus / "handbook-head")])]
    assert found == sorted(found, key=walk_order)


def test_a_push_changing_one_page_reads_that_one_file(world: World, corpus: Path):
    world.fake.create_repo(REPO, folder=str(corpus / "handbook-head"))
    before = world.refresh()
    text = (corpus / "handbook-head" / ARCHIVE).read_text(encoding="utf-8")
    world.fake.commit(REPO, "main", {ARCHIVE: text + NEW_PLAN})
    since = world.seq()
    after = world.refresh(NOW + timedelta(hours=1))
    assert world.reads(since) == [after.files[ARCHIVE]]
    titles = [p.title for p in after.measures(TODAY).plans]
    assert len(titles) == len(before.measures(TODAY).plans) + 1 and "FY27 Archive VPMOM" in titles
    # Kept pages and all: the same snapshot as one taken from nothing.
    fresh = SqliteStore(":memory:")
    fresh.migrate()
    assert world.refresh(NOW + timedelta(hours=1), fresh) == after


def test_listing_a_commit_again_is_answered_304_and_reads_nothing(world: World):
    world.fake.create_repo(REPO, files=FILES)

    async def twice(gh: GitHubAPI) -> None:
        await reading.refresh(gh, world.store, REPO, "main", TODAY, NOW)
        since = world.seq()
        await reading.refresh(gh, world.store, REPO, "main", TODAY, NOW + timedelta(days=1))
        listed = [
            r["status"] for r in world.fake.requests(since=since) if "/git/trees/" in r["path"]
        ]
        assert listed == [304]
        assert world.reads(since) == []

    world.run(twice)
    assert [p.at for p in snapshots.history(world.store, REPO)] == [NOW, NOW + timedelta(days=1)]


def test_a_small_handbook(world: World):
    world.fake.create_repo(REPO, files=FILES)
    snapshot = world.refresh()
    assert list(snapshot.files) == ["SUMMARY.md", "ops/notes.md", "ops/plan.md", "people/plan.md"]
    plan, _ = snapshot.plans
    assert plan == (
        "ops/plan.md",
        4,
        25,
        "FY27 Archive VPMOM",
        "VPMOM",
        "Feb 1, 2026 to Jan 31, 2027",
        "@dee(D), @lee(R, A)",
        "2026-03-02",
        "@dee",
    )
    assert snapshot.toc.paths == {"ops/plan.md"}
    assert snapshot.unlisted == ("ops/notes.md", "people/plan.md")
    measures = snapshot.measures(TODAY)
    assert (len(measures.plans), measures.fresh, measures.fresh_percent) == (2, 2, 100.0)
    [point] = snapshots.history(world.store, REPO)
    assert (point.commit, point.percent, point.plans, point.fresh) == (snapshot.commit, 100.0, 2, 2)


def test_a_new_table_of_contents_reads_only_the_summary(world: World):
    world.fake.create_repo(REPO, files=FILES)
    world.refresh()
    summary = FILES["SUMMARY.md"] + "* [People](people/plan.md)\n"
    world.fake.commit(REPO, "main", {"SUMMARY.md": summary})
    since = world.seq()
    snapshot = world.refresh()
    assert world.reads(since) == [snapshot.files["SUMMARY.md"]]
    assert snapshot.unlisted == ("ops/notes.md",)


def test_new_roles_reread_the_plans_and_new_kinds_every_page(world: World):
    world.fake.create_repo(REPO, files=FILES)
    world.refresh()
    roles = 'version: 1\npaths:\n  - pattern: "people/**"\n    roles: {D: "@pam"}\n'
    world.fake.commit(REPO, "main", {".github/rapid.yml": roles})
    since = world.seq()
    snapshot = world.refresh()
    config = snapshot.config
    assert config is not None and config.text == roles
    plans = {snapshot.files[p] for p in ("ops/plan.md", "people/plan.md")}
    assert sorted(world.reads(since)) == sorted({config.blob, *plans})
    assert [p.decider for p in snapshot.plans] == ["@dee", "@pam"]

    kinds = roles + "checks:\n  kinds: [{name: OKR, sections: [Objectives, Results]}]\n"
    world.fake.commit(REPO, "main", {".github/rapid.yml": kinds})
    since = world.seq()
    snapshot = world.refresh()
    assert snapshot.config is not None
    assert sorted(world.reads(since)) == sorted({snapshot.config.blob, *snapshot.files.values()})


def test_a_snapshot_read_later_is_never_replaced_by_an_earlier_one(world: World):
    world.fake.create_repo(REPO, files=FILES)
    later = world.refresh(NOW + timedelta(minutes=5))
    world.fake.commit(REPO, "main", {"ops/notes.md": "# Notes\n\nStill nothing.\n"})
    assert world.refresh(NOW) == later
    assert snapshots.load(world.store, REPO) == later


def test_a_branch_without_commits_has_no_snapshot(world: World):
    world.fake.create_repo(REPO, files=FILES)

    async def steps(gh: GitHubAPI) -> Any:
        return await reading.refresh(gh, world.store, REPO, "nowhere", TODAY, NOW)

    assert world.run(steps) is None
    assert snapshots.load(world.store, REPO) is None


# -- the handlers ----------------------------------------------------------------------------


def push_event(ref: str = "refs/heads/main", **fields: Any) -> sansio.Event:
    data = {"ref": ref, "repository": {"default_branch": "main", "full_name": REPO}, **fields}
    return sansio.Event(data, event="push", delivery_id="test")


@pytest.mark.parametrize(
    ("event", "stored"),
    [
        (push_event(commits=[{"modified": ["ops/plan.md"]}]), True),
        (push_event(commits=[{"removed": ["docs/index.rst"]}]), True),
        (push_event(commits=[{"added": [".gitbook.yaml"]}]), True),
        (push_event(commits=[{"modified": [".github/rapid.yml"]}]), True),
        (push_event(forced=True, commits=[]), True),
        (push_event(commits=[{"modified": ["logo.png"]}]), False),
        (push_event(commits=[{"modified": ["node_modules/x/README.md"]}]), False),
        (push_event("refs/heads/topic", commits=[{"modified": ["ops/plan.md"]}]), False),
    ],
)
def test_pushes_that_can_change_the_handbook_are_stored(event: sansio.Event, stored: bool):
    assert handled(event) is stored


def test_a_push_snapshots_the_branch_and_notes_merge_records(world: World):
    world.fake.create_repo(REPO, files=FILES)
    record = "Record the vetting\n\nDecided-by: @dee\nVetted-in: #7\n"
    world.fake.commit(REPO, "main", {"ops/plan.md": PLAN + "\n"}, message=record)
    world.dispatch("push", repo=REPO)
    snapshot = snapshots.load(world.store, REPO)
    assert snapshot is not None and snapshot.commit == world.fake.branch_sha(REPO, "main")
    [point] = snapshots.history(world.store, REPO)
    assert point.vetted_in == (7,)


def test_installing_snapshots_each_repository_and_uninstalling_forgets_them(world: World):
    world.fake.create_repo(REPO, files=FILES)
    world.dispatch("installation.created", installation_id=world.installation)
    snapshot = snapshots.load(world.store, REPO)
    assert snapshot is not None and snapshot.branch == "main"
    world.dispatch("installation.deleted", installation_id=world.installation)
    assert json.loads(world.store.get_value("installation", str(world.installation)) or "") == {
        "deleted": True
    }


def test_the_server_snapshots_on_install_and_on_pushes_to_the_default_branch(fake_github, tmp_path):
    with ExitStack() as stack:
        handbook = open_handbook(stack, fake_github, tmp_path)
        assert handbook.send("installation.created") == 202
        before = fake_github.branch_sha(REPO, "main")
        notes = {"handbook/ops/notes.md": "# Notes\n\nStill nothing planned.\n"}
        after = fake_github.commit(REPO, "main", notes)["sha"]
        assert handbook.send("push", ref="main", before=before, after=after) == 202
        store = SqliteStore(handbook.server.database)
        snapshot = snapshots.load(store, REPO)
        points = snapshots.history(store, REPO)
        store.close()
    assert snapshot is not None and snapshot.commit == after
    assert [p.commit for p in points] == [before, after]
    assert snapshot.unlisted == ("handbook/ops/notes.md",)
    [plan] = snapshot.plans
    assert (plan.path, plan.title, plan.decider) == (PLAN_PATH, "FY27 Ops VPMOM", "DEE (@dee)")
