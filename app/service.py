"""The running App: store, GitHub client, worker and web server wired from the settings.

A server with no App credentials yet serves the set-up page (and answers webhooks 503); its
worker starts once the credentials exist, stored by the set-up page or found in the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
import sys
import threading
from collections.abc import Callable
from datetime import UTC, date, datetime

from aiohttp import web
from gidgethub import sansio

from rapidvet.app.context import Context
from rapidvet.app.github.auth import event_repositories
from rapidvet.app.github.credentials import Registration
from rapidvet.app.handlers import router
from rapidvet.app.jobs.isolation import CheckPool, GaveUp, Limits
from rapidvet.app.jobs.periodic import Schedule
from rapidvet.app.jobs.reconcile import is_reevaluation, note_event
from rapidvet.app.jobs.worker import Worker
from rapidvet.app.logs import bind
from rapidvet.app.pulls import timeline
from rapidvet.app.settings import Settings
from rapidvet.app.store import Job, JobWorker, RunJob, Store, key_parts, open_store
from rapidvet.app.store.sqlite import SqliteStore
from rapidvet.app.web.app import make_app, make_probe_app

log = logging.getLogger("rapidvet.service")
SWITCH_SECONDS = 0.001


def today() -> date:
    return datetime.now(UTC).date()


def note_delivery(store: Store, job: Job) -> None:
    """Note a delivery for the reconciler and for the details page's timeline as its job
    begins, not on the webhook's answer path, where each statement delays the answer: until
    the job runs, its queued row is what says the pull request has work waiting."""
    if is_reevaluation(job.delivery_id):
        return  # the sweep's own: noted, it would look like a new event to the next sweep
    note_event(store, job)
    timeline.delivery_received(store, job)


def job_runner(registration: Registration, context: Context, pool: CheckPool) -> RunJob:
    async def run_job(job: Job) -> None:
        repo, pr = key_parts(job.key)
        # Every line logged for this try from here on, run_try's own included, carries the
        # job's fields. Both workers run each job in a task of its own, so they end with it.
        bind(
            delivery_id=job.delivery_id,
            event=job.event,
            installation=job.installation,
            repo=repo,
            pr=pr,
        )
        note_delivery(registration.store, job)
        if job.installation is None:
            log.warning("delivery without an installation: nothing to do")
            return
        if registration.github is None:  # jobs only run once the App is registered
            raise RuntimeError("the App is not registered yet")
        # Bound to the repositories the event came from: nothing else is this job's to touch.
        repositories = event_repositories(job.payload)
        gh = await registration.github.installation_api(job.installation, repositories)
        event = sansio.Event(job.payload, event=job.event, delivery_id=job.delivery_id)
        with pool.job():
            try:
                await router.dispatch(event, gh, context)
            except GaveUp:
                # Logged and counted where it happened. Trying again would only give up
                # again: the job is done, and the next push is checked afresh.
                return

    return run_job


def open_migrated(settings: Settings) -> Store:
    store = open_store(settings.database_url)
    store.migrate()
    return store


def make_worker(store: Store, run_job: RunJob, settings: Settings) -> JobWorker:
    """The backend's worker: rapidvet's lease loop on SQLite, procrastinate's on PostgreSQL."""
    if isinstance(store, SqliteStore):
        schedule = Schedule(store, settings)
        return Worker(store, run_job, max_attempts=settings.max_attempts, schedule=schedule)
    from rapidvet.app.jobs.postgres_worker import PostgresWorker
    from rapidvet.app.store.postgres import PostgresStore

    if isinstance(store, PostgresStore):
        return PostgresWorker(store, run_job, settings)
    raise TypeError(f"no worker for {type(store).__name__}")


async def work(
    settings: Settings,
    store: Store,
    registration: Registration,
    stop: asyncio.Event,
    started: Callable[[JobWorker], None] = lambda jobs: None,
) -> None:
    """Work the queue until `stop` is set, once the App is registered."""
    pages_url = settings.public_url if settings.pages != "off" else None
    context = Context(store, settings.web_url, today, pages_url)
    pool = CheckPool(Limits(settings.job_seconds, settings.job_memory_mb))
    try:
        jobs = make_worker(store, job_runner(registration, context, pool), settings)
        started(jobs)
        if await registration.wait(stop):
            await jobs.run(stop)
    finally:
        pool.close()


