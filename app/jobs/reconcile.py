"""Catching up after an outage or a job that died: run every few minutes (PERIODIC) and by
`rapidvet reconcile`.

Missed deliveries: GitHub never retries a failed delivery by itself, but it lists every attempt
of the last three days (`GET /app/hook/deliveries`, newest first) and sends one again on request,
with the same GUID. A delivery is asked for again when none of its attempts got through and
rapidvet never stored its GUID: one rapidvet stored but answered too late is failed at GitHub,
yet its job runs anyway.

Pull requests behind: the webhook handler notes when a pull request last had a delivery
(`note_event`), an evaluation when it began reading (`note_evaluation`). An open pull request
whose last event came after its last evaluation (say its job died) is evaluated again through
a synthetic delivery, id `reconcile:<uuid>`, queued under the pull request's key like a webhook:
it keeps the per-pull-request serialization of the queue. It is a `check_suite.rerequested`, as
when a user presses Re-run, whose handler reads the pull request afresh when the job runs, so
it never judges a head that a push replaced in the meantime. The sweep looks at each event once
(a `swept` record), so a pull request whose re-evaluation dies is not queued again every run.
It walks these records rather than GitHub's lists of repositories and pull requests: a run
with nothing behind costs no GitHub call, however many repositories the App is installed on.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable, Iterable
from contextlib import aclosing
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from gidgethub import BadRequest, RateLimitExceeded
from gidgethub.abc import GitHubAPI

from rapidvet.app.github.auth import GitHubApp
from rapidvet.app.github.credentials import app_settings
from rapidvet.app.github.files import owner_repo
from rapidvet.app.settings import Settings
from rapidvet.app.store import Delivery, Job, Store, key_parts
from rapidvet.app.store.records import LAST_EVALUATION, LAST_EVENT, LAST_RUN, RECONCILE, SWEPT

log = logging.getLogger("rapidvet.reconcile")
DELIVERIES = "/app/hook/deliveries{?per_page}"
REDELIVER = "/app/hook/deliveries/{delivery_id}/attempts"
PULL = "/repos/{owner}/{repo}/pulls/{number}"
MAX_REDELIVERIES = 500  # per run: the rest wait for the next one
MAX_REEVALUATIONS = 100  # per run, likewise
HISTORY = timedelta(days=3)  # how far back GitHub lists deliveries
FIRST_LOOK_BACK = timedelta(hours=1)  # the scheduled run's window when it never ran before
OVERLAP = timedelta(minutes=5)  # an attempt under way at the last run is listed only later
REEVALUATION = "reconcile:"  # the id prefix of the sweep's deliveries


def note_event(store: Store, job: Job) -> None:
    """Remember that a pull request had a delivery (its evaluation should follow), as of when
    the delivery was stored; a retried older delivery never moves the note back."""
    _, number = key_parts(job.key)
    if number is None or job.installation is None:
        return
    noted = LAST_EVENT.get(store, job.key)
    if noted is not None and datetime.fromisoformat(noted["at"]) >= job.received:
        return
    LAST_EVENT.put(
        store, job.key, {"at": job.received.isoformat(), "installation": job.installation}
    )


def note_evaluation(store: Store, key: str, started: datetime) -> None:
    """Remember that a pull request was evaluated on what GitHub said at `started`."""
    LAST_EVALUATION.put(store, key, started)


@dataclass(frozen=True)
class Attempt:
    """One attempt at a delivery, as GitHub lists it."""

    id: int  # the attempt's; GitHub sends the delivery again from any of them
    guid: str
    event: str
    action: str | None
    delivered_at: datetime
    ok: bool

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Attempt:
        code = int(data.get("status_code") or 0)
        return cls(
            id=int(data["id"]),
            guid=str(data["guid"]),
            event=str(data["event"]),
            action=data.get("action"),
            delivered_at=datetime.fromisoformat(data["delivered_at"]),
            ok=200 <= code < 300 and data.get("status") == "OK",
        )


@dataclass(frozen=True)
class Unevaluated:
    """An open pull request (as far as rapidvet knows) whose last event is not evaluated."""

    key: str
    repo: str
    number: int
    installation: int
    event_at: str  # the LAST_EVENT time, as recorded


@dataclass
class ReconcileReport:
    """What one run found and did."""

    since: datetime
    listed: int = 0  # delivery attempts GitHub listed since then
    redelivered: list[Attempt] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # GUIDs GitHub would not send again
    left: int = 0  # missed deliveries over MAX_REDELIVERIES, for the next run
    sweep_skipped: str | None = None  # why the sweep did not run
    behind: int = 0  # pull requests whose last event came after their last evaluation
    queued: list[str] = field(default_factory=list)  # re-evaluations queued, by key


def missed(attempts: Iterable[Attempt], stored: Callable[[str], bool]) -> list[Attempt]:
    """The deliveries to ask for again, from `attempts` newest first as GitHub lists them: those
    none of whose attempts got through (a failure may have been redelivered since) and whose
    GUID rapidvet never stored. Oldest first, so a pull request's events come back in order;
    each by its newest attempt."""
    newest: dict[str, Attempt] = {}
    through: set[str] = set()
    for attempt in attempts:
        newest.setdefault(attempt.guid, attempt)
        if attempt.ok:
            through.add(attempt.guid)
    todo = [a for guid, a in newest.items() if guid not in through and not stored(guid)]
    return todo[::-1]


async def attempts_since(gh: GitHubAPI, since: datetime) -> list[Attempt]:
    """Every attempt GitHub lists from `since` on, reading pages only as far back as that."""
    found = []
    async with aclosing(gh.getiter(DELIVERIES, {"per_page": "100"})) as listed:
        async for data in listed:
            attempt = Attempt.from_json(data)
            if attempt.delivered_at < since:
                break
            found.append(attempt)
    return found


async def redeliver(gh: GitHubAPI, store: Store, outcome: ReconcileReport) -> None:
    attempts = await attempts_since(gh, outcome.since)
    outcome.listed = len(attempts)
    todo = missed(attempts, store.has_delivery)
    outcome.left = max(0, len(todo) - MAX_REDELIVERIES)
    for attempt in todo[:MAX_REDELIVERIES]:
        try:
            await gh.post(REDELIVER, {"delivery_id": attempt.id}, data=b"")
        except RateLimitExceeded:
            raise  # the next run goes on from here
        except BadRequest as err:  # too old to send again, say: the others may still go
            log.warning("GitHub refused to redeliver %s: %s", attempt.guid, err.status_code)
            outcome.refused.append(attempt.guid)
            continue
        log.info(
            "redelivery requested",
            extra={"delivery_id": attempt.guid, "event": attempt.event},
        )
        outcome.redelivered.append(attempt)


def behind(store: Store) -> list[Unevaluated]:
    """Pull requests whose last event came after their last evaluation began (or that were
    never evaluated), but for those the sweep already looked at for that event."""
    evaluated, swept = LAST_EVALUATION.all(store), SWEPT.all(store)
    found = []
    for key, event in sorted(LAST_EVENT.all(store).items()):
        repo, number = key_parts(key)
        last = evaluated.get(key)
        if repo is None or number is None or swept.get(key) == event["at"]:
            continue
        if last is None or last < datetime.fromisoformat(event["at"]):
            found.append(Unevaluated(key, repo, number, int(event["installation"]), event["at"]))
    return found


def is_reevaluation(delivery_id: str) -> bool:
    """Whether a delivery is one the sweep queued (`reevaluation`) rather than GitHub's."""
    return delivery_id.startswith(REEVALUATION)


