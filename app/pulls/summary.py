"""The summary of a pull request's last evaluation: what its details page and the merge queue
read later without asking GitHub again.

Stored as the `EVALUATION` record (a JSON object, key "owner/repo#n"). The JSON keys are the
field names; `from_json` also reads the summaries earlier releases stored, which lack the pull
request, the blocks, unblocks, notes, the title, and rows' handle, review, `required`,
`by_author` and `waiting_on`: those read as absent, empty or their default. Conclusions, row
states, changes and severities stay the text that was shown, so a value a later release adds
still reads.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime

from rapidvet.app.pulls.inputs import PullInfo
from rapidvet.app.store import Store
from rapidvet.app.store.records import EVALUATION, JsonObject, pull_key
from rapidvet.checks.model import Finding
from rapidvet.workflows.approval import RoleRow
from rapidvet.workflows.changes import ChangedBlock
from rapidvet.workflows.decision import Decision
from rapidvet.workflows.notes import Note
from rapidvet.workflows.reviewers import Unblock
from rapidvet.workflows.reviews import Review


@dataclass(frozen=True)
class SummaryPull:
    number: int
    url: str
    author: str
    base_sha: str
    base_ref: str

    @classmethod
    def of(cls, pull: PullInfo) -> SummaryPull:
        return cls(pull.number, pull.html_url, pull.author, pull.base_sha, pull.base_ref)

    def to_json(self) -> JsonObject:
        return asdict(self)

    @classmethod
    def from_json(cls, data: JsonObject) -> SummaryPull:
        return cls(data["number"], data["url"], data["author"], data["base_sha"], data["base_ref"])


@dataclass(frozen=True)
class SummaryBlock:
    """A changed plan, at the lines the pull request leaves (the base's for a deletion)."""

    path: str
    title: str
    line: int
    end_line: int
    change: str  # a workflows.changes.Change

    @classmethod
    def of(cls, block: ChangedBlock) -> SummaryBlock:
        shown = block.block
        return cls(block.path, shown.title, shown.line, shown.end_line, str(block.change))

    def to_json(self) -> JsonObject:
        return asdict(self)

    @classmethod
    def from_json(cls, data: JsonObject) -> SummaryBlock:
        return cls(data["path"], data["title"], data["line"], data["end_line"], data["change"])


@dataclass(frozen=True)
class SummaryReview:
    """The review that decided a row's state."""

    id: int
    user: str
    state: str  # a workflows.reviews.ReviewState
    submitted_at: datetime
    commit: str

    @classmethod
    def of(cls, review: Review) -> SummaryReview:
        return cls(
            review.id, review.user, str(review.verdict), review.submitted_at, review.commit_id
        )

    def to_json(self) -> JsonObject:
        return {
            "id": self.id,
            "user": self.user,
            "state": self.state,
            "submitted_at": self.submitted_at.isoformat(),
            "commit": self.commit,
        }

    @classmethod
    def from_json(cls, data: JsonObject) -> SummaryReview:
        return cls(
            data["id"],
            data["user"],
            data["state"],
            datetime.fromisoformat(data["submitted_at"]),
            data["commit"],
        )


@dataclass(frozen=True)
class SummaryRow:
    """One (plan, role, holder) row and how the reviews left it."""

    path: str
    block: str  # the plan's title
    line: int
    role: str
    holder: str
    state: str  # a workflows.approval.RowState
    reviewer: str | None
    handle: str | None = None
    required: bool = True
    review: SummaryReview | None = None
    by_author: bool = False
    waiting_on: tuple[str, ...] = ()

    @classmethod
    def of(cls, row: RoleRow) -> SummaryRow:
        review = row.review
        return cls(
            path=row.block.path,
            block=row.block.block.title,
            line=row.block.block.line,
            role=row.role,
            holder=row.holder.name,
            state=str(row.state),
            reviewer=review.user if review else None,
            handle=row.holder.handle,
            required=row.required,
            review=SummaryReview.of(review) if review else None,
            by_author=row.by_author,
            waiting_on=row.waiting_on,
        )

    def to_json(self) -> JsonObject:
        return {
            "path": self.path,
            "block": self.block,
            "line": self.line,
            "role": self.role,
            "holder": self.holder,
            "handle": self.handle,
            "required": self.required,
            "state": self.state,
            "reviewer": self.reviewer,
            "review": self.review.to_json() if self.review else None,
            "by_author": self.by_author,
            "waiting_on": list(self.waiting_on),
        }

    @classmethod
    def from_json(cls, data: JsonObject) -> SummaryRow:
        review = data.get("review")
        return cls(
            path=data["path"],
            block=data["block"],
            line=data["line"],
            role=data["role"],
            holder=data["holder"],
            state=data["state"],
            reviewer=data["reviewer"],
            handle=data.get("handle"),
            required=data.get("required", True),
            review=SummaryReview.from_json(review) if review else None,
            by_author=data.get("by_author", False),
            waiting_on=tuple(data.get("waiting_on", ())),
        )


@dataclass(frozen=True)
class UnblockedRow:
    path: str
    block: str  # the plan's title
    role: str

    def to_json(self) -> JsonObject:
        return asdict(self)

    @classmethod
    def from_json(cls, data: JsonObject) -> UnblockedRow:
        return cls(data["path"], data["block"], data["role"])


@dataclass(frozen=True)
class SummaryUnblock:
    """The missing rows one reviewer's approval would satisfy, and whether it alone would
    complete the review."""

    reviewer: str
    handle: str | None
    completes: bool
    rows: tuple[UnblockedRow, ...]

    @classmethod
    def of(cls, unblock: Unblock) -> SummaryUnblock:
        rows = tuple(UnblockedRow(r.block.path, r.block.block.title, r.role) for r in unblock.rows)
        return cls(unblock.reviewer.name, unblock.reviewer.handle, unblock.completes, rows)

    def to_json(self) -> JsonObject:
        return {
            "reviewer": self.reviewer,
            "handle": self.handle,
            "completes": self.completes,
            "rows": [row.to_json() for row in self.rows],
        }

    @classmethod
    def from_json(cls, data: JsonObject) -> SummaryUnblock:
        rows = tuple(UnblockedRow.from_json(row) for row in data["rows"])
        return cls(data["reviewer"], data["handle"], data["completes"], rows)


@dataclass(frozen=True)
class SummaryFinding:
    """A structural finding on a changed plan."""

    path: str
    line: int
    rule: str
    severity: str  # a checks.model.Severity
    message: str
    end_line: int | None = None
    fix: str | None = None

    @classmethod
    def of(cls, path: str, finding: Finding) -> SummaryFinding:
        return cls(
            path,
            finding.line,
            finding.rule,
            str(finding.severity),
            finding.message,
            finding.end_line,
            finding.fix,
        )

    def to_json(self) -> JsonObject:
        return {
            "path": self.path,
            "line": self.line,
            "end_line": self.end_line,
            "rule": self.rule,
            "severity": self.severity,
            "message": self.message,
            "fix": self.fix,
        }

    @classmethod
    def from_json(cls, data: JsonObject) -> SummaryFinding:
        return cls(
            data["path"],
            data["line"],
            data["rule"],
            data["severity"],
            data["message"],
            data.get("end_line"),
            data.get("fix"),
        )


@dataclass(frozen=True)
class SummaryNote:
    """A note of the RAPID decision (an unowned plan, a role both sides name differently...)."""

    code: str
    severity: str  # a checks.model.Severity
    message: str
    path: str | None
    line: int | None

    @classmethod
    def of(cls, note: Note) -> SummaryNote:
        return cls(note.code, str(note.severity), note.message, note.path, note.line)

    def to_json(self) -> JsonObject:
        return asdict(self)

    @classmethod
    def from_json(cls, data: JsonObject) -> SummaryNote:
        return cls(data["code"], data["severity"], data["message"], data["path"], data["line"])


@dataclass(frozen=True)
class Summary:
    """`pull` is None only in a summary an earlier release stored."""

    head_sha: str
    conclusion: str  # a workflows.approval.Conclusion
    rows: tuple[SummaryRow, ...]
    findings: tuple[SummaryFinding, ...]
    title: str = ""
    pull: SummaryPull | None = None
    blocks: tuple[SummaryBlock, ...] = ()
    unblocks: tuple[SummaryUnblock, ...] = ()
    notes: tuple[SummaryNote, ...] = ()

    @classmethod
    def of(
        cls,
        pull: PullInfo,
        decision: Decision,
        blocks: Sequence[ChangedBlock],
        findings: Sequence[tuple[str, Finding]],
    ) -> Summary:
        """The summary of `decision` on `pull`, with the changed `blocks` and the structural
        `findings` on them ((path, finding) pairs)."""
        return cls(
            head_sha=pull.head_sha,
            conclusion=str(decision.conclusion),
            rows=tuple(SummaryRow.of(row) for row in decision.rows),
            findings=tuple(SummaryFinding.of(path, finding) for path, finding in findings),
            title=decision.title,
            pull=SummaryPull.of(pull),
            blocks=tuple(SummaryBlock.of(block) for block in blocks),
            unblocks=tuple(SummaryUnblock.of(unblock) for unblock in decision.unblocks),
            notes=tuple(SummaryNote.of(note) for note in decision.notes),
        )

    def to_json(self) -> JsonObject:
        data: JsonObject = {
            "head_sha": self.head_sha,
            "conclusion": self.conclusion,
            "title": self.title,
        }
        if self.pull is not None:  # an earlier release reads a missing pull, not a null one
            data["pull"] = self.pull.to_json()
        return data | {
            "blocks": [block.to_json() for block in self.blocks],
            "rows": [row.to_json() for row in self.rows],
            "unblocks": [unblock.to_json() for unblock in self.unblocks],
            "findings": [finding.to_json() for finding in self.findings],
            "notes": [note.to_json() for note in self.notes],
        }

    @classmethod
    def from_json(cls, data: JsonObject) -> Summary:
        pull = data.get("pull")
        return cls(
            head_sha=data["head_sha"],
            conclusion=data["conclusion"],
            rows=tuple(SummaryRow.from_json(item) for item in data["rows"]),
            findings=tuple(SummaryFinding.from_json(item) for item in data["findings"]),
            title=data.get("title", ""),
            pull=SummaryPull.from_json(pull) if pull else None,
            blocks=tuple(SummaryBlock.from_json(item) for item in data.get("blocks", ())),
            unblocks=tuple(SummaryUnblock.from_json(item) for item in data.get("unblocks", ())),
            notes=tuple(SummaryNote.from_json(item) for item in data.get("notes", ())),
        )


def keep(store: Store, repo: str, number: int, kept: Summary) -> None:
    """Keep `kept` as the pull request's summary, in place of the one before."""
    EVALUATION.put(store, pull_key(repo, number), kept.to_json())


def stored(store: Store, repo: str, number: int) -> Summary | None:
    """The summary of the pull request's last evaluation, None before its first."""
    data = EVALUATION.get(store, pull_key(repo, number))
    return None if data is None else Summary.from_json(data)