class JobsThread:
    """The worker of `rapidvet serve`, on a thread of its own with its own event loop, store
    connection and GitHub session. On the web server's loop, each job's tens of milliseconds of
    CPU (and on PostgreSQL its blocking round trips) held back every webhook answer in flight;
    on a thread, the interpreter hands the web loop the GIL within a switch interval."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._stop = asyncio.Event()  # the thread's; set through its loop
        self._stopping = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._jobs: JobWorker | None = None

    def wake(self) -> None:
        """A job was queued: tell the worker on its own loop. Before it runs, none is needed:
        its first look finds every job queued so far."""
        if self._jobs is not None:
            self._call_soon(self._jobs.wake)

    async def run(self, stop: asyncio.Event) -> None:
        """Until `stop` is set or the worker fails (its error is raised here)."""
        # A thread that wants the GIL gets it after this long: the web loop waits for the
        # worker's CPU at most that, at each of a webhook answer's few hand-overs. 1 ms
        # instead of the default 5 took the answer's p99 at 200/s from 32-37 to 22 ms on
        # SQLite and from 24 to 18 ms on PostgreSQL.
        sys.setswitchinterval(SWITCH_SECONDS)
        thread = asyncio.ensure_future(asyncio.to_thread(asyncio.run, self._work()))
        stopping = asyncio.ensure_future(stop.wait())
        await asyncio.wait({thread, stopping}, return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        self._stopping.set()
        self._call_soon(self._stop.set)
        await thread
        if not stop.is_set():
            raise RuntimeError("the worker stopped by itself")

    async def _work(self) -> None:
        # Stash the loop before looking at `_stopping`, which `run` sets before reading
        # the loop: a stop is seen either here or through the loop, never lost between.
        self._loop = asyncio.get_running_loop()
        if self._stopping.is_set():
            return
        store = open_store(self.settings.database_url)
        try:
            registration = Registration(self.settings, store)
            try:
                await work(self.settings, store, registration, self._stop, self._started)
            finally:
                await registration.close()
        finally:
            await store.aclose()
            store.close()

    def _started(self, jobs: JobWorker) -> None:
        self._jobs = jobs

    def _call_soon(self, callback: Callable[[], None]) -> None:
        if self._loop is not None:
            with contextlib.suppress(RuntimeError):  # its loop is closed: the worker has ended
                self._loop.call_soon_threadsafe(callback)


async def run(
    settings: Settings, host: str | None, port: int | None, *, web_server: bool, worker: bool
) -> None:
    """Serve webhooks and/or work the queue until SIGTERM or SIGINT. A worker alone
    (`web_server` False) serves only health and metrics, and only when given a port."""
    store = open_migrated(settings)
    try:
        registration = Registration(settings, store)  # a stored secret it cannot read stops here
    except BaseException:
        store.close()
        raise
    jobs = JobsThread(settings) if web_server and worker else None
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    runner = None
    if web_server or port is not None:
        wake = jobs.wake if jobs is not None else lambda: None
        app = make_app(registration, wake) if web_server else make_probe_app(store)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        await site.start()
        bound = runner.addresses[0] if runner.addresses else (host, port)
        log.info("listening on http://%s:%s", bound[0], bound[1])
    # What start-up allocated (modules, templates, schemas) lives as long as the process: out
    # of the collector's sight, a full collection walks only what requests leave behind, and
    # no longer pauses every answer in flight for tens of milliseconds.
    gc.freeze()
    try:
        if not registration.refresh():
            log.info("no GitHub App yet: open the set-up page (/) to register one")
        if jobs is not None:
            await jobs.run(stop)
        elif not web_server:
            await work(settings, store, registration, stop)
        await stop.wait()
    finally:
        if runner is not None:
            await runner.cleanup()
        await registration.close()
        await store.aclose()
        store.close()
