"""Taking a snapshot of a repository's default branch from GitHub (the snapshot and its
storage are in `snapshots`).

The tree is listed once (`git/trees/{commit}?recursive=1`; listing a commit again is answered
304 from the conditional-request cache). A page is read, as a blob (any size, addressed by its
content), only when its blob differs from the previous snapshot's, so a push that edits one
page reads one file. rapid.yml is kept as text, since its document kinds decide what a plan is:
when they change every page is read again; when only the roles change, the pages holding plans
(for their D holder). The table of contents is read again only when one of its sources changed.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from gidgethub import BadRequest
from gidgethub.abc import GitHubAPI

from rapidvet.app.github.files import BLOB, bounded, owner_repo
from rapidvet.app.handbook.rapid_yml import parse_config
from rapidvet.app.handbook.snapshots import (
    ConfigFile,
    MeasurePoint,
    PlaceholderRow,
    PlanRow,
    Snapshot,
    TocRecord,
    add_point,
    keep,
    load,
)
from rapidvet.app.jobs.isolation import checked
from rapidvet.app.store import Store
from rapidvet.checks.layout import (
    GITBOOK_CONFIG,
    TocSources,
    is_page,
    kept,
    toc_sources,
    walk_order,
)
from rapidvet.checks.measures import (
    PlaceholderEntry,
    block_entry,
    unlisted_pages,
)
from rapidvet.checks.model import Block
from rapidvet.checks.page import check_page
from rapidvet.checks.paths import path_problem, url_path
from rapidvet.checks.toc import gitbook_summary_location
from rapidvet.workflows.config_loader import config_location
from rapidvet.workflows.rapid_config import RapidConfig
from rapidvet.workflows.roles import block_roles

log = logging.getLogger("rapidvet.snapshots")

REPO = "/repos/{owner}/{repo}"
REF = "/repos/{owner}/{repo}/git/ref/{+ref}"
TREE = "/repos/{owner}/{repo}/git/trees/{tree_sha}{?recursive}"
SYMLINK = "120000"  # a symlink's blob holds its target's path, not a page


async def default_branch(gh: GitHubAPI, repo: str) -> str:
    data: Any = await gh.getitem(REPO, owner_repo(repo))
    return str(data["default_branch"])


async def refresh(
    gh: GitHubAPI,
    store: Store,
    repo: str,
    branch: str,
    today: date,
    now: datetime,
    vetted_in: Sequence[int] = (),
) -> Snapshot | None:
    """Snapshot the tip of `branch` (read at `now`) and store it with its measure point,
    unless a snapshot read later was stored meanwhile (an install's first snapshot can
    take minutes, and a push may come in the while). None when the branch has no commit."""
    names = owner_repo(repo)
    try:
        ref: Any = await gh.getitem(REF, {**names, "ref": url_path(f"heads/{branch}")})
    except BadRequest as err:
        if err.status_code in (404, 409):  # an empty repository has no branch yet
            log.info("no commit on %s of %s to snapshot", branch, repo)
            return None
        raise
    listing: Any = await gh.getitem(
        TREE, {**names, "tree_sha": ref["object"]["sha"], "recursive": "1"}
    )
    snapshot = await _Reading(gh, repo, listing, load(store, repo)).snapshot(
        branch, ref["object"]["sha"], today, now
    )
    stored = load(store, repo)
    if stored is not None and stored.read_at > snapshot.read_at:
        return stored
    keep(store, snapshot)
    measures = snapshot.measures(today)
    point = MeasurePoint(
        now,
        snapshot.commit,
        measures.fresh_percent,
        len(measures.plans),
        measures.fresh,
        tuple(vetted_in),
    )
    add_point(store, repo, point)
    return snapshot


class _Reading:
    """One snapshot being taken: the listed tree, the previous snapshot, the texts read."""

    def __init__(self, gh: GitHubAPI, repo: str, listing: Any, previous: Snapshot | None) -> None:
        self.gh = gh
        self.repo = repo
        self.previous = previous
        self.truncated = bool(listing.get("truncated"))
        if self.truncated:
            log.warning("the tree of %s is too large to list in full", repo)
        # A path that cannot go into a URL safely is no page of the handbook: it is never read.
        entries = [
            entry
            for entry in listing["tree"]
            if entry["type"] == "blob"
            and entry["mode"] != SYMLINK
            and kept(entry["path"])
            and path_problem(entry["path"]) is None
        ]
        self.blobs: dict[str, str] = {entry["path"]: entry["sha"] for entry in entries}
        self.sizes: dict[str, int] = {
            entry["path"]: int(entry.get("size") or 0) for entry in entries
        }
        self.texts: dict[str, str] = {}
        self.before = previous.by_page() if previous else {}

    async def read(self, paths: Iterable[str]) -> None:
        """Read the files of `paths` not read yet, a few at a time; files with the same
        content are one blob, read once."""
        wanted = [p for p in dict.fromkeys(paths) if p not in self.texts]
        shas = list(dict.fromkeys(self.blobs[p] for p in wanted))
        texts = dict(zip(shas, await bounded(map(self._blob_text, shas)), strict=True))
        self.texts.update((p, texts[self.blobs[p]]) for p in wanted)

    async def _blob_text(self, sha: str) -> str:
        blob: Any = await self.gh.getitem(BLOB, {**owner_repo(self.repo), "sha": sha})
        data = base64.b64decode(blob["content"]).decode("utf-8", errors="replace")
        # As a checkout read in text mode gives it to `rapidvet report`: universal newlines.
        return data.replace("\r\n", "\n").replace("\r", "\n")

    async def snapshot(self, branch: str, commit: str, today: date, now: datetime) -> Snapshot:
        config_file = await self._config_file()
        config = await _config(config_file)
        kinds = hashlib.sha256(repr(config.checks.kinds).encode()).hexdigest()[:16]
        gitbook = await self._gitbook()
        sources = toc_sources(self.blobs.keys(), gitbook[1:] if gitbook else None)
        digest = _digest(sources, {p: self.blobs[p] for p in sources.files})
        same_toc = self.previous is not None and self.previous.toc.sources == digest
        paths = sorted((p for p in self.blobs if is_page(p)), key=walk_order)
        # A page over the size limit is not downloaded, and counts as holding no plan.
        large = {p for p in paths if self.sizes[p] > config.checks.max_page_bytes}
        stale = [p for p in paths if p not in large and self._must_read(p, config_file, kinds)]
        await self.read([*stale, *(() if same_toc else sources.files)])
        if same_toc and self.previous:
            toc = self.previous.toc.paths
        else:  # the table of contents is page text too: parsed in a checking child
            toc = await checked(sources.toc, {p: self.texts[p] for p in sources.files})
        read = {path: self.texts[path] for path in paths if path in self.texts}
        rows = await checked(page_rows, read, config, today)  # in a child process
        plans: list[PlanRow] = []
        placeholders: list[PlaceholderRow] = []
        for path in paths:
            # A page not read is as the last snapshot kept it.
            before = ([], []) if path in large else self.before.get(path, ([], []))
            page_plans, page_placeholders = rows.get(path) or before
            plans += page_plans
            placeholders += page_placeholders
        return Snapshot(
            repo=self.repo,
            branch=branch,
            commit=commit,
            read_at=now,
            config=config_file,
            kinds=kinds,
            stale_after_days=config.policy.stale_after_days,
            toc=TocRecord(gitbook, digest, toc),
            files={path: self.blobs[path] for path in paths},
            plans=tuple(plans),
            placeholders=tuple(placeholders),
            unlisted=unlisted_pages(paths, toc),
            truncated=self.truncated,
        )

    def _must_read(self, path: str, config: ConfigFile | None, kinds: str) -> bool:
        if self.previous is None or self.previous.files.get(path) != self.blobs[path]:
            return True
        if self.previous.kinds != kinds:
            return True  # other document kinds: any page may hold a plan now
        holds_plans = bool(self.before.get(path, ([], []))[0])
        return holds_plans and _blob(self.previous.config) != _blob(config)

    async def _config_file(self) -> ConfigFile | None:
        path = config_location(self.blobs)
        if path is None:
            return None
        before = self.previous.config if self.previous else None
        if before is not None and (before.path, before.blob) == (path, self.blobs[path]):
            return before
        await self.read([path])
        return ConfigFile(path, self.blobs[path], self.texts[path])

    async def _gitbook(self) -> tuple[str, str, str] | None:
        blob = self.blobs.get(GITBOOK_CONFIG)
        if blob is None:
            return None
        before = self.previous.toc.gitbook if self.previous else None
        if before is not None and before[0] == blob:
            return before
        await self.read([GITBOOK_CONFIG])
        return (blob, *gitbook_summary_location(self.texts[GITBOOK_CONFIG]))


async def _config(file: ConfigFile | None) -> RapidConfig:
    """The handbook's rapid.yml, parsed in a checking child; the defaults while it is missing
    or invalid."""
    if file is None:
        return RapidConfig()
    read = await checked(parse_config, file.path, file.text)
    if read.error is not None:
        log.warning("%s is invalid (%s); the snapshot uses the defaults", file.path, read.error)
    return read.config


def _blob(file: ConfigFile | None) -> str | None:
    return file.blob if file else None


def _digest(sources: TocSources, blobs: dict[str, str]) -> str:
    text = json.dumps([sources.summary, sources.book_root, sources.source_root, blobs])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def page_rows(
    texts: dict[str, str], config: RapidConfig, today: date
) -> dict[str, tuple[list[PlanRow], list[PlaceholderRow]]]:
    """The plans and placeholders of each page of `texts` (path: text); pure."""
    options = config.check_options(today)
    return {
        path: _rows(path, check_page(text, path, options).blocks, config)
        for path, text in texts.items()
    }


def _rows(
    path: str, blocks: Iterable[Block], config: RapidConfig
) -> tuple[list[PlanRow], list[PlaceholderRow]]:
    plans: list[PlanRow] = []
    placeholders: list[PlaceholderRow] = []
    for block in blocks:
        entry = block_entry(path, block)
        if isinstance(entry, PlaceholderEntry):
            placeholders.append(PlaceholderRow(path, entry.line, entry.title, entry.marker))
            continue
        deciders = block_roles(config, path, block).of("D")
        plans.append(
            PlanRow(
                path,
                entry.line,
                block.end_line,
                entry.title,
                entry.kind,
                entry.period,
                entry.rapid,
                entry.vetted.isoformat() if entry.vetted else None,
                ", ".join(map(str, deciders)) or None,
            )
        )
    return plans, placeholders