def reevaluation(pull: Unevaluated) -> Delivery:
    """A synthetic `check_suite.rerequested` delivery for one pull request."""
    payload = {
        "action": "rerequested",
        "check_suite": {"pull_requests": [{"number": pull.number}]},
        "repository": {"full_name": pull.repo},
        "installation": {"id": pull.installation},
    }
    return Delivery(
        id=f"{REEVALUATION}{uuid.uuid4()}",
        event="check_suite",
        action="rerequested",
        installation=pull.installation,
        repo=pull.repo,
        key=pull.key,
        payload=json.dumps(payload).encode(),
    )


async def sweep(github: GitHubApp, store: Store, outcome: ReconcileReport) -> None:
    counts = store.job_counts()
    if counts.queued or counts.running:
        # A pull request's last event may only be waiting for its job: look next time.
        outcome.sweep_skipped = f"{counts.queued} jobs queued, {counts.running} running"
        return
    unevaluated = behind(store)
    outcome.behind = len(unevaluated)
    for pull in unevaluated[:MAX_REEVALUATIONS]:
        try:
            gh = await github.installation_api(pull.installation, [pull.repo])
            names = {**owner_repo(pull.repo), "number": str(pull.number)}
            state = (await gh.getitem(PULL, names))["state"]
        except RateLimitExceeded:
            raise
        except BadRequest as err:  # uninstalled, deleted or out of reach: nothing to evaluate
            log.warning("cannot read %s: %s", pull.key, err.status_code)
            state = "gone"
        if state == "open":
            store.add_delivery(reevaluation(pull))
            log.info("re-evaluation queued", extra={"repo": pull.repo, "pr": pull.number})
            outcome.queued.append(pull.key)
        SWEPT.put(store, pull.key, pull.event_at)


async def reconcile(settings: Settings, store: Store, since: datetime) -> ReconcileReport:
    """Queue the re-evaluations of pull requests left behind, then ask for the deliveries
    missed since `since`. In that order: a redelivery that arrives during the sweep would make
    its pull request look behind, and be evaluated twice."""
    # The App's credentials from the environment or the database, as the service takes them
    # (through `resolve` rather than a `Registration`, which announces itself in the log).
    app = app_settings(settings, store)
    outcome = ReconcileReport(since)
    async with GitHubApp(app) as github:
        await sweep(github, store, outcome)
        await redeliver(github.app_api(), store, outcome)
    return outcome


def scheduled_since(store: Store, now: datetime) -> datetime:
    """From a little before the last successful scheduled run, so that a run after the whole
    service was down covers the outage; at most as far back as GitHub lists."""
    last = RECONCILE.get(store, LAST_RUN)
    if last is None:
        return now - FIRST_LOOK_BACK
    return max(last - OVERLAP, now - HISTORY)


async def scheduled(store: Store, settings: Settings) -> None:
    """The PERIODIC entry."""
    now = datetime.now(UTC)
    outcome = await reconcile(settings, store, scheduled_since(store, now))
    RECONCILE.put(store, LAST_RUN, now)
    busy = outcome.redelivered or outcome.queued  # a quiet run every five minutes is no news
    log.log(
        logging.INFO if busy else logging.DEBUG,
        "reconciled: %d deliveries redelivered, %d re-evaluations queued",
        len(outcome.redelivered),
        len(outcome.queued),
    )
