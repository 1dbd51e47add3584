"""Replay of real page histories (corpus HISTORY.tsv, read in place).

Every commit that names a corpus file is treated as a merged pull request: its text is the
merged file, the previous commit of that path is the base (its text is known when its
blob is in the corpus too; otherwise the base is passed as unknown, None, and no link is
expected), and the merge is dated at the commit date. Every block is recorded and the
result must be a valid page.

Records also chain, where that makes sense: when the next commit left the page as it was
(same blob: a rename elsewhere, a commit on another branch), the recorded output is what
that branch would hold, so it is recorded again as both merged and base text. A commit
that changed the page would need a three-way merge with the record, which git, not
rapidvet, does: there the chain restarts from the real text.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from rapidvet.checks.anchors import heading_anchors
from rapidvet.checks.dates import is_unset, parse_date
from rapidvet.checks.model import Block
from rapidvet.checks.options import CheckOptions
from rapidvet.checks.page import check_page
from rapidvet.checks.parse import parse_blocks
from rapidvet.workflows.changes import BlockKey, block_hashes
from rapidvet.workflows.merge_record import (
    BlockDecision,
    MergedFile,
    MergedPullRequest,
    MergeRecord,
    record_merge,
)
from rapidvet.workflows.previous_versions import entries

LIMIT = 3
NO_COMMIT = "0" * 40
PATH = "plan.md"


@dataclass(frozen=True)
class Commit:
    sha: str
    committed: datetime
    blob: str
    named_file: bool  # the corpus file is named after this commit
    text: str | None  # None when this blob is not in the corpus


def histories(corpus: Path) -> dict[tuple[str, str], list[Commit]]:
    with open(corpus / "HISTORY.tsv", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    texts = {
        (row["repo"], row["path"], row["blob_after"]): (corpus / row["corpus_file"])
        .read_bytes()
        .decode("utf-8")
        for row in rows
        if row["corpus_file"] and (corpus / row["corpus_file"]).is_file()
    }
    found: dict[tuple[str, str], list[Commit]] = defaultdict(list)
    for row in sorted(rows, key=lambda r: (r["repo"], r["path"], int(r["seq"]))):
        text = texts.get((row["repo"], row["path"], row["blob_after"]))
        found[row["repo"], row["path"]].append(
            Commit(
                row["commit"],
                datetime.fromisoformat(row["commit_date"]),
                row["blob_after"],
                bool(row["corpus_file"]) and text is not None,
                text,
            )
        )
    return found


def merged_pr(sha: str, merged_at: datetime, base_sha: str) -> MergedPullRequest:
    return MergedPullRequest(
        number=1,
        merged_at=merged_at,
        base_sha=base_sha,
        head_sha=sha,
        merge_sha=sha,
        web_url="https://github.com",
        owner="acme",
        repo="handbook",
    )


def base_link(pr: MergedPullRequest, path: str, base: str, block: Block) -> str:
    """The link to `block` of the base text `base`: the page at the block's heading."""
    return pr.permalink(path, heading_anchors(base).get(block.line))


def keyed(path: str, text: str) -> dict[BlockKey, Block]:
    return dict(zip(block_hashes(path, text), parse_blocks(text), strict=True))


def record(pr: MergedPullRequest, path: str, merged: str, base: str | None) -> MergeRecord:
    decisions = [BlockDecision(key) for key in block_hashes(path, merged)]
    return record_merge(pr, [MergedFile(path, merged, base)], decisions, limit=LIMIT)


def new_text(result: MergeRecord, merged: str) -> str:
    return result.files[0].new_text if result.files else merged


