"""Work done on a schedule rather than for a delivery, registered in one place.

On PostgreSQL every worker process hands these to procrastinate's periodic tasks: each worker
defers them, the database keeps one job per tick, and one worker runs it. A new scheduled job
(say, the reconciler that asks GitHub for deliveries missed while rapidvet was down) is one
more entry in `PERIODIC`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from croniter import croniter

from rapidvet.app.jobs.reconcile import scheduled
from rapidvet.app.settings import Settings
from rapidvet.app.store import Store
from rapidvet.app.store.records import TIMELINE_DELIVERY
from rapidvet.app.web import signins

log = logging.getLogger("rapidvet.periodic")


@dataclass(frozen=True)
class Periodic:
    name: str  # the task's name in the queue
    cron: str  # when: "minute hour day-of-month month day-of-week"
    run: Callable[[Store, Settings], Awaitable[None]]


async def prune(store: Store, settings: Settings) -> None:
    removed = store.prune(settings.retention_days)
    # Each delivery's claim on its timeline entry goes when the delivery would: a job that
    # old has finished, and no try of it is left to note it twice.
    TIMELINE_DELIVERY.drop(store, settings.retention_days)
    signins.prune(store)  # sessions signed out or expired
    log.info("pruned %d deliveries older than %d days", removed, settings.retention_days)


PERIODIC: tuple[Periodic, ...] = (
    Periodic("rapidvet.prune", "17 * * * *", prune),
    Periodic("rapidvet.reconcile", "*/5 * * * *", scheduled),
)


def next_run(cron: str, after: float) -> float:
    """The first time after `after` (epoch seconds, UTC) that `cron` names."""
    start = datetime.fromtimestamp(after, UTC)
    return float(croniter(cron, start).get_next(datetime).timestamp())


class Schedule:
    """PERIODIC run in-process when due, for the SQLite backend, whose queue has no
    scheduler of its own; the worker loop calls `run_due` between jobs."""

    def __init__(
        self,
        store: Store,
        settings: Settings,
        entries: tuple[Periodic, ...] = PERIODIC,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store, self.settings, self.entries, self.clock = store, settings, entries, clock
        self.due = {entry.name: next_run(entry.cron, clock()) for entry in entries}

    async def run_due(self) -> None:
        now = self.clock()
        for entry in self.entries:
            if now < self.due[entry.name]:
                continue
            self.due[entry.name] = next_run(entry.cron, now)
            try:
                await entry.run(self.store, self.settings)
            except Exception:
                # A failed prune must not stop the worker; the next tick tries again.
                log.exception("periodic task %s failed", entry.name)
