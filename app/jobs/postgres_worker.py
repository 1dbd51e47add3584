"""The worker for the PostgreSQL backend: procrastinate's, running rapidvet's jobs.

Each try of a delivery's job goes through `run_try`, like on SQLite, which counts it and
decides what follows a failure; the retry strategy below hands that decision to
procrastinate, which schedules the next try or leaves the job `failed` (dead).

A worker killed mid-job (SIGKILL, a lost machine) leaves its job `doing`. Workers beat a
heartbeat every HEARTBEAT_SECONDS; every second each worker looks for jobs of workers whose
heartbeat is older than STALLED_SECONDS and queues them again, so another worker runs them
within seconds. A worker also drops stalled workers' rows when it starts.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta

import psycopg
from procrastinate import App, BaseRetryStrategy, JobContext, PsycopgConnector, RetryDecision
from procrastinate.jobs import Job as QueuedJob
from procrastinate.utils import utcnow

from rapidvet.app.jobs.periodic import PERIODIC, Periodic
from rapidvet.app.jobs.worker import Outcome, backoff, run_try, update_gauges
from rapidvet.app.settings import Settings
from rapidvet.app.store import RunJob
from rapidvet.app.store.postgres import (
    DELIVERY_QUEUE,
    DELIVERY_TASK,
    PERIODIC_QUEUE,
    PostgresStore,
)
from rapidvet.app.worker_identity import worker_name

log = logging.getLogger("rapidvet.worker")
HEARTBEAT_SECONDS = 1.0
STALLED_SECONDS = 5.0  # five missed heartbeats: the worker is gone
WATCH_SECONDS = 1.0
SHUTDOWN_SECONDS = 30.0  # on SIGTERM, running jobs get this long; then they go back to the queue


class TryFailed(Exception):
    """A try of a delivery's job failed; carries run_try's decision to the retry strategy."""

    def __init__(self, outcome: Outcome) -> None:
        super().__init__(outcome.error)
        self.outcome = outcome


class AsDecided(BaseRetryStrategy):
    """Retry a failed try when run_try said so. Whatever else stopped a job (the worker shutting
    down, the database away) is not the job's fault: it is tried again, never buried."""

    def get_retry_decision(
        self, *, exception: BaseException, job: QueuedJob
    ) -> RetryDecision | None:
        if isinstance(exception, TryFailed):
            delay = exception.outcome.retry_in
        else:
            delay = backoff(job.attempts + 1)
        if delay is None:
            return None
        return RetryDecision(retry_at=utcnow() + timedelta(seconds=delay))


class PostgresWorker:
    def __init__(
        self,
        store: PostgresStore,
        run_job: RunJob,
        settings: Settings,
        *,
        concurrency: int = 4,
        poll_seconds: float = 1.0,
        heartbeat_seconds: float = HEARTBEAT_SECONDS,
        stalled_seconds: float = STALLED_SECONDS,
    ) -> None:
        self.store = store
        self.run_job = run_job
        self.settings = settings
        self.concurrency = concurrency
        self.poll_seconds = poll_seconds  # for jobs whose retry time came: no one announces them
        self.heartbeat_seconds = heartbeat_seconds
        self.stalled_seconds = stalled_seconds

    def wake(self) -> None:
        """Nothing to do: procrastinate's workers hear of new jobs through LISTEN/NOTIFY."""

    async def run(self, stop: asyncio.Event) -> None:
        app = self._app()
        async with app.open_async():
            work = asyncio.create_task(
                app.run_worker_async(
                    name=worker_name(),
                    concurrency=self.concurrency,
                    fetch_job_polling_interval=self.poll_seconds,
                    update_heartbeat_interval=self.heartbeat_seconds,
                    stalled_worker_timeout=self.stalled_seconds,
                    shutdown_graceful_timeout=SHUTDOWN_SECONDS,
                    install_signal_handlers=False,  # the service owns SIGTERM and SIGINT
                )
            )
            watch = asyncio.create_task(self._watch())
            stopping = asyncio.create_task(stop.wait())
            await asyncio.wait({work, stopping}, return_when=asyncio.FIRST_COMPLETED)
            watch.cancel()
            stopping.cancel()
            # Cancelling is how procrastinate's worker is stopped: it lets running jobs end.
            work.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await work
        if not stop.is_set():
            raise RuntimeError("procrastinate's worker stopped by itself")

    def _app(self) -> App:
        size = self.concurrency + 2  # jobs, heartbeat, periodic deferrer
        app = App(connector=PsycopgConnector(conninfo=self.store.url, min_size=1, max_size=size))
        app.task(name=DELIVERY_TASK, queue=DELIVERY_QUEUE, pass_context=True, retry=AsDecided())(
            self._run_delivery
        )
        for periodic in PERIODIC:
            # One at a time, and no pile of ticks behind a slow one.
            task = app.task(
                name=periodic.name,
                queue=PERIODIC_QUEUE,
                lock=periodic.name,
                queueing_lock=periodic.name,
            )(self._periodic(periodic))
            app.periodic(cron=periodic.cron, periodic_id=periodic.name)(task)
        return app

    async def _run_delivery(self, context: JobContext, delivery_id: str) -> None:
        queued = context.job
        assert queued.id is not None  # a job handed to a worker has one
        job = self.store.delivery_job(delivery_id, queued.id, queued.attempts + 1)
        if job is None:
            log.warning(
                "job of a pruned delivery: nothing to do", extra={"delivery_id": delivery_id}
            )
            return
        outcome = await run_try(job, self.run_job, self.settings.max_attempts)
        if outcome.error is not None:
            self.store.note_error(delivery_id, outcome.error)
            raise TryFailed(outcome)

    def _periodic(self, periodic: Periodic) -> Callable[[int], Awaitable[None]]:
        async def run(timestamp: int) -> None:
            await periodic.run(self.store, self.settings)

        return run

    async def _watch(self) -> None:
        """Queue again the jobs of workers that stopped beating; keep the gauges fresh."""
        while True:
            try:
                requeued = await asyncio.to_thread(self.store.requeue_stalled, self.stalled_seconds)
                if requeued:
                    log.warning("jobs of a stopped worker queued again: %s", requeued)
                update_gauges(await asyncio.to_thread(self.store.job_counts))
            except psycopg.Error as err:
                log.warning("queue watch failed: %s", err)
            await asyncio.sleep(WATCH_SECONDS)