def assert_valid(
    pr: MergedPullRequest, path: str, merged: str, base: str | None
) -> tuple[str, int]:
    """Record the merge, check the result is a valid page, and return its text and the
    number of plans given a previous version link."""
    result = record(pr, path, merged, base)
    out = new_text(result, merged)
    merged_on = pr.merged_at.astimezone(UTC).date()
    before, after = keyed(path, merged), keyed(path, out)
    base_blocks = keyed(path, base or "")
    assert list(after) == list(before)
    assert all(before[s.decision.key].placeholder for s in result.skipped)
    recorded = [b.decision.key for f in result.files for b in f.blocks]
    linked_blocks = sum(b.previous is not None for f in result.files for b in f.blocks)
    for key in recorded:
        block = after[key]
        vetted = parse_date(block.row("vetted date").value)
        assert vetted is not None and vetted.value == merged_on, (path, key)
        cell = entries(block.row("previous versions").value)
        assert len([e for e in cell if e.target]) <= LIMIT
        old = base_blocks.get(key)
        old_vetted = old.row("vetted date") if old else None
        linked = old_vetted is not None and not is_unset(old_vetted.value)
        link = old and base_link(pr, path, base or "", old)
        assert linked == (bool(cell) and cell[0].target == link), (path, key)
    findings = check_page(out, path, CheckOptions(today=merged_on)).findings
    titles = {after[key].title for key in recorded}
    complete = {
        before[k].title for k in recorded if before[k].row("period") and before[k].row("rapid")
    }
    for finding in findings:
        if finding.block in titles:
            assert finding.rule != "date-unparseable", (path, finding)
        if finding.rule == "metadata-row-missing" and finding.block in titles:
            assert "Vetted" not in finding.message and "Previous" not in finding.message
            assert finding.block not in complete, (path, finding)
    assert not record(pr, path, out, base).changed
    return out, linked_blocks


@pytest.mark.slow
def test_recording_at_every_historical_commit_gives_a_valid_page(corpus):
    fresh = chained = links = 0
    for (_, path), commits in histories(corpus).items():
        previous: Commit | None = None
        recorded: str | None = None
        for commit in commits:
            pr = merged_pr(commit.sha, commit.committed, previous.sha if previous else NO_COMMIT)
            if commit.named_file and commit.text is not None:
                fresh += 1
                base = previous.text if previous else None
                recorded, linked = assert_valid(pr, path, commit.text, base)
                links += linked
            elif previous and recorded is not None and commit.blob == previous.blob:
                chained += 1
                assert_chained(pr, path, recorded)
                recorded, linked = assert_valid(pr, path, recorded, recorded)
                links += linked
            else:
                recorded = None
            previous = commit
    assert fresh >= 120 and chained >= 14 and links >= 20


def assert_chained(pr: MergedPullRequest, path: str, text: str) -> None:
    """Recording on top of a record: each plan's newest link is the version just
    recorded, labelled with its Vetted date, and the older links follow in order."""
    out = new_text(record(pr, path, text, text), text)
    before, after = keyed(path, text), keyed(path, out)
    for key, block in after.items():
        if block.placeholder is not None:
            continue
        old_cell = before[key].row("previous versions").value
        new_cell = block.row("previous versions").value
        head = f"[{before[key].row('vetted date').value}]({base_link(pr, path, text, before[key])})"
        kept = entries(new_cell)
        assert new_cell.startswith(head), (path, key)
        assert len(kept) == min(LIMIT, 1 + len(entries(old_cell)))
        assert len(kept) == 1 or old_cell.startswith(new_cell[kept[1].start :])


@pytest.mark.slow
def test_a_chain_of_re_vettings_keeps_the_newest_links(corpus):
    """Five re-vettings in a row of each corpus page with a metadata table: every plan
    ends up linking the last LIMIT versions, newest first, each labelled with the date
    it was vetted on."""
    shas = [f"{n:040x}" for n in range(1, 6)]
    merges = [datetime(2020, month, 1, 12, tzinfo=UTC) for month in range(1, 6)]
    pages = 0
    for file in sorted((corpus / "vpmom").rglob("*.md")):
        text = file.read_bytes().decode("utf-8")
        if not any(block.metadata for block in parse_blocks(text)):
            continue
        pages += 1
        vetted: dict[BlockKey, list[str]] = defaultdict(list)
        for sha, merged_at in zip(shas, merges, strict=True):
            text, _ = assert_valid(merged_pr(sha, merged_at, sha), PATH, text, text)
            for key, block in keyed(PATH, text).items():
                if block.placeholder is None:
                    vetted[key].append(block.row("vetted date").value)
        for key, block in keyed(PATH, text).items():
            if block.placeholder is not None:
                continue
            cell = block.row("previous versions").value
            links = [(cell[e.start : e.end], e.target) for e in entries(cell)[:LIMIT]]
            newest = list(zip(reversed(vetted[key][:-1]), reversed(shas[1:]), strict=False))
            assert links == [
                (f"[{label}]({permalink(sha, text, block)})", permalink(sha, text, block))
                for label, sha in newest[:LIMIT]
            ], (file, key)
    assert pages >= 10


def permalink(sha: str, text: str, block: Block) -> str:
    """The link to `block` of `text` as the version at commit `sha`."""
    return base_link(merged_pr(sha, datetime(2020, 1, 1, tzinfo=UTC), sha), PATH, text, block)
