"""Pull request reviews and the one that counts per reviewer (GitHub semantics)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class ReviewState(StrEnum):
    APPROVED = "APPROVED"
    CHANGES_REQUESTED = "CHANGES_REQUESTED"
    COMMENTED = "COMMENTED"
    DISMISSED = "DISMISSED"
    PENDING = "PENDING"


@dataclass(frozen=True)
class Review:
    """A review as GitHub reports it; `state` in either case (REST sends upper case,
    webhooks lower case)."""

    id: int
    user: str
    state: str
    submitted_at: datetime
    commit_id: str

    @property
    def verdict(self) -> ReviewState:
        """The normalized state; anything unknown reads as a comment, which changes nothing."""
        try:
            return ReviewState(self.state.upper())
        except ValueError:
            return ReviewState.COMMENTED


def latest_reviews(reviews: Iterable[Review]) -> dict[str, Review]:
    """Casefolded login -> the review that counts: the latest approval or change request.

    Comments and pending reviews change nothing. GitHub marks a dismissed review DISMISSED
    in place; it leaves the reviewer with no standing review rather than reviving an
    earlier one, as GitHub requires a fresh approval after a dismissal. Equal times keep
    the given order.
    """
    latest: dict[str, Review] = {}
    for review in sorted(reviews, key=lambda r: r.submitted_at):
        login = review.user.casefold()
        if review.verdict in (ReviewState.APPROVED, ReviewState.CHANGES_REQUESTED):
            latest[login] = review
        elif review.verdict is ReviewState.DISMISSED:
            latest.pop(login, None)
    return latest
