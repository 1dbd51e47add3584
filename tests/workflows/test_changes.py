"""Which blocks a pull request changed, and block content hashes."""

from __future__ import annotations

import csv
import unicodedata
from datetime import datetime
from itertools import pairwise
from pathlib import Path

import pytest

from rapidvet.checks.parse import parse_blocks
from rapidvet.workflows.changes import (
    ABSENT,
    BlockKey,
    Change,
    block_hash,
    block_hashes,
    changed_blocks,
    normalized_title,
)

PLAN = """\
# Operations

## FY21 Ops VPMOM

|Period| May 1, 2020 to Jan 31, 2021|
|:---|:---|
|RAPID| IJT(D), MLT(R, A, P & I)|
|Vetted date| May 3, 2020|

#### Vision
- Run the company well

#### Priorities
- Speed
#### Methods
- Weekly reviews
#### Obstacles
- Time
#### Measures
- 90% of SOPs vetted

## FY21 Sales VPMOM

|Period| May 1, 2020 to Jan 31, 2021|
|:---|:---|
|RAPID| AS(D), MLT(A)|

#### Vision
- Sell more

#### Priorities
- Pipeline
#### Methods
- Calls
#### Obstacles
- Budget
#### Measures
- $10M ARR
"""
PATH = "operations/plans.md"


def titles(blocks):
    return [(b.block.title, b.change) for b in blocks]


def test_an_unchanged_page_changes_no_block():
    assert changed_blocks(PATH, PLAN, PLAN) == []


def test_an_edit_changes_only_its_block():
    head = PLAN.replace("Sell more", "Sell much more")
    [sales] = changed_blocks(PATH, PLAN, head)
    assert (sales.block.title, sales.change) == ("FY21 Sales VPMOM", Change.MODIFIED)
    assert sales.base is not None and sales.head is not None
    assert sales.hash == block_hash(head, sales.head) != block_hash(PLAN, sales.base)


@pytest.mark.parametrize(
    "edit",
    [
        lambda t: t.replace("- Speed\n", "- Speed   \n"),  # trailing whitespace
        lambda t: t.replace("- Speed\n", "- Speed\n\n\n"),  # blank lines
        lambda t: t.replace("\n", "\r\n"),  # line endings
    ],
    ids=["trailing-space", "blank-lines", "crlf"],
)
def test_whitespace_only_edits_change_nothing(edit):
    assert changed_blocks(PATH, PLAN, edit(PLAN)) == []


def test_hash_is_taken_in_nfc():
    composed = PLAN.replace("Sell more", "Sell more caf\u00e9")
    decomposed = unicodedata.normalize("NFD", composed)
    assert composed != decomposed
    assert changed_blocks(PATH, composed, decomposed) == []


def test_hash_covers_exactly_the_block_lines():
    ops = parse_blocks(PLAN)[0]
    outside = PLAN.replace("# Operations", "# Operations handbook")
    inside = PLAN.replace("Weekly reviews", "Daily reviews")
    assert block_hash(outside, ops) == block_hash(PLAN, ops)
    assert block_hash(inside, ops) != block_hash(PLAN, ops)


def test_added_and_deleted_blocks():
    ops_only = PLAN[: PLAN.index("## FY21 Sales VPMOM")]
    [added] = changed_blocks(PATH, ops_only, PLAN)
    assert (added.block.title, added.change, added.base) == ("FY21 Sales VPMOM", Change.ADDED, None)
    [deleted] = changed_blocks(PATH, PLAN, ops_only)
    assert (deleted.block.title, deleted.change) == ("FY21 Sales VPMOM", Change.DELETED)
    assert deleted.head is None and deleted.hash == ABSENT


def test_a_new_or_removed_file_adds_or_deletes_every_block():
    assert {b.change for b in changed_blocks(PATH, None, PLAN)} == {Change.ADDED}
    assert {b.change for b in changed_blocks(PATH, PLAN, None)} == {Change.DELETED}
    assert len(changed_blocks(PATH, None, PLAN)) == 2


def test_blocks_pair_by_title_not_position():
    intro = "# Operations\n\nA new introduction\nover two lines.\n"
    moved = PLAN.replace("# Operations\n", intro)
    assert changed_blocks(PATH, PLAN, moved) == []


def test_placeholder_and_markup_in_the_title_do_not_make_a_new_block():
    base = PLAN.replace("## FY21 Sales VPMOM", "## FY21 Sales VPMOM \\(TBA\\)")
    [sales] = changed_blocks(PATH, base, PLAN)
    assert sales.change is Change.MODIFIED
    assert normalized_title("FY21  Sales VPMOM \\(TBA\\)") == "fy21 sales vpmom"


def test_a_renamed_block_is_one_deleted_and_one_added():
    head = PLAN.replace("## FY21 Sales VPMOM", "## FY22 Sales VPMOM")
    assert titles(changed_blocks(PATH, PLAN, head)) == [
        ("FY22 Sales VPMOM", Change.ADDED),
        ("FY21 Sales VPMOM", Change.DELETED),
    ]


def test_blocks_with_one_title_pair_by_position():
    twice = PLAN.replace("FY21 Sales VPMOM", "FY21 Ops VPMOM")
    head = twice.replace("Sell more", "Sell much more")
    [second] = changed_blocks(PATH, twice, head)
    assert second.index == 1
    assert second.key == BlockKey(PATH, "fy21 ops vpmom", 1)


def test_block_hashes_agree_with_changed_blocks():
    head = PLAN.replace("Sell more", "Sell much more")
    [sales] = changed_blocks(PATH, PLAN, head)
    assert block_hashes(PATH, head)[sales.key] == sales.hash
    assert block_hashes(PATH, PLAN)[sales.key] != sales.hash
    assert block_hashes(PATH, None) == {}


def _versions(corpus: Path) -> dict[str, list[Path]]:
    """Corpus files per handbook path, oldest first."""
    by_path: dict[str, list[tuple[datetime, Path]]] = {}
    with (corpus / "MANIFEST.tsv").open(newline="") as manifest:
        for row in csv.DictReader(manifest, delimiter="\t"):
            if row["file"].startswith("vpmom/"):
                when = datetime.fromisoformat(row["commit_date"])
                by_path.setdefault(row["path"], []).append((when, corpus / row["file"]))
    return {path: [file for _, file in sorted(files)] for path, files in by_path.items()}


def test_consecutive_corpus_versions(corpus):
    """Real histories: every reported block really changed, every other head block has an
    identical base block, and something changed somewhere."""
    reported = 0
    for path, files in _versions(corpus).items():
        for older, newer in pairwise(files):
            base, head = older.read_text(), newer.read_text()
            changes = changed_blocks(path, base, head)
            base_hashes, head_hashes = block_hashes(path, base), block_hashes(path, head)
            changed_keys = {c.key for c in changes}
            for change in changes:
                assert base_hashes.get(change.key, ABSENT) != change.hash
                assert head_hashes.get(change.key, ABSENT) == change.hash
            for key, value in head_hashes.items():
                if key not in changed_keys:
                    assert base_hashes[key] == value
            reported += len(changes)
    assert reported > 0
