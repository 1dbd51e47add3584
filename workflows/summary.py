"""The "RAPID review" check run output: title, summary (the role table) and text
(findings, what each approval would unblock, where the roles come from), in markdown."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC

from rapidvet.checks.model import Severity
from rapidvet.workflows.approval import Conclusion, RoleRow, RowState
from rapidvet.workflows.changes import ChangedBlock
from rapidvet.workflows.notes import Note
from rapidvet.workflows.reviewers import Requests, ReviewerRequests, Unblock
from rapidvet.workflows.reviews import Review
from rapidvet.workflows.roles import Origin, RoleSource

# GitHub caps output.summary and output.text at 65 535 characters and in practice counts
# bytes, so the limit is applied to the UTF-8 length.
LIMIT = 65_535

STATE_SYMBOLS = {
    RowState.APPROVED: "✅",
    RowState.WAITING: "⏳",
    RowState.VETOED: "⛔",
    RowState.STALE: "🔄",
    RowState.NOT_REQUIRED: "⚪",
}
_CONCLUSION_SYMBOLS = {
    Conclusion.SUCCESS: "✅",
    Conclusion.FAILURE: "⛔",
    Conclusion.PENDING: "⏳",
    Conclusion.NEUTRAL: "⚪",
}
_SOURCE_NAMES = {Origin.CONFIG: "the `paths:` entry at", Origin.DOCUMENT: "the RAPID line at"}
_SEVERITY_SYMBOLS = {Severity.ERROR: "❗", Severity.WARNING: "⚠️", Severity.NOTICE: "💡"}


@dataclass(frozen=True)
class CheckOutput:
    title: str
    summary: str
    text: str


def check_output(
    conclusion: Conclusion,
    rows: Sequence[RoleRow],
    notes: Sequence[Note],
    requests: Requests,
    unblocks: Sequence[Unblock],
) -> CheckOutput:
    return CheckOutput(
        _check_title(conclusion, rows, notes),
        fit(_summary_lines(conclusion, rows, requests)),
        fit(_text_lines(rows, notes, unblocks)),
    )


def _check_title(conclusion: Conclusion, rows: Sequence[RoleRow], notes: Sequence[Note]) -> str:
    required = [row for row in rows if row.required]
    approved = sum(row.state is RowState.APPROVED for row in required)
    vetoes = sorted({_reviewer(row.review) for row in rows if row.state is RowState.VETOED})
    errors = sum(note.severity is Severity.ERROR for note in notes)
    if conclusion is Conclusion.NEUTRAL:
        return "No RAPID approvals required"
    if conclusion is Conclusion.SUCCESS:
        return f"All {len(required)} required RAPID approvals are in"
    if vetoes:
        return f"Vetoed by {', '.join(vetoes)}"
    if conclusion is Conclusion.FAILURE:
        return f"{errors} {_plural(errors, 'finding')} to fix before approvals can count"
    return f"{approved} of {len(required)} required RAPID approvals"


def _summary_lines(
    conclusion: Conclusion, rows: Sequence[RoleRow], requests: Requests
) -> list[str]:
    lines = [f"{_CONCLUSION_SYMBOLS[conclusion]} **RAPID review: {conclusion}**", ""]
    if rows:
        lines += [
            "| Block | Role | Holder | State | By |",
            "| :-- | :-- | :-- | :-- | :-- |",
            *(
                _table_row(row, n == 0 or row.block != rows[n - 1].block)
                for n, row in enumerate(rows)
            ),
            "",
        ]
    lines += _request_lines("Review requested from", requests.blocking)
    lines += _request_lines("Input requested from (not blocking)", requests.input)
    return lines


def _text_lines(
    rows: Sequence[RoleRow], notes: Sequence[Note], unblocks: Sequence[Unblock]
) -> list[str]:
    lines = []
    if notes:
        lines += ["### Findings", "", *(_note_line(note) for note in notes), ""]
    if unblocks:
        lines += ["### What an approval would unblock", "", *map(_unblock_line, unblocks), ""]
    if rows:
        lines += ["### Where the roles come from", "", *_source_lines(rows)]
    return lines


def fit(lines: Sequence[str], limit: int = LIMIT) -> str:
    """The lines joined, cut at a line boundary with a note when over `limit` bytes."""
    text = "\n".join(lines)
    if _size(text) <= limit:
        return text
    kept: list[str] = []
    used = 0
    for line in lines:
        if used + _size(line) + 1 + _size(_cut_note(len(lines) - len(kept))) > limit:
            break
        kept.append(line)
        used += _size(line) + 1
    return "\n".join(kept) + _cut_note(len(lines) - len(kept))


def _cut_note(left_out: int) -> str:
    return f"\n\n_… {left_out} more lines not shown: GitHub limits this output._"


def _table_row(row: RoleRow, first_of_block: bool) -> str:
    state = f"{STATE_SYMBOLS[row.state]} {row.state}"
    block = _block_name(row.block) if first_of_block else ""
    cells = (block, row.role, str(row.holder), state, _by(row))
    return "| " + " | ".join(_cell(c) for c in cells) + " |"


def _block_name(block: ChangedBlock) -> str:
    return f"{block.block.title} (`{block.path}:{block.block.line}`, {block.change})"


def _by(row: RoleRow) -> str:
    if row.by_author:
        return "the author (policy.author_can_satisfy)"
    parts = []
    if row.review is not None:
        review = row.review
        # GitHub reports times in UTC; a naive time is taken to be UTC already.
        when = (
            review.submitted_at.astimezone(UTC)
            if review.submitted_at.tzinfo
            else review.submitted_at
        )
        parts.append(
            f"{_reviewer(review)} ({review.verdict.lower().replace('_', ' ')}), "
            f"{when:%Y-%m-%d %H:%M} UTC, review {review.id} on `{review.commit_id[:7]}`"
        )
    if row.waiting_on:
        parts.append("waiting on " + ", ".join(f"@{login}" for login in row.waiting_on))
    return "; ".join(parts)


def _source_lines(rows: Sequence[RoleRow]) -> list[str]:
    roles: dict[tuple[ChangedBlock, RoleSource], list[str]] = {}
    for row in rows:
        held = roles.setdefault((row.block, row.source), [])
        if row.role not in held:
            held.append(row.role)
    return [
        f"- {_block_name(block)}: {', '.join(held)} from {_SOURCE_NAMES[source.origin]} `{source}`"
        for (block, source), held in roles.items()
    ]


def _request_lines(label: str, requests: ReviewerRequests) -> list[str]:
    names = [f"@{user}" for user in requests.users] + [f"team {t}" for t in requests.teams]
    return [f"**{label}:** {', '.join(names)}", ""] if names else []


def _note_line(note: Note) -> str:
    where = f" (`{note.path}:{note.line}`)" if note.path and note.line else ""
    return f"- {_SEVERITY_SYMBOLS[note.severity]} {note.severity}: {note.message}{where}"


def _unblock_line(unblock: Unblock) -> str:
    satisfied = ", ".join(f"{row.role} on {_block_name(row.block)}" for row in unblock.rows)
    completes = " — and would complete the review" if unblock.completes else ""
    return f"- **{unblock.reviewer}**: {satisfied}{completes}"


def _reviewer(review: Review | None) -> str:
    return f"@{review.user}" if review else "nobody"


def _cell(text: str) -> str:
    # A pipe or a line break inside a cell would end the cell or the row.
    return " ".join(text.split()).replace("|", "\\|")


def _plural(count: int, word: str) -> str:
    return word if count == 1 else f"{word}s"


def _size(text: str) -> int:
    return len(text.encode())
