"""Whom to ask for a review, and what each possible approval would unblock.

Every holder of a missing required row (and a team member where their own approval
adds to the team's) is tried out: the rows are judged again with that approval added at
the head commit. The requests are then the
smallest set of candidates covering every coverable missing row (greedy set cover; ties
go to whoever the rows name directly, then to the handle in alphabetical order).
Nobody is asked who wrote the pull request, is `unavailable` (they can still approve), or
whose standing review is already on the current content of the blocks in question.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from rapidvet.workflows.approval import (
    Ballot,
    Conclusion,
    RoleRow,
    RowState,
    conclusion,
    role_rows,
)
from rapidvet.workflows.changes import ChangedBlock
from rapidvet.workflows.reviews import Review, latest_reviews
from rapidvet.workflows.roles import Holder

INPUT_ROLES = ("I", "P")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class ReviewerRequests:
    """What to pass to GitHub's request-reviewers call: logins and team slugs."""

    users: tuple[str, ...] = ()
    teams: tuple[str, ...] = ()


@dataclass(frozen=True)
class Requests:
    blocking: ReviewerRequests = ReviewerRequests()
    input: ReviewerRequests = ReviewerRequests()


@dataclass(frozen=True)
class Unblock:
    """The missing rows `reviewer`'s approval would satisfy (for a team: any member's,
    or every member's under `team_approval: all`), and whether it alone would make the
    conclusion success."""

    reviewer: Holder
    rows: tuple[RoleRow, ...]
    completes: bool


def unblocks(
    rows: Sequence[RoleRow], reviews: Sequence[Review], ballot: Ballot, failing: bool
) -> tuple[Unblock, ...]:
    """Every candidate whose approval would satisfy a missing row, most useful first.
    `rows` as judged with `reviews` and `ballot`; `failing` as for `conclusion`."""
    found = []
    for candidate in _candidates(rows, ballot):
        approvals, judged_by = _approval_by(candidate, reviews, ballot)
        after = role_rows(rows, [*reviews, *approvals], judged_by)
        satisfied = tuple(
            before
            for before, now in zip(rows, after, strict=True)
            if _missing(before) and now.state is RowState.APPROVED
        )
        if satisfied:
            completes = conclusion(after, failing) is Conclusion.SUCCESS
            found.append(Unblock(candidate, satisfied, completes))
    return tuple(sorted(found, key=lambda u: (not u.completes, -len(u.rows), u.reviewer.key)))


def requests(
    rows: Sequence[RoleRow],
    candidates: Iterable[Unblock],
    reviews: Iterable[Review],
    ballot: Ballot,
    unavailable: frozenset[str],
) -> Requests:
    """Blocking requests covering the missing rows, and (with `request_input`) the I and
    P holders not asked already. `unavailable`: holder keys never requested."""
    latest = latest_reviews(reviews)

    def reviewed(login: str, blocks: Iterable[ChangedBlock]) -> bool:
        """Whether the standing review of `login` is on the current content of `blocks`."""
        review = latest.get(login.casefold())
        return review is not None and all(ballot.is_current(review, b) for b in blocks)

    def askable(holder: Holder, blocks: list[ChangedBlock]) -> bool:
        if holder.key in unavailable:
            return False
        if holder.login is None:
            return True
        return not ballot.is_author(holder.login) and not reviewed(holder.login, blocks)

    blocking = _cover([u for u in candidates if askable(u.reviewer, [r.block for r in u.rows])])
    if not ballot.policy.request_input:
        return Requests(_as_requests(blocking))
    asked = {holder.key for holder in blocking}
    informants: dict[str, tuple[Holder, list[ChangedBlock]]] = {}
    for row in rows:
        if row.role in INPUT_ROLES and not row.required and row.holder.handle is not None:
            informants.setdefault(row.holder.key, (row.holder, []))[1].append(row.block)
    extra = [
        holder
        for key, (holder, blocks) in informants.items()
        if key not in asked
        and askable(holder, blocks)
        # A team has given its input once any member reviewed the current content.
        and not (holder.is_team and any(reviewed(m, blocks) for m in ballot.voters(holder)))
    ]
    return Requests(_as_requests(blocking), _as_requests(extra))


