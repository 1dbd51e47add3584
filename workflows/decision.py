"""The one entry point: a pull request's changed blocks and reviews in, the RAPID
Decision out (roles, approval states, conclusion, whom to ask, check run text).

Roles are always taken from the base branch's config, so a pull request cannot grant
itself a weaker policy. When it changes who holds the roles of a block (through the
block's RAPID line, or by giving the block different roles in the head branch's
config), the Decider from before the change must approve as well: an extra required
row with role "D (previous)".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from rapidvet.checks.model import Severity
from rapidvet.workflows.approval import (
    Assignment,
    Ballot,
    Conclusion,
    RoleRow,
    block_assignments,
    conclusion,
    role_rows,
)
from rapidvet.workflows.changes import BlockKey, ChangedBlock
from rapidvet.workflows.notes import (
    Note,
    author_notes,
    ownership_notes,
    roles_changed_note,
    team_notes,
    unresolved_notes,
)
from rapidvet.workflows.rapid_config import RapidConfig
from rapidvet.workflows.reviewers import Requests, Unblock, requests, unblocks
from rapidvet.workflows.reviews import Review
from rapidvet.workflows.roles import (
    UNOWNED,
    BlockRoles,
    block_roles,
    config_roles,
    differs,
    document_roles,
    resolve_holder,
)
from rapidvet.workflows.summary import check_output


@dataclass(frozen=True)
class PullRequest:
    number: int
    author: str
    head_sha: str
    base_sha: str


@dataclass(frozen=True)
class ReviewRequest:
    """Everything `decide` needs. `config` is the base branch's; `head_config` the head
    branch's when the pull request changes it. `org`: the repository owner, whose teams
    alone can hold roles (None: any). `teams`: team slug -> member logins.
    `hashes`: for each commit a review was given on, the `block_hashes` of every changed
    file at that commit, merged into one mapping (an approval on a commit missing here
    counts as stale, unless it is the head commit)."""

    config: RapidConfig
    pull: PullRequest
    blocks: Sequence[ChangedBlock] = ()
    reviews: Sequence[Review] = ()
    teams: Mapping[str, frozenset[str]] = field(default_factory=dict)
    hashes: Mapping[str, Mapping[BlockKey, str]] = field(default_factory=dict)
    head_config: RapidConfig | None = None
    org: str | None = None


@dataclass(frozen=True)
class Decision:
    """`rows`: one per (block, role, holder), blocks in request order; `notes`: findings
    (error notes fail the check); `requests`: reviewers to ask; `unblocks`: what each
    possible approver's approval would satisfy; `title`/`summary`/`text`: the "RAPID
    review" check run output."""

    conclusion: Conclusion
    rows: tuple[RoleRow, ...]
    notes: tuple[Note, ...]
    requests: Requests
    unblocks: tuple[Unblock, ...]
    title: str
    summary: str
    text: str


def decide(request: ReviewRequest) -> Decision:
    """The RAPID decision for a pull request: pure, so the same input gives the same decision."""
    config, pull = request.config, request.pull
    ballot = Ballot(config.policy, pull.author, pull.head_sha, request.hashes, request.teams)
    assignments: list[Assignment] = []
    notes: list[Note] = []
    for block in request.blocks:
        plan = _plan(request, block)
        block_rows = block_assignments(block, plan.roles, config.policy, plan.previous)
        assignments += block_rows
        notes += ownership_notes(config, block, plan.from_config, plan.from_document)
        notes += author_notes(plan.roles, block, ballot)
        if plan.previous is not None:
            notes.append(roles_changed_note(block, plan.changes, plan.previous))
        notes += unresolved_notes(block_rows)
        notes += team_notes(block_rows, request.teams, request.org)
    notes = list(dict.fromkeys(notes))  # one note per cause, even when it repeats per row
    rows = role_rows(assignments, request.reviews, ballot)
    failing = any(note.severity is Severity.ERROR for note in notes)
    outcome = conclusion(rows, failing)
    candidates = unblocks(rows, request.reviews, ballot, failing)
    unavailable = frozenset(resolve_holder(n, config.aliases).key for n in config.unavailable)
    # Another organization's team is never asked: a request names a team by slug alone,
    # which would ask the repository organization's team of that name.
    unavailable |= {a.holder.key for a in assignments if a.holder.outside(request.org)}
    asks = requests(rows, candidates, request.reviews, ballot, unavailable)
    output = check_output(outcome, rows, notes, asks, candidates)
    return Decision(
        outcome, rows, tuple(notes), asks, candidates, output.title, output.summary, output.text
    )


@dataclass(frozen=True)
class _Plan:
    """A block's roles under the base config (`roles`, from one of the two sources) and,
    when the pull request changes who holds them, the roles before and what changed."""

    roles: BlockRoles
    from_config: BlockRoles | None
    from_document: BlockRoles | None
    previous: BlockRoles | None = None
    changes: tuple[str, ...] = ()


def _plan(request: ReviewRequest, block: ChangedBlock) -> _Plan:
    config, path, current = request.config, block.path, block.block
    from_config = config_roles(config, path, current)
    from_document = document_roles(config, path, current)
    roles = from_config or from_document or UNOWNED
    if block.base is None or block.head is None:
        # Added blocks had no Decider; deleted ones are decided by their current holders.
        return _Plan(roles, from_config, from_document)
    changes = []
    if differs(document_roles(config, path, block.base), from_document):
        changes.append("RAPID line")
    proposed = request.head_config
    if proposed is not None and differs(from_config, config_roles(proposed, path, current)):
        changes.append(f"roles {proposed.source} gives it")
    if not changes:
        return _Plan(roles, from_config, from_document)
    previous = block_roles(config, path, block.base)
    return _Plan(roles, from_config, from_document, previous, tuple(changes))
