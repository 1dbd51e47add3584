"""Work done on a schedule rather than for a delivery, registered in one place.

On PostgreSQL every worker process hands these to procrastinate's periodic tasks: each worker
defers them, the database keeps one job per tick, and one worker runs it. A new scheduled job
(say, the reconciler that asks GitHub for deliveries missed while rapidvet was down) is one
more entry in `PERIODIC`.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from rapidvet.app.settings import Settings
from rapidvet.app.store import Store

log = logging.getLogger("rapidvet.periodic")


@dataclass(frozen=True)
class Periodic:
    name: str  # the task's name in the queue
    cron: str  # when: "minute hour day-of-month month day-of-week"
    run: Callable[[Store, Settings], Awaitable[None]]


async def prune(store: Store, settings: Settings) -> None:
    removed = store.prune(settings.retention_days)
    log.info("pruned %d deliveries older than %d days", removed, settings.retention_days)


PERIODIC: tuple[Periodic, ...] = (Periodic("rapidvet.prune", "17 * * * *", prune),)
