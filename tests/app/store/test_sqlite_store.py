"""The embedded store on a real SQLite file: the leases its worker takes, per-key serialization,
retries, migrations. The Store contract both backends share is in test_postgres_store.py."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from rapidvet.app.store import Delivery, open_store
from rapidvet.app.store.sqlite import MIGRATIONS, SqliteStore


def delivery(guid: str, key: str = "o/r#1", event: str = "pull_request") -> Delivery:
    payload = json.dumps({"action": "opened", "n": guid}).encode()
    return Delivery(guid, event, "opened", 7, "o/r", key, payload)


@pytest.fixture
def store(tmp_path):
    db = open_store(f"sqlite:///{tmp_path / 'db' / 'rapidvet.db'}")
    db.migrate()
    yield db
    db.close()


def test_migrations_are_versioned_and_idempotent(tmp_path):
    path = str(tmp_path / "x.db")
    first = SqliteStore(path)
    first.migrate()
    first.migrate()
    known = len(MIGRATIONS)
    assert first.schema_version() == (known, known)
    second = SqliteStore(path)  # a second process starting at the same time
    second.migrate()
    assert second.schema_version() == (known, known)


def test_a_database_of_the_first_schema_is_brought_up_to_date(tmp_path):
    """Its deliveries stay, and replays of bodies stored from then on are refused."""
    path = str(tmp_path / "old.db")
    old = SqliteStore(path)
    old.db.executescript(MIGRATIONS[0] + "; PRAGMA user_version=1;")
    old.db.execute("INSERT INTO deliveries VALUES ('g0', 'push', NULL, 7, 'o/r', x'7b7d', 0)")
    old.migrate()
    assert old.has_delivery("g0")
    signed = Delivery("g1", "push", None, 7, "o/r", "o/r", b"{}", body_sha256=b"h" * 32)
    assert old.add_delivery(signed)
    assert not old.add_delivery(
        Delivery("g2", "push", None, 7, "o/r", "o/r", b"{}", body_sha256=b"h" * 32)
    )
    old.close()


def test_jobs_of_one_key_never_run_at_once(store):
    store.add_delivery(delivery("a", "o/r#1"))
    store.add_delivery(delivery("b", "o/r#1"))
    store.add_delivery(delivery("c", "o/r#2"))
    first = store.claim_job("w1", 60)
    second = store.claim_job("w2", 60)
    assert (first.delivery_id, second.delivery_id) == ("a", "c")
    assert store.claim_job("w3", 60) is None  # "b" waits for "a"
    store.finish_job(first.id)
    assert store.claim_job("w3", 60).delivery_id == "b"


def test_retry_backoff_then_dead_then_requeue(store):
    store.add_delivery(delivery("a"))
    job = store.claim_job("w", 60)
    store.retry_job(job.id, "GitHubBroken: 502", delay_seconds=0.3)
    assert store.claim_job("w", 60) is None
    time.sleep(0.35)
    job = store.claim_job("w", 60)
    assert job.attempts == 2
    store.bury_job(job.id, "still broken")
    (dead,) = store.dead_jobs()
    assert (dead.delivery_id, dead.attempts, dead.last_error) == ("a", 2, "still broken")
    assert store.job_counts().dead == 1
    assert store.requeue_dead(dead.id) and not store.requeue_dead(dead.id)
    assert store.claim_job("w", 60).attempts == 1


def test_expired_lease_is_taken_back(store):
    store.add_delivery(delivery("a"))
    store.claim_job("elsewhere:1", lease_seconds=0.2)
    assert store.claim_job("w", 60) is None
    time.sleep(0.25)
    assert store.claim_job("w", 60).attempts == 2


def test_lease_of_a_dead_process_is_taken_back_at_once(store, tmp_path):
    store.add_delivery(delivery("a"))
    script = (
        "import sys; from rapidvet.app.store.sqlite import SqliteStore;"
        "from rapidvet.app.worker_identity import worker_name;"
        "s = SqliteStore(sys.argv[1]); print(s.claim_job(worker_name(), 3600).id)"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script, store.path], capture_output=True, text=True, check=True
    )
    assert proc.stdout.strip().isdigit()
    job = store.claim_job("w", 60)  # the claiming process has exited
    assert job is not None and job.attempts == 2


def test_unknown_database_url():
    with pytest.raises(ValueError, match="unsupported database URL: mysql://"):
        open_store("mysql://x")


def test_rate_limited_jobs_wait_for_the_reset():
    from datetime import UTC, datetime, timedelta

    from gidgethub import RateLimitExceeded, sansio

    from rapidvet.app.jobs.worker import retry_delay

    reset = datetime.now(UTC) + timedelta(minutes=30)
    limit = sansio.RateLimit(limit=5000, remaining=0, reset_epoch=reset.timestamp())
    assert 1790 < retry_delay(RateLimitExceeded(limit), 1) < 1810
    assert 1 <= retry_delay(RuntimeError("boom"), 1) <= 2


def test_the_sqlite_worker_runs_periodic_tasks_when_due(tmp_path):
    import asyncio

    from rapidvet.app.jobs.periodic import PERIODIC, Periodic, Schedule
    from rapidvet.app.settings import Settings

    store = SqliteStore(str(tmp_path / "p.db"))
    store.migrate()
    settings = Settings(app_id=1, private_key="k", webhook_secret="s", retention_days=1)
    now = [1_700_000_000.0]  # 22:13:20 UTC
    ran: list[str] = []

    async def broken(store, settings) -> None:
        ran.append("broken")
        raise RuntimeError("boom")

    async def noted(store, settings) -> None:
        ran.append("noted")

    entries = (Periodic("broken", "*/5 * * * *", broken), Periodic("noted", "0 * * * *", noted))
    schedule = Schedule(store, settings, entries, clock=lambda: now[0])
    asyncio.run(schedule.run_due())
    assert ran == []
    now[0] += 6 * 60
    asyncio.run(schedule.run_due())
    assert ran == ["broken"]  # its failure is logged, the next entry still runs when due
    now[0] += 3600
    asyncio.run(schedule.run_due())
    assert ran == ["broken", "broken", "noted"]
    assert [entry.name for entry in PERIODIC] == ["rapidvet.prune", "rapidvet.reconcile"]
