"""Which VPMOM blocks a pull request changed, and the block content hashes that let an
approval survive pushes that leave its block alone (stale approvals:
docs/architecture.md#approval-state).

A block is known across commits by its `BlockKey`: file path, normalized title and its
position among the file's blocks with that title. Base and head blocks pair by key, so a
block moved within its page is still the same block, while a renamed block reads as one
deleted and one added block. A deleted block is reported too: removing a plan is a
decision, so the owners of the base block must approve the deletion.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum

from rapidvet.checks.labels import plain
from rapidvet.checks.model import Block
from rapidvet.checks.options import DEFAULT_KINDS, Kind
from rapidvet.checks.parse import parse_blocks

# The hash of a block that is not there: deleted, or not yet added at that commit.
ABSENT = ""

_PLACEHOLDER = re.compile(r"\((?:tba|tbd)\)", re.IGNORECASE)


class Change(StrEnum):
    ADDED = "added"
    MODIFIED = "modified"
    DELETED = "deleted"


@dataclass(frozen=True, order=True)
class BlockKey:
    path: str
    title: str
    index: int = 0


@dataclass(frozen=True)
class ChangedBlock:
    """One block a pull request touched. `hash` is its current (head) content hash,
    ABSENT when the pull request deletes it; `index` tells apart blocks of one file
    that share a title."""

    path: str
    base: Block | None
    head: Block | None
    hash: str
    index: int = 0

    def __post_init__(self) -> None:
        if self.base is None and self.head is None:
            raise ValueError("a changed block needs a base or a head version")

    @property
    def block(self) -> Block:
        """The version the pull request leaves: head, or base for a deletion."""
        block = self.head or self.base
        assert block is not None  # guaranteed by __post_init__
        return block

    @property
    def key(self) -> BlockKey:
        return BlockKey(self.path, normalized_title(self.block.title), self.index)

    @property
    def change(self) -> Change:
        if self.base is None:
            return Change.ADDED
        return Change.DELETED if self.head is None else Change.MODIFIED


def normalized_title(title: str) -> str:
    """The title as compared across commits: markup, "(TBA)"/"(TBD)" placeholders,
    spacing and case do not make a different block."""
    text = _PLACEHOLDER.sub(" ", plain(unicodedata.normalize("NFC", title)))
    return " ".join(text.split()).casefold()


def block_hash(text: str, block: Block) -> str:
    """SHA-256 of the block's lines (block.line..block.end_line of `text`), normalized
    to NFC, without trailing whitespace or blank lines, so reflowing blank space does
    not invalidate an approval."""
    # Split like the parser does, so line numbers agree (str.splitlines knows more breaks).
    source = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    lines = source.split("\n")[block.line - 1 : block.end_line]
    kept = [line.rstrip() for line in lines if line.strip()]
    return hashlib.sha256("\n".join(kept).encode()).hexdigest()


def block_hashes(
    path: str, text: str | None, kinds: Sequence[Kind] = DEFAULT_KINDS
) -> dict[BlockKey, str]:
    """Every block's content hash in one file version (None: the file does not exist).
    The app layer passes these, per reviewed commit, as `ReviewRequest.hashes`."""
    return {key: block_hash(text or "", block) for key, block in keyed_blocks(path, text, kinds)}


def changed_blocks(
    path: str,
    base_text: str | None,
    head_text: str | None,
    kinds: Sequence[Kind] = DEFAULT_KINDS,
) -> list[ChangedBlock]:
    """Blocks added, modified or deleted between two versions of a file (None: the file
    does not exist on that side): head blocks in page order, then deleted ones."""
    base = dict(keyed_blocks(path, base_text, kinds))
    head = dict(keyed_blocks(path, head_text, kinds))
    changed = []
    for key, block in head.items():
        current = block_hash(head_text or "", block)
        before = base.get(key)
        if before is None or block_hash(base_text or "", before) != current:
            changed.append(ChangedBlock(path, before, block, current, key.index))
    changed += [
        ChangedBlock(path, block, None, ABSENT, key.index)
        for key, block in base.items()
        if key not in head
    ]
    return changed


def keyed_blocks(
    path: str, text: str | None, kinds: Sequence[Kind] = DEFAULT_KINDS
) -> Iterator[tuple[BlockKey, Block]]:
    """The page's blocks with their keys: path, normalized title, rank among same titles."""
    seen: dict[str, int] = {}
    for block in parse_blocks(text, kinds) if text is not None else ():
        title = normalized_title(block.title)
        index = seen.get(title, 0)
        seen[title] = index + 1
        yield BlockKey(path, title, index), block
