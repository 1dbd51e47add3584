"""The worker: takes jobs from the store and runs them, a few at a time, never two of the
same pull request at once (the store hands out one job per key).

A failed job is retried with exponential backoff and full jitter; after `max_attempts`
tries it is parked as dead with its last error, visible on /metrics.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from dataclasses import dataclass

from gidgethub import RateLimitExceeded

from rapidvet.app import metrics
from rapidvet.app.github.client import OutOfReach
from rapidvet.app.github.retry import SecondaryRateLimited
from rapidvet.app.jobs.periodic import Schedule
from rapidvet.app.store import Job, JobCounts, LeasedStore, RunJob
from rapidvet.app.worker_identity import worker_name

log = logging.getLogger("rapidvet.worker")
BACKOFF_BASE = 2.0  # seconds, doubled per attempt
BACKOFF_CAP = 300.0


def backoff(attempt: int, rng: random.Random | None = None) -> float:
    """Full jitter: a random delay up to base * 2^(attempt-1), capped."""
    ceiling = min(BACKOFF_CAP, BACKOFF_BASE * 2 ** (attempt - 1))
    return (rng or random).uniform(ceiling / 2, ceiling)


def retry_delay(error: Exception, attempt: int) -> float:
    """When to try a failed job again: after the rate-limit window resets when GitHub said
    the limit is used up, or after the wait a secondary limit asked for (retrying sooner only
    burns attempts), else exponential backoff."""
    if isinstance(error, RateLimitExceeded):
        reset: float = error.rate_limit.reset_datetime.timestamp()
        return max(backoff(attempt), reset - time.time() + 1)
    if isinstance(error, SecondaryRateLimited):
        return max(backoff(attempt), error.retry_after + 1)
    return backoff(attempt)


@dataclass(frozen=True)
class Outcome:
    """How one try of a job ended."""

    error: str | None = None  # None: the job is done
    retry_in: float | None = None  # seconds until the next try; None after the last one


async def run_try(job: Job, run_job: RunJob, max_attempts: int) -> Outcome:
    """One try of a job, timed and counted; a failure is logged with what happens next.
    Both backends' workers go through here, so their metrics and retry policy agree."""
    started = time.perf_counter()
    context = {"delivery_id": job.delivery_id, "event": job.event, "key": job.key}
    try:
        await run_job(job)
    except Exception as err:
        error = f"{type(err).__name__}: {err}"[:2000]
        # Off its repositories a job is refused every try alike: it fails at once.
        if job.attempts >= max_attempts or isinstance(err, OutOfReach):
            metrics.jobs_total.labels(event=job.event, outcome="dead").inc()
            log.error("job dead after %d tries: %s", job.attempts, error, extra=context)
            return Outcome(error)
        delay = retry_delay(err, job.attempts)
        metrics.jobs_total.labels(event=job.event, outcome="retried").inc()
        log.warning("job failed, retry in %.1fs: %s", delay, error, extra=context)
        return Outcome(error, delay)
    finally:
        metrics.job_seconds.labels(event=job.event).observe(time.perf_counter() - started)
    metrics.jobs_total.labels(event=job.event, outcome="done").inc()
    return Outcome()


def update_gauges(counts: JobCounts) -> None:
    metrics.queue_depth.set(counts.queued)
    metrics.dead_jobs.set(counts.dead)
    age = 0.0
    if counts.oldest_queued is not None:
        age = max(0.0, time.time() - counts.oldest_queued.timestamp())
    metrics.oldest_job_age.set(age)


class Worker:
    def __init__(
        self,
        store: LeasedStore,
        run_job: RunJob,
        *,
        max_attempts: int = 5,
        concurrency: int = 4,
        lease_seconds: float = 300.0,
        poll_seconds: float = 1.0,
        schedule: Schedule | None = None,
    ) -> None:
        self.store = store
        self.run_job = run_job
        self.max_attempts = max_attempts
        self.concurrency = concurrency
        self.lease_seconds = lease_seconds
        self.poll_seconds = poll_seconds
        self.schedule = schedule
        self.name = worker_name()
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """A new job is queued: look now instead of at the next poll."""
        self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        running: set[asyncio.Task[None]] = set()
        while not stop.is_set():
            while len(running) < self.concurrency:
                job = self.store.claim_job(self.name, self.lease_seconds)
                if job is None:
                    break
                task = asyncio.create_task(self._run(job))
                running.add(task)
                task.add_done_callback(running.discard)
                task.add_done_callback(lambda _: self._wake.set())
            update_gauges(self.store.job_counts())
            if self.schedule is not None:
                await self.schedule.run_due()
            self._wake.clear()
            waits = [asyncio.ensure_future(self._wake.wait()), asyncio.ensure_future(stop.wait())]
            await asyncio.wait(
                waits, timeout=self.poll_seconds, return_when=asyncio.FIRST_COMPLETED
            )
            for waiter in waits:
                waiter.cancel()
        if running:
            await asyncio.wait(running)

    async def _run(self, job: Job) -> None:
        outcome = await run_try(job, self.run_job, self.max_attempts)
        if outcome.error is None:
            self.store.finish_job(job.id)
        elif outcome.retry_in is None:
            self.store.bury_job(job.id, outcome.error)
        else:
            self.store.retry_job(job.id, outcome.error, outcome.retry_in)
