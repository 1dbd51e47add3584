"""Merge recording (docs/architecture.md#merge-recording): the new text of each changed file,
the commit message and the pull request comment that record a merged pull request's RAPID
decision.

For every changed block found in the merged text:

- Vetted date becomes the merge date: `merged_at` (GitHub reports it in UTC) converted
  to `timezone`, so a merge late in the evening of a handbook kept in another zone gets
  that zone's date. It is written in the style of the block's Vetted date; when that is
  unset or not a date, in the style of its Period's start; else as "May 1, 2019".
- Previous versions gets, first, a link to the file at the pull request's base commit,
  at the plan's heading there (`#anchor` as GitHub makes it, so each plan of a page gets
  its own), labelled with the Vetted date that version carried, as written. The label is read
  from the base text, not the merged one, so it names the version it points at even
  when the pull request edited the Vetted date itself. A base version whose Vetted date
  was unset (or that had no such block) was never vetted, so it gets no link. At most
  `limit` entries are kept, the oldest dropped (see previous_versions).
- A metadata table without those rows gets them appended. A block without any table gets
  a two-row table under its title, headed by the Vetted date row: the Period row that
  heads a full table cannot be made up, and the checker then asks for Period and RAPID.
- Placeholder blocks ("(TBA)", "New VPMOM to be added") hold no plan to vet: left alone.
- A block whose RAPID review had not succeeded when it merged (an administrator merged past
  the checks, or the repository does not require them) was not vetted: left alone, and the
  comment names whose approval was missing; `record_unvetted` records it all the same.

Blocks are found by their `BlockKey` (normalized title and rank among same-titled
blocks of the page); blocks not asked for, and every other byte, stay as they were.

Recording again is a no-op: the Vetted date already reads the merge date, and a link to
the base commit's version is never added twice. A second pull request merged the same
day does add a link: its base commit, holding the first record, is another version.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, date, tzinfo

from rapidvet.checks.anchors import heading_anchors
from rapidvet.checks.dates import (
    DEFAULT_STYLE,
    DateStyle,
    format_date,
    is_unset,
    parse_date,
    parse_period,
)
from rapidvet.checks.model import Block
from rapidvet.checks.options import DEFAULT_KINDS, Kind
from rapidvet.workflows.approval import RoleRow, RowState
from rapidvet.workflows.changes import BlockKey, keyed_blocks, normalized_title
from rapidvet.workflows.merge_message import commit_message, merge_comment
from rapidvet.workflows.merge_model import (
    Approval,
    BlockDecision,
    BlockRecord,
    FileRecord,
    MergedFile,
    MergedPullRequest,
    MergeRecord,
    PreviousVersion,
    SkippedBlock,
)
from rapidvet.workflows.page_edit import Edit, Lines, appended_rows, cell_edit, table_under_title
from rapidvet.workflows.previous_versions import entries, link_label, with_newest
from rapidvet.workflows.rapid_config import MergeSettings

__all__ = [
    "Approval",
    "BlockDecision",
    "BlockRecord",
    "FileRecord",
    "MergeRecord",
    "MergedFile",
    "MergedPullRequest",
    "PreviousVersion",
    "SkippedBlock",
    "block_decisions",
    "record_merge",
]

VETTED = "Vetted date"
PREVIOUS = "Previous versions"
DELETED = "not in the merged file (deleted by the pull request)"
PLACEHOLDER = "a placeholder: no plan to vet"


def record_merge(
    pr: MergedPullRequest,
    files: Sequence[MergedFile],
    decisions: Sequence[BlockDecision],
    *,
    kinds: Sequence[Kind] = DEFAULT_KINDS,
    limit: int = MergeSettings.previous_versions_limit,
    timezone: tzinfo = UTC,
    record_unvetted: bool = MergeSettings.record_unvetted,
) -> MergeRecord:
    """Record `decisions` (the changed blocks, keyed as workflows.changes keys them) in
    `files`. A decision whose file is not among `files` is skipped as deleted; one with
    approvals `missing` is left out as unvetted unless `record_unvetted`."""
    if limit < 1:
        raise ValueError(f"previous versions limit must be at least 1, not {limit}")
    moments = [pr.merged_at, *(a.submitted_at for d in decisions for a in d.approvals)]
    if any(moment.utcoffset() is None for moment in moments):
        # A naive time would be read in the machine's zone: not a pure function any more.
        raise ValueError("merged_at and approval times must be timezone-aware")
    if len({_normalized(d.key) for d in decisions}) != len(decisions):
        raise ValueError("two decisions for one block")
    merged_on = pr.merged_at.astimezone(timezone).date()
    unvetted = [] if record_unvetted else [_unvetted(d) for d in decisions if d.missing]
    decisions = [d for d in decisions if record_unvetted or not d.missing]
    by_path: dict[str, list[BlockDecision]] = defaultdict(list)
    for decision in decisions:
        by_path[decision.key.path].append(decision)
    known = {file.path: file for file in files}
    records = []
    skipped = [SkippedBlock(d, d.key.title, DELETED) for d in decisions if d.key.path not in known]
    for path, wanted in by_path.items():
        if path in known:
            record, left = _file_record(pr, known[path], wanted, merged_on, kinds, limit)
            records.append(record)
            skipped += left
    return MergeRecord(
        files=tuple(records),
        skipped=tuple(skipped),
        commit_message=commit_message(pr, records),
        comment=merge_comment(pr, records, skipped, timezone, unvetted),
        unvetted=tuple(unvetted),
    )


def _unvetted(decision: BlockDecision) -> SkippedBlock:
    reason = "missing approval: " + "; ".join(decision.missing)
    return SkippedBlock(decision, decision.key.title, reason)


def _file_record(
    pr: MergedPullRequest,
    file: MergedFile,
    decisions: Sequence[BlockDecision],
    merged_on: date,
    kinds: Sequence[Kind],
    limit: int,
) -> tuple[FileRecord, list[SkippedBlock]]:
    lines = Lines(file.merged_text)
    merged = dict(keyed_blocks(file.path, file.merged_text, kinds))
    base = dict(keyed_blocks(file.path, file.base_text, kinds))
    anchors = heading_anchors(file.base_text) if file.base_text is not None else {}
    edits: list[Edit] = []
    records, skipped = [], []
    for decision in decisions:
        key = _normalized(decision.key)
        block = merged.get(key)
        if block is None or block.placeholder is not None:
            gone = base.get(key) if block is None else block
            title = gone.title if gone else decision.key.title
            skipped.append(SkippedBlock(decision, title, DELETED if block is None else PLACEHOLDER))
            continue
        vetted = format_date(merged_on, _date_style(block))
        base_block = base.get(key)
        label = _vetted_label(base_block)
        # Lands on the plan's own heading in that version, not at the top of a page of plans.
        anchor = anchors.get(base_block.line) if base_block else None
        previous = PreviousVersion(label, pr.permalink(file.path, anchor)) if label else None
        edits += _block_edits(lines, block, vetted, previous, limit)
        records.append(BlockRecord(decision, block.title, vetted, previous))
    lines.apply(edits)
    return FileRecord(file.path, file.merged_text, lines.text(), tuple(records)), skipped


def _normalized(key: BlockKey) -> BlockKey:
    """The key with its title normalized, so a title given as written matches too."""
    return BlockKey(key.path, normalized_title(key.title), key.index)


def _date_style(block: Block) -> DateStyle:
    vetted = block.row(VETTED)
    parsed = parse_date(vetted.value) if vetted else None
    if parsed:
        return parsed.style
    period = block.row("period")
    found = parse_period(period.value) if period else None
    return found.start.style if found else DEFAULT_STYLE


def _vetted_label(base: Block | None) -> str | None:
    """The Vetted date the base version carried, as written, if it had one."""
    row = base.row(VETTED) if base else None
    return row.value if row and not is_unset(row.value) else None


def _block_edits(
    lines: Lines, block: Block, vetted: str, previous: PreviousVersion | None, limit: int
) -> list[Edit]:
    previous_row = block.row(PREVIOUS)
    cell = previous_row.value if previous_row else ""
    if previous and all(entry.target != previous.url for entry in entries(cell)):
        cell = with_newest(cell, f"[{link_label(previous.label)}]({previous.url})", limit)
    values = {VETTED: vetted, PREVIOUS: cell}
    if not block.metadata:
        return [table_under_title(lines, block, list(values.items()))]
    edits: list[Edit] = []
    missing = []
    for key, value in values.items():
        row = block.row(key)
        if row is None:
            missing.append((key, value))
        elif edit := cell_edit(lines, row, value):
            edits.append(edit)
    if missing:
        edits.append(appended_rows(lines, block, missing))
    return edits


def block_decisions(rows: Sequence[RoleRow], failure: str | None = None) -> list[BlockDecision]:
    """What each changed block's record names: the approvals that satisfied its blocking
    roles and its P holders, from the RAPID decision's rows, and what its RAPID review
    still missed (`failure`: why the whole review failed, as an error note makes it).
    Deleted blocks are left out."""
    approvals: dict[BlockKey, list[Approval]] = defaultdict(list)
    performers: dict[BlockKey, list[str]] = defaultdict(list)
    missing: dict[BlockKey, list[str]] = defaultdict(list)
    for row in rows:
        if row.block.head is None:
            continue
        key = row.block.key
        approvals.setdefault(key, [])
        if gap := _missing(row):
            missing[key].append(gap)
        if row.role == "P":
            performers[key].append(row.holder.name)
        elif row.required and row.state is RowState.APPROVED and row.review is not None:
            spoke_for = None if row.holder.login == row.review.user else row.holder.name
            approvals[key].append(
                Approval(row.review.user, row.role, row.review.submitted_at, spoke_for)
            )
    return [
        BlockDecision(
            key,
            tuple(found),
            tuple(dict.fromkeys(performers[key])),
            tuple(dict.fromkeys([*missing[key], *([failure] if failure else [])])),
        )
        for key, found in approvals.items()
    ]


def _missing(row: RoleRow) -> str | None:
    """What this row lacks for the block's RAPID review to succeed, if anything."""
    if row.state is RowState.VETOED and row.review is not None:
        return f"{row.role} {row.holder}: changes requested by @{row.review.user}"
    if row.required and row.state is not RowState.APPROVED:
        return f"{row.role} {row.holder}: {row.state}"
    return None
