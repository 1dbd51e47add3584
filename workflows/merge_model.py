"""What merge recording takes in and gives back (docs/architecture.md#merge-recording):
plain frozen data."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote

from rapidvet.checks.paths import url_path
from rapidvet.workflows.changes import BlockKey


@dataclass(frozen=True)
class Approval:
    """An approval that satisfied `role` (D, A...) on a block. `holder` is the RAPID
    holder it spoke for when that is not the login itself: a team or an alias."""

    login: str
    role: str
    submitted_at: datetime
    holder: str | None = None


@dataclass(frozen=True)
class BlockDecision:
    """One changed block to record, with the approvals that carried it and the P holders
    (as written: `@org/team`, `IJT`) who now have to act on it."""

    key: BlockKey
    approvals: tuple[Approval, ...] = ()
    performers: tuple[str, ...] = ()
    # Why its RAPID review had not succeeded at the merge ("D DEE (@dee): waiting"); empty
    # when it had: only then was the plan vetted.
    missing: tuple[str, ...] = ()


@dataclass(frozen=True)
class MergedFile:
    """A changed file: `merged_text` on the base branch after the merge, `base_text` at
    the pull request's base commit (None when the pull request added the file)."""

    path: str
    merged_text: str
    base_text: str | None


@dataclass(frozen=True)
class MergedPullRequest:
    """The merged pull request. Times must be timezone-aware; GitHub reports UTC."""

    number: int
    merged_at: datetime
    base_sha: str
    head_sha: str
    merge_sha: str
    web_url: str  # https://github.com, or the GitHub Enterprise Server's address
    owner: str
    repo: str

    def permalink(self, path: str, anchor: str | None = None) -> str:
        """The file as it was at the base commit: the version a merge replaces; at `anchor`
        (a heading's, as GitHub makes it from the page's text) when given."""
        parts = (self.owner, self.repo, "blob", self.base_sha)
        url = f"{self.web_url}/" + "/".join([*map(quote, parts), url_path(path)])
        return f"{url}#{quote(anchor, safe='')}" if anchor else url


@dataclass(frozen=True)
class PreviousVersion:
    label: str  # the Vetted date of the replaced version, as it was written
    url: str


@dataclass(frozen=True)
class BlockRecord:
    """What recording did to one block: the Vetted date it now reads and the version it
    links as previous (None when that version had never been vetted)."""

    decision: BlockDecision
    title: str
    vetted: str
    previous: PreviousVersion | None


@dataclass(frozen=True)
class SkippedBlock:
    """A decision not recorded; `title` as last written (the key's, for a deleted file)."""

    decision: BlockDecision
    title: str
    reason: str


@dataclass(frozen=True)
class FileRecord:
    path: str
    old_text: str
    new_text: str
    blocks: tuple[BlockRecord, ...]

    @property
    def changed(self) -> bool:
        return self.old_text != self.new_text


@dataclass(frozen=True)
class MergeRecord:
    """Every file with a recorded block (changed or not), the blocks left alone, and the
    commit message and pull request comment describing the record; `unvetted`: the plans
    left alone because they merged without their RAPID review succeeding."""

    files: tuple[FileRecord, ...]
    skipped: tuple[SkippedBlock, ...]
    commit_message: str
    comment: str
    unvetted: tuple[SkippedBlock, ...] = ()  # merged without their RAPID review succeeding

    @property
    def changed(self) -> bool:
        """False when every file already holds this record: nothing to commit."""
        return any(file.changed for file in self.files)
