"""What happened to a pull request, for its details page: deliveries received, evaluations,
check runs, reviewer requests, and the merge record's commit and comment.

The web process (deliveries) and the workers (the rest) append at the same time, so every
event is a record of its own: entry N of a subject is taken with `claim_value`, which only
one writer can win, and nothing read-modify-writes a shared list. A size hint saves probing
from zero; it only ever lags behind, since each writer sets it past the entry it took and
every entry below that is taken. Check runs belong to a commit, not to a pull request, so
theirs are kept under the commit and read for each head the pull request's evaluations saw.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from rapidvet.app.pulls.inputs import PullInfo
from rapidvet.app.store import Job, Store, key_parts
from rapidvet.app.store.records import (
    TIMELINE,
    TIMELINE_DELIVERY,
    TIMELINE_SIZE,
    commit_key,
    entry_key,
    pull_key,
)
from rapidvet.workflows.decision import Decision

DELIVERY = "delivery"
EVALUATION = "evaluation"
CHECK_RUN = "check_run"
REVIEWERS = "reviewers_requested"
MERGE_COMMIT = "merge_commit"
MERGE_COMMENT = "merge_comment"
MERGE_REFUSED = "merge_refused"

Event = dict[str, Any]


def append(
    store: Store, subject: str, kind: str, at: datetime | None = None, **fields: Any
) -> None:
    """Add an event that happened `at` (now unless given)."""
    when = at or datetime.now(UTC)
    event = {"at": when.isoformat(), "kind": kind, **fields}
    index = TIMELINE_SIZE.get(store, subject) or 0
    while not TIMELINE.claim(store, entry_key(subject, index), event):
        index += 1
    TIMELINE_SIZE.put(store, subject, index + 1)


def events(store: Store, subject: str) -> list[Event]:
    """A subject's events in the order they were appended."""
    found: list[Event] = []
    while (event := TIMELINE.get(store, entry_key(subject, len(found)))) is not None:
        found.append(event)
    return found


def pull_events(store: Store, repo: str, number: int) -> list[Event]:
    """A pull request's events and the check runs of every head it was evaluated at, by time."""
    own = events(store, pull_key(repo, number))
    heads = dict.fromkeys(e["head_sha"] for e in own if e["kind"] == EVALUATION)
    runs = [e for sha in heads for e in events(store, commit_key(repo, sha))]
    return sorted(own + runs, key=lambda e: str(e["at"]))


# -- the events, recorded where they happen -------------------------------------------------


def delivery_received(store: Store, job: Job) -> None:
    """The delivery of a job whose key names a pull request ("owner/repo#12"), once however
    often the job is tried."""
    _, number = key_parts(job.key)
    if number is not None and TIMELINE_DELIVERY.claim(store, job.delivery_id):
        append(
            store,
            job.key,
            DELIVERY,
            at=job.received,
            event=job.event,
            action=job.action,
            delivery=job.delivery_id,
        )


def evaluated(store: Store, pull: PullInfo, decision: Decision) -> None:
    append(
        store,
        pull_key(pull.repo, pull.number),
        EVALUATION,
        head_sha=pull.head_sha,
        conclusion=str(decision.conclusion),
        title=decision.title,
    )


def check_run(store: Store, repo: str, head_sha: str, answer: Any, *, created: bool) -> None:
    """`answer`: the check run as GitHub returned it from the create or update call."""
    append(
        store,
        commit_key(repo, head_sha),
        CHECK_RUN,
        name=answer.get("name"),
        id=answer.get("id"),
        conclusion=answer.get("conclusion"),
        url=answer.get("html_url"),
        action="created" if created else "updated",
    )


def reviewers_requested(
    store: Store, pull: PullInfo, users: Sequence[str], teams: Sequence[str]
) -> None:
    append(store, pull_key(pull.repo, pull.number), REVIEWERS, users=list(users), teams=list(teams))


def merge_recorded(
    store: Store,
    pull: PullInfo,
    commit: str | None,
    comment: int | None,
    web_url: str,
    *,
    refused: str | None = None,
) -> None:
    """The merge record's commit (none in mode `off`, or when it could not be written) and
    its decision comment; `refused`: why the base branch refused the direct record, which
    went to a follow-up pull request instead. Each once, however often a retried job says
    so: an event already on the timeline is left out."""
    subject = pull_key(pull.repo, pull.number)
    wanted: list[Event] = []
    if refused is not None:
        wanted.append({"kind": MERGE_REFUSED, "branch": pull.base_ref, "reason": refused.strip()})
    if commit is not None:
        url = f"{web_url}/{pull.repo}/commit/{commit}"
        wanted.append({"kind": MERGE_COMMIT, "sha": commit, "url": url})
    if comment is not None:
        url = f"{pull.html_url}#issuecomment-{comment}"
        wanted.append({"kind": MERGE_COMMENT, "id": comment, "url": url})
    present = [{k: v for k, v in e.items() if k != "at"} for e in events(store, subject)]
    for event in wanted:
        if event not in present:
            append(store, subject, **event)
