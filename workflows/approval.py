"""Approval state of every (block, role, holder) row and the conclusion
(docs/architecture.md#approval-state).

Each required holder must approve the current content of the block; a change request
from an A holder is a veto. Team holders speak through their members (any one, or all,
per `team_approval`). The pull request author is left out of every holder unless
`author_can_satisfy`, and then counts as approving: GitHub does not let an author
review their own pull request, so authorship is the only approval they can give.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from rapidvet.workflows.changes import ABSENT, BlockKey, ChangedBlock
from rapidvet.workflows.rapid_config import Policy
from rapidvet.workflows.reviews import Review, ReviewState, latest_reviews
from rapidvet.workflows.roles import ROLE_ORDER, BlockRoles, Holder, RoleSource

PREVIOUS_DECIDER = "D (previous)"


class RowState(StrEnum):
    APPROVED = "approved"
    WAITING = "waiting"
    VETOED = "vetoed"
    STALE = "stale"
    NOT_REQUIRED = "not required"


class Conclusion(StrEnum):
    SUCCESS = "success"
    FAILURE = "failure"
    PENDING = "pending"
    NEUTRAL = "neutral"


@dataclass(frozen=True)
class Assignment:
    """One holder of one role on one changed block."""

    block: ChangedBlock
    role: str
    holder: Holder
    source: RoleSource
    required: bool


@dataclass(frozen=True)
class RoleRow(Assignment):
    """An assignment judged against the reviews. `review` is the one that decided the
    state (None when nobody reviewed, or the author's authorship approved); `waiting_on`
    lists the team members still to approve under `team_approval: all`."""

    state: RowState = RowState.WAITING
    review: Review | None = None
    by_author: bool = False
    waiting_on: tuple[str, ...] = ()


@dataclass(frozen=True)
class Ballot:
    """What reviews are judged against. `hashes`: commit sha -> block hashes at that
    commit; `teams`: team slug -> member logins."""

    policy: Policy
    author: str
    head_sha: str
    hashes: Mapping[str, Mapping[BlockKey, str]] = field(default_factory=dict)
    teams: Mapping[str, frozenset[str]] = field(default_factory=dict)

    def is_author(self, login: str) -> bool:
        return login.casefold() == self.author.casefold()

    def voters(self, holder: Holder) -> tuple[str, ...]:
        """The logins whose approval speaks for `holder`."""
        if holder.login is not None:
            people: Iterable[str] = (holder.login,)
        else:
            people = sorted(self.teams.get(holder.team or "", ()))
        return tuple(p for p in people if self.policy.author_can_satisfy or not self.is_author(p))

    def is_current(self, review: Review, block: ChangedBlock) -> bool:
        """Whether `review` still applies to `block` under `policy.dismiss_on`. A commit
        whose hashes were not given cannot be vouched for, so its approval is stale."""
        dismiss_on = self.policy.dismiss_on
        if dismiss_on == "never" or review.commit_id == self.head_sha:
            return True
        if dismiss_on == "push":
            return False
        at_commit = self.hashes.get(review.commit_id)
        return at_commit is not None and at_commit.get(block.key, ABSENT) == block.hash


@dataclass(frozen=True)
class _Vote:
    """One voter's standing: APPROVED, STALE, VETOED (changes requested) or WAITING."""

    state: RowState
    review: Review | None


def block_assignments(
    block: ChangedBlock, roles: BlockRoles, policy: Policy, previous: BlockRoles | None = None
) -> list[Assignment]:
    """Rows for every holder of `roles`, plus the previous Decider of a block whose
    roles the pull request changes (`previous`: the roles before the change)."""
    assignments = []
    if roles.source is not None:
        assignments += [
            Assignment(block, role, holder, roles.source, role in policy.required_roles)
            for role in ROLE_ORDER
            for holder in roles.of(role)
        ]
    if previous is not None and previous.source is not None:
        required = "D" in policy.required_roles
        assignments += [
            Assignment(block, PREVIOUS_DECIDER, holder, previous.source, required)
            for holder in previous.of("D")
        ]
    return assignments


def role_rows(
    assignments: Iterable[Assignment], reviews: Iterable[Review], ballot: Ballot
) -> tuple[RoleRow, ...]:
    latest = latest_reviews(reviews)
    return tuple(_row(a, latest, ballot) for a in assignments)


def conclusion(rows: Sequence[RoleRow], failing: bool) -> Conclusion:
    """`failing`: an error-level finding stands, which no review can fix."""
    if failing or any(row.state is RowState.VETOED for row in rows):
        return Conclusion.FAILURE
    if not rows:
        return Conclusion.NEUTRAL
    if any(row.required and row.state is not RowState.APPROVED for row in rows):
        return Conclusion.PENDING
    return Conclusion.SUCCESS


def _row(a: Assignment, latest: Mapping[str, Review], ballot: Ballot) -> RoleRow:
    if not a.required:
        return _judged(a, RowState.NOT_REQUIRED)
    votes = {login: _vote(login, a.block, latest, ballot) for login in ballot.voters(a.holder)}
    by_state: dict[RowState, list[_Vote]] = {}
    for vote in votes.values():
        by_state.setdefault(vote.state, []).append(vote)
    if a.role == "A" and RowState.VETOED in by_state:
        return _judged(a, RowState.VETOED, by_state[RowState.VETOED])
    approved = by_state.get(RowState.APPROVED, [])
    missing = tuple(login for login, vote in votes.items() if vote.state is not RowState.APPROVED)
    every_member = a.holder.is_team and ballot.policy.team_approval == "all"
    if approved and not (every_member and missing):
        return _judged(a, RowState.APPROVED, approved)
    waiting_on = missing if every_member else ()
    if RowState.STALE in by_state:
        return _judged(a, RowState.STALE, by_state[RowState.STALE], waiting_on)
    # A Decider's change request does not veto, but it is what the row waits on.
    return _judged(a, RowState.WAITING, by_state.get(RowState.VETOED, []), waiting_on)


def _judged(
    a: Assignment, state: RowState, votes: Sequence[_Vote] = (), waiting_on: tuple[str, ...] = ()
) -> RoleRow:
    """The row in `state`, decided by the newest review among `votes`; an approval
    without any review is the author's authorship."""
    reviews = sorted((v.review for v in votes if v.review), key=lambda r: r.submitted_at)
    return RoleRow(
        a.block,
        a.role,
        a.holder,
        a.source,
        a.required,
        state,
        review=reviews[-1] if reviews else None,
        by_author=state is RowState.APPROVED and not reviews,
        waiting_on=waiting_on,
    )


def _vote(login: str, block: ChangedBlock, latest: Mapping[str, Review], ballot: Ballot) -> _Vote:
    if ballot.is_author(login):
        # Only reached with author_can_satisfy: authorship is the author's approval.
        return _Vote(RowState.APPROVED, None)
    review = latest.get(login.casefold())
    if review is None:
        return _Vote(RowState.WAITING, None)
    if review.verdict is ReviewState.CHANGES_REQUESTED:
        return _Vote(RowState.VETOED, review)
    current = ballot.is_current(review, block)
    return _Vote(RowState.APPROVED if current else RowState.STALE, review)
