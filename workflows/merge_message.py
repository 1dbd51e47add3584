"""The commit message and the pull request comment that record a merge
(docs/architecture.md#merge-recording).

The commit message ends in git trailers, one per line: `Decided-by: @login` for each D
approver, `Agreed-by: @login` for each A approver (GitHub handles, as approvals come from
GitHub accounts whose e-mail addresses are not known), then `Vetted-in: #N`.

The comment starts with a hidden marker naming the pull request and the merge commit, so
the app can tell its own record apart and never post it twice.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import datetime, tzinfo

from rapidvet.workflows.merge_model import (
    Approval,
    BlockRecord,
    FileRecord,
    MergedPullRequest,
    SkippedBlock,
)
from rapidvet.workflows.roles import ROLE_ORDER

MARKER = "rapidvet:merge-record"
TRAILERS = {"D": "Decided-by", "A": "Agreed-by"}
_MARKDOWN_SPECIALS = re.compile(r"([\\`*_\[\]<>|#~])")


def merge_record_marker(number: int, merge_sha: str) -> str:
    """The hidden first line of the comment recording pull request `number`."""
    return f"<!-- {MARKER} pr={number} merge={merge_sha} -->"


def commit_message(pr: MergedPullRequest, files: Sequence[FileRecord]) -> str:
    blocks = [(file.path, block) for file in files for block in file.blocks]
    listed = [f"- {block.title} ({path}): Vetted date {block.vetted}" for path, block in blocks]
    body = [
        "Set the Vetted date of each plan to the merge date and link the version it",
        "replaces under Previous versions:",
        "",
        *listed,
    ]
    return "\n".join(
        [
            f"Record RAPID vetting of #{pr.number}",
            "",
            *(body if blocks else ["No plan to record."]),
            "",
            *_trailers(pr, [block for _, block in blocks]),
        ]
    )


def _trailers(pr: MergedPullRequest, blocks: Sequence[BlockRecord]) -> list[str]:
    lines: list[str] = []
    for role, token in TRAILERS.items():
        logins = (a.login for b in blocks for a in _approvals(b) if a.role == role)
        lines += [f"{token}: @{login}" for login in _unique(logins)]
    return [*lines, f"Vetted-in: #{pr.number}"]


def _unique(logins: Iterable[str]) -> list[str]:
    """Each login once, as first written; GitHub logins ignore case."""
    seen: dict[str, str] = {}
    for login in logins:
        seen.setdefault(login.casefold(), login)
    return list(seen.values())


def merge_comment(
    pr: MergedPullRequest,
    files: Sequence[FileRecord],
    skipped: Sequence[SkippedBlock],
    timezone: tzinfo,
    unvetted: Sequence[SkippedBlock] = (),
) -> str:
    lines = [
        merge_record_marker(pr.number, pr.merge_sha),
        f"### RAPID decision record for #{pr.number}",
        "",
        f"Merged as {pr.merge_sha} (head {pr.head_sha}) on {_when(pr.merged_at, timezone)}.",
    ]
    for file in files:
        for block in file.blocks:
            lines += ["", *_block_lines(file.path, block, timezone)]
    if skipped:
        lines += ["", "#### Not recorded", ""]
        lines += [f"- {_escape(s.title)} in `{s.decision.key.path}`: {s.reason}" for s in skipped]
    if unvetted:
        lines += [
            "",
            "#### Merged without vetting",
            "",
            "Their RAPID review had not succeeded, so their Vetted date and Previous versions"
            " are left as they were:",
            "",
        ]
        lines += [
            f"- {_escape(s.title)} in `{s.decision.key.path}`: {_escape(s.reason)}"
            for s in unvetted
        ]
    return "\n".join(lines) + "\n"


def _block_lines(path: str, block: BlockRecord, timezone: tzinfo) -> list[str]:
    previous = block.previous
    replaces = (
        f"[{_escape(previous.label)}]({previous.url})"
        if previous
        else "none (first vetted version)"
    )
    lines = [
        f"#### {_escape(block.title)}",
        "",
        f"`{path}` · Vetted date **{block.vetted}** · previous version: {replaces}",
    ]
    rows = [
        f"| {a.role} | {_who(a)} | approved {_when(a.submitted_at, timezone)} |"
        for a in _approvals(block)
    ]
    rows += [f"| P | {_escape(holder)} | to act |" for holder in block.decision.performers]
    if rows:
        lines += ["", "| Role | Who | |", "|:---|:---|:---|", *rows]
    return lines


def _approvals(block: BlockRecord) -> list[Approval]:
    """The block's approvals, D first, then A and the other roles, each oldest first."""
    rank = {role: n for n, role in enumerate(ROLE_ORDER)}
    return sorted(
        block.decision.approvals,
        key=lambda a: (rank.get(a.role, len(rank)), a.submitted_at),
    )


def _who(approval: Approval) -> str:
    holder = f" for {_escape(approval.holder)}" if approval.holder else ""
    return f"@{approval.login}{holder}"


def _when(moment: datetime, timezone: tzinfo) -> str:
    return f"{moment.astimezone(timezone):%Y-%m-%d %H:%M %Z}"


def _escape(text: str) -> str:
    """Plain text made literal in markdown, table cells included."""
    return _MARKDOWN_SPECIALS.sub(r"\\\1", text)
