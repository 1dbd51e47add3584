"""Small builders for the RAPID review tests: blocks, configs, reviews and requests with
symbolic content hashes ("v1", "v2") instead of real text."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta

from rapidvet.checks.model import Block, MetadataRow
from rapidvet.workflows.approval import RowState
from rapidvet.workflows.changes import BlockKey, ChangedBlock
from rapidvet.workflows.decision import Decision, PullRequest, ReviewRequest
from rapidvet.workflows.rapid_config import PathRule, Policy, RapidConfig
from rapidvet.workflows.reviews import Review

AUTHOR = "author"
HEAD = "c-head"
BASE = "c-base"
T0 = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)
PATH = "ops/plan.md"
TITLE = "FY21 Ops VPMOM"

_ids = itertools.count(1000)


def block(title: str = TITLE, rapid: str | None = None, line: int = 1) -> Block:
    """A block spanning `line`..`line`+20 with its RAPID row on `line`+3."""
    metadata = () if rapid is None else (MetadataRow("RAPID", rapid, line + 3, 8, 8 + len(rapid)),)
    return Block(title, "VPMOM", line, line + 20, 2, metadata)


def changed(
    title: str = TITLE,
    *,
    path: str = PATH,
    rapid: str | None = None,
    base_rapid: str | None = None,
    content: str = "v2",
    change: str = "modified",
    line: int = 1,
) -> ChangedBlock:
    """A changed block whose current content hash is `content`; the base keeps the head's
    RAPID line unless `base_rapid` is given."""
    head = block(title, rapid, line)
    base = block(title, base_rapid if base_rapid is not None else rapid, line)
    if change == "added":
        return ChangedBlock(path, None, head, content)
    if change == "deleted":
        return ChangedBlock(path, base, None, "")
    return ChangedBlock(path, base, head, content)


def rule(
    pattern: str = "ops/**", line: int = 5, block: str | None = None, **roles: str
) -> PathRule:
    """A `paths:` entry; each role keyword is a space-separated list of holders."""
    return PathRule(pattern, {role: tuple(v.split()) for role, v in roles.items()}, block, line)


def config(
    *rules: PathRule,
    aliases: Mapping[str, str] | None = None,
    unavailable: Iterable[str] = (),
    source: str = ".github/rapid.yml",
    **policy: object,
) -> RapidConfig:
    return RapidConfig(
        aliases=dict(aliases or {}),
        paths=rules,
        policy=Policy(**policy),  # type: ignore[arg-type]
        unavailable=frozenset(unavailable),
        source=source,
    )


def review(user: str, state: str = "APPROVED", commit: str = HEAD, minute: int = 0) -> Review:
    return Review(next(_ids), user, state, T0 + timedelta(minutes=minute), commit)


def hashes(**by_commit: str) -> dict[str, dict[BlockKey, str]]:
    """Hashes of the default block per commit: hashes(c1="v1") -> {"c1": {key: "v1"}}."""
    return {commit: {changed().key: value} for commit, value in by_commit.items()}


def request(
    cfg: RapidConfig,
    blocks: Iterable[ChangedBlock],
    reviews: Iterable[Review] = (),
    *,
    author: str = AUTHOR,
    teams: Mapping[str, Iterable[str]] | None = None,
    commit_hashes: Mapping[str, Mapping[BlockKey, str]] | None = None,
    head_config: RapidConfig | None = None,
) -> ReviewRequest:
    return ReviewRequest(
        config=cfg,
        pull=PullRequest(7, author, HEAD, BASE),
        blocks=tuple(blocks),
        reviews=tuple(reviews),
        teams={slug: frozenset(members) for slug, members in (teams or {}).items()},
        hashes=dict(commit_hashes or {}),
        head_config=head_config,
    )


def states(decision: Decision) -> dict[tuple[str, str, str], RowState]:
    """(block title, role, holder as shown) -> state, for compact assertions."""
    return {(r.block.block.title, r.role, str(r.holder)): r.state for r in decision.rows}


def codes(decision: Decision) -> list[str]:
    return [note.code for note in decision.notes]