def _missing(row: RoleRow) -> bool:
    return row.required and row.state is not RowState.APPROVED


def _candidates(rows: Iterable[RoleRow], ballot: Ballot) -> list[Holder]:
    """Holders of missing rows, and team members where their own approval adds to the
    team's: a member who holds another missing row, the member whose veto stands, the
    last member missing under `team_approval: all`. Trying every member of a large team
    would only repeat what the team's own entry says, at a cost per member."""
    missing = [row for row in rows if _missing(row)]
    direct = {row.holder.key for row in missing}
    found: dict[str, Holder] = {}
    for row in missing:
        handle = row.holder.handle
        if handle is None or (row.holder.login and ballot.is_author(row.holder.login)):
            continue
        found[handle.casefold()] = Holder(handle, handle)
        if not row.holder.is_team:
            continue
        members = {f"@{m}" for m in ballot.voters(row.holder) if f"@{m}".casefold() in direct}
        if row.state is RowState.VETOED and row.review is not None:
            members.add(f"@{row.review.user}")
        if len(row.waiting_on) == 1:
            members.add(f"@{row.waiting_on[0]}")
        found.update((m.casefold(), Holder(m, m)) for m in members)
    return [found[key] for key in sorted(found)]


def _approval_by(
    candidate: Holder, reviews: Sequence[Review], ballot: Ballot
) -> tuple[list[Review], Ballot]:
    """Hypothetical approvals at the head commit, later than every real review, standing
    for `candidate`'s approval; and the ballot to judge them with."""
    when = max((r.submitted_at for r in reviews), default=_EPOCH)

    def approval(login: str) -> Review:
        return Review(-1, login, "APPROVED", when, ballot.head_sha)

    if candidate.login is not None:
        return [approval(candidate.login)], ballot
    team = candidate.team or ""
    members = ballot.teams.get(team, frozenset())
    if ballot.policy.team_approval == "all":
        return [approval(m) for m in sorted(members)], ballot
    # "Any member" of the team, without picking one who may hold other roles too; the
    # stand-in contains a space, so it can never be a real login.
    stand_in = f"any member of {candidate.handle}"
    teams = {**ballot.teams, team: members | {stand_in}}
    return [approval(stand_in)], replace(ballot, teams=teams)


def _cover(candidates: Sequence[Unblock]) -> list[Holder]:
    uncovered = {row for u in candidates for row in u.rows}
    chosen = []
    while uncovered:
        best = min(candidates, key=lambda u: _preference(u, uncovered))
        chosen.append(best.reviewer)
        uncovered -= set(best.rows)
    return chosen


def _preference(candidate: Unblock, uncovered: set[RoleRow]) -> tuple[int, bool, str]:
    gained = uncovered.intersection(candidate.rows)
    named = any(row.holder.key == candidate.reviewer.key for row in gained)
    return -len(gained), not named, candidate.reviewer.key


def _as_requests(holders: Iterable[Holder]) -> ReviewerRequests:
    holders = list(holders)
    users = sorted({h.login for h in holders if h.login}, key=str.casefold)
    teams = sorted({h.team for h in holders if h.team}, key=str.casefold)
    return ReviewerRequests(tuple(users), tuple(teams))


def refusals_note(refused: Mapping[str, str]) -> str:
    """What the RAPID check adds about holders GitHub would not let rapidvet ask to review
    (handle -> why): their roles still wait on them, so someone has to tell them."""
    if not refused:
        return ""
    lines = [f"- {handle}: {refused[handle]}" for handle in sorted(refused, key=str.casefold)]
    return (
        "\n\n**Could not ask for a review** (their roles still need it; tell them, or fix "
        "what GitHub says):\n" + "\n".join(lines)
    )
