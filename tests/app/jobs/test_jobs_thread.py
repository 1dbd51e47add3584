"""`rapidvet serve`'s worker on a thread of its own: it runs the queue's jobs off the web
server's loop, stops when told, and a worker that fails takes the service down with its error."""

from __future__ import annotations

import asyncio
import json
import threading
from pathlib import Path

import pytest

from rapidvet.app import service
from rapidvet.app.settings import Settings, load_settings
from rapidvet.app.store import Delivery
from tests.support.service import service_env


def settings_for(tmp: Path, **extra: str) -> Settings:
    # Nothing listens on port 9: these jobs must not need GitHub.
    return load_settings(service_env(tmp, "http://127.0.0.1:9", **extra), env_file=None)


def without_installation(guid: str) -> Delivery:
    payload = json.dumps({"action": "opened", "repository": {"full_name": "o/r"}}).encode()
    return Delivery(guid, "pull_request", "opened", None, "o/r", f"o/r#{guid}", payload)


async def until(predicate, timeout: float = 30.0) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.05)


def test_jobs_run_on_the_thread_and_the_worker_stops_when_told(tmp_path, monkeypatch):
    settings = settings_for(tmp_path)
    store = service.open_migrated(settings)
    threads: list[str] = []
    note = service.note_delivery

    def noted(store, job) -> None:
        threads.append(threading.current_thread().name)
        note(store, job)

    monkeypatch.setattr(service, "note_delivery", noted)

    async def scenario() -> None:
        jobs = service.JobsThread(settings)
        jobs.wake()  # before the worker runs: nothing to tell, and no error
        stop = asyncio.Event()
        running = asyncio.create_task(jobs.run(stop))
        for n in range(3):
            assert store.add_delivery(without_installation(f"d{n}"))
            jobs.wake()
        await until(lambda: store.job_counts().done == 3)
        stop.set()
        await asyncio.wait_for(running, 30)
        jobs.wake()  # its loop is closed now: still no error

    try:
        asyncio.run(scenario())
        counts = store.job_counts()
    finally:
        store.close()
    assert (counts.queued, counts.running, counts.dead) == (0, 0, 0)
    assert len(threads) == 3
    assert threading.main_thread().name not in threads


def test_a_stop_before_the_thread_starts_is_not_lost(tmp_path):
    settings = settings_for(tmp_path)
    service.open_migrated(settings).close()

    async def scenario() -> None:
        stop = asyncio.Event()
        stop.set()
        await asyncio.wait_for(service.JobsThread(settings).run(stop), 30)

    asyncio.run(scenario())


def test_a_failing_worker_raises_its_error_in_the_service(tmp_path):
    blocked = tmp_path / "a-file"
    blocked.write_text("not a directory")
    # The thread's own store cannot be opened: its folder is a file.
    settings = settings_for(tmp_path, RAPIDVET_DATABASE_URL=f"sqlite:///{blocked}/rapidvet.db")

    async def scenario() -> None:
        await asyncio.wait_for(service.JobsThread(settings).run(asyncio.Event()), 30)

    with pytest.raises(OSError):
        asyncio.run(scenario())
