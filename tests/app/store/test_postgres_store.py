"""The PostgreSQL backend against a real server.

First the Store contract, written once and run on both backends (the embedded one too), each
driven by its own worker as `rapidvet serve` builds it, so the two cannot drift apart. Then
what only PostgreSQL has: versioned migrations that two processes may run at once, the one
transaction of a delivery and its procrastinate job, worker processes sharing one queue, and
a worker killed with SIGKILL in the middle of a job.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import signal
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import replace
from itertools import pairwise

import psycopg
import pytest

from rapidvet.app.jobs import worker
from rapidvet.app.service import make_worker
from rapidvet.app.settings import Settings, SettingsError, load_settings
from rapidvet.app.store import Delivery, open_store
from rapidvet.app.store.postgres_schema import (
    MIGRATION_LOCK,
    MIGRATIONS,
    VERSIONS_TABLE,
    procrastinate_migrations,
)
from rapidvet.app.store.records import TIMELINE_DELIVERY
from rapidvet.app.store.sqlite import MIGRATIONS as SQLITE_MIGRATIONS
from tests.app.web.test_service import get, post
from tests.support.service import RAPIDVET, running_service, service_env, signed

pytest_plugins = ("tests.support.postgres",)


def delivery(guid, key="o/r#1", **payload):
    body = json.dumps({"action": "opened", "n": guid, **payload}).encode()
    return Delivery(guid, "pull_request", "opened", 7, "o/r", key, body)


def settings(max_attempts=5):
    return Settings(app_id=1, private_key="", webhook_secret="", max_attempts=max_attempts)


def drain(store, run_job, max_attempts=5):
    """Run the backend's own worker until no job is queued or running."""

    async def work() -> None:
        jobs = make_worker(store, run_job, settings(max_attempts))
        stop = asyncio.Event()
        running = asyncio.create_task(jobs.run(stop))
        deadline = time.monotonic() + 15
        while (counts := store.job_counts()).queued or counts.running:
            assert time.monotonic() < deadline, f"jobs left: {counts}"
            await asyncio.sleep(0.05)
        stop.set()
        await running

    asyncio.run(work())


# -- The Store contract, on both backends ---------------------------------------------------


def test_a_delivery_is_stored_once_and_runs_once(store):
    assert store.add_delivery(delivery("g1"))
    assert not store.add_delivery(delivery("g1"))
    assert store.job_counts().queued == 1
    assert store.job_counts().oldest_queued is not None
    seen = []

    async def run_job(job):
        seen.append((job.delivery_id, job.payload["n"], job.key, job.attempts))

    drain(store, run_job)
    assert seen == [("g1", "g1", "o/r#1", 1)]
    counts = store.job_counts()
    assert (counts.queued, counts.running, counts.done, counts.dead) == (0, 0, 1, 0)
    assert counts.oldest_queued is None


def test_jobs_of_one_key_run_one_at_a_time(store):
    for guid, key in (("a", "o/r#1"), ("b", "o/r#1"), ("c", "o/r#2")):
        store.add_delivery(delivery(guid, key))
    spans = {}

    async def run_job(job):
        started = time.monotonic()
        await asyncio.sleep(0.2)
        spans[job.delivery_id] = (started, time.monotonic())

    drain(store, run_job)
    assert spans["a"][1] <= spans["b"][0]  # b waited for a
    assert spans["c"][0] < spans["a"][1]  # another pull request's job did not


def test_a_failing_job_is_retried_then_dead_then_requeued(store, monkeypatch):
    monkeypatch.setattr(worker, "BACKOFF_BASE", 0.05)
    store.add_delivery(delivery("a"))
    tries = []

    async def broken(job):
        tries.append(job.attempts)
        raise RuntimeError("still broken")

    drain(store, broken, max_attempts=2)
    assert tries == [1, 2]
    (dead,) = store.dead_jobs()
    assert (dead.delivery_id, dead.event, dead.key) == ("a", "pull_request", "o/r#1")
    assert (dead.attempts, dead.last_error) == (2, "RuntimeError: still broken")
    assert store.job_counts().dead == 1
    assert store.requeue_dead(dead.id) and not store.requeue_dead(dead.id)
    assert not store.requeue_dead(dead.id + 1000)

    async def mended(job):
        tries.append(job.attempts)

    drain(store, mended, max_attempts=2)
    assert tries == [1, 2, 1]  # a requeued job gets its tries afresh
    assert (store.job_counts().done, store.job_counts().dead, store.dead_jobs()) == (1, 0, [])


def test_records_claim_once(store):
    assert store.claim_value("merge_record", "o/r#1@abc", "x")
    assert not store.claim_value("merge_record", "o/r#1@abc", "y")
    assert store.get_value("merge_record", "o/r#1@abc") == "x"
    store.put_value("merge_record", "o/r#1@abc", "z")
    assert store.get_value("merge_record", "o/r#1@abc") == "z"
    assert store.get_value("merge_record", "nope") is None


def test_old_records_of_one_scope_are_dropped(store):
    store.put_value("timeline_delivery", "d1", "")
    store.put_value("merge_record", "o/r#1@abc", "x")
    assert store.drop_values("timeline_delivery", older_than_days=1) == 0  # nothing that old
    assert store.drop_values("timeline_delivery", older_than_days=-1) == 1
    assert store.get_value("timeline_delivery", "d1") is None
    assert store.get_value("merge_record", "o/r#1@abc") == "x"  # other scopes keep theirs


def test_prune_keeps_unfinished_work(store):
    store.add_delivery(delivery("old-done"))

    async def done(job):
        pass

    drain(store, done)
    store.add_delivery(delivery("old-queued", key="o/r#9"))
    assert store.prune(older_than_days=1) == 0  # nothing is that old yet
    assert store.prune(older_than_days=-1) == 1
    counts = store.job_counts()
    assert (counts.queued, counts.done) == (1, 0)  # the finished job went with its delivery
    assert store.add_delivery(delivery("old-done"))  # forgotten: a redelivery is new again


def test_a_signed_body_is_stored_once_whatever_its_id_until_pruned(store):
    signed_body = replace(delivery("g1"), body_sha256=hashlib.sha256(b"body").digest())
    assert store.add_delivery(signed_body)
    assert not store.add_delivery(replace(signed_body, id="g2"))  # a replay under a new id
    assert not store.has_delivery("g2")
    assert asyncio.run(receive_once(store, replace(signed_body, id="g3"))) is False
    # Deliveries without a hash (the reconciler's) may repeat a payload: each is its own.
    assert store.add_delivery(delivery("r1")) and store.add_delivery(
        replace(delivery("r1"), id="r2")
    )
    assert store.job_counts().queued == 3

    async def done(job):
        pass

    drain(store, done)
    assert store.prune(older_than_days=-1) == 3
    assert store.add_delivery(replace(signed_body, id="g2"))  # its hash went with the delivery


async def receive_once(store, delivery):
    """`receive` as the webhook handler calls it, on an event loop of its own."""
    try:
        return await store.receive(delivery)
    finally:
        await store.aclose()


def test_ping(store):
    assert store.ping()


# -- Only PostgreSQL ---------------------------------------------------------------------------


def versions(url):
    with psycopg.connect(url) as conn:
        return conn.execute(
            "SELECT component, version FROM rapidvet_schema ORDER BY component, version"
        ).fetchall()


LATEST = procrastinate_migrations()[-1][0]
OURS = tuple(version for version, _ in MIGRATIONS)


def test_migrations_are_versioned_and_idempotent(postgres_url):
    store = open_store(postgres_url)
    store.migrate()
    store.migrate()
    assert versions(postgres_url) == [("procrastinate", LATEST)] + [("rapidvet", v) for v in OURS]
    assert all(not component.pending for component in store.schema_status())
    store.close()


def test_an_old_procrastinate_schema_is_brought_up_to_date(postgres_url):
    """A database set up by an older release gets procrastinate's newer files, in order."""
    (first, path), *later = procrastinate_migrations()
    with psycopg.connect(postgres_url) as conn:
        conn.execute(path.read_text())
        conn.execute(VERSIONS_TABLE)
        conn.execute("INSERT INTO rapidvet_schema VALUES ('procrastinate', %s)", (first,))
    store = open_store(postgres_url)
    (rapidvet, procrastinate) = store.schema_status()
    assert (procrastinate.applied, len(procrastinate.pending)) == (first, len(later))
    assert rapidvet.applied is None and rapidvet.pending == OURS
    store.migrate()
    assert all(not component.pending for component in store.schema_status())
    assert len(versions(postgres_url)) == len(OURS) + 1 + len(later)
    assert store.add_delivery(delivery("g1")) and store.job_counts().queued == 1
    store.close()


def rapidvet_db(url, tmp_path, *args):
    env = service_env(tmp_path, "http://127.0.0.1:9", RAPIDVET_DATABASE_URL=url)
    return subprocess.Popen(
        [RAPIDVET, "db", *args], env=env, cwd=tmp_path, stdout=subprocess.PIPE, text=True
    )


def finished(proc):
    out, _ = proc.communicate(timeout=60)
    return proc.returncode, out


def test_two_processes_migrating_at_once(postgres_url, tmp_path):
    # Hold the migration lock until both processes wait for it, then let them race.
    with psycopg.connect(postgres_url, autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK,))
        racers = [rapidvet_db(postgres_url, tmp_path, "migrate") for _ in range(2)]
        deadline = time.monotonic() + 30
        while holder.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
        ).fetchone() != (2,):
            assert time.monotonic() < deadline, "the migrations never waited for the lock"
            time.sleep(0.05)
        holder.execute("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK,))
    for proc in racers:
        code, out = finished(proc)
        assert code == 0, out
        assert f"rapidvet: applied {OURS[-1]}, known {OURS[-1]} (current)" in out
    assert versions(postgres_url) == [("procrastinate", LATEST)] + [("rapidvet", v) for v in OURS]


def test_db_status_and_migrate(postgres_url, tmp_path):
    code, out = finished(rapidvet_db(postgres_url, tmp_path, "status"))
    assert code == 1
    assert f"rapidvet: applied none, known {OURS[-1]} ({len(OURS)} pending)" in out
    assert f"procrastinate: applied none, known {LATEST} (1 pending)" in out
    code, out = finished(rapidvet_db(postgres_url, tmp_path, "migrate"))
    assert code == 0 and f"procrastinate: applied {LATEST}, known {LATEST} (current)" in out
    code, out = finished(rapidvet_db(postgres_url, tmp_path, "status", "--format", "json"))
    report = json.loads(out)
    assert code == 0 and report["current"] is True
    assert report["components"][0] == {
        "name": "rapidvet",
        "applied": OURS[-1],
        "known": OURS[-1],
        "pending": [],
    }
    password = "postgresql://rapidvet:s3cret@127.0.0.1:1/none"
    code, out = finished(rapidvet_db(password, tmp_path, "status", "--format", "json"))
    report = json.loads(out)
    assert code == 1 and report["current"] is False and "OperationalError" in report["error"]
    assert report["database"] == "postgresql://rapidvet:***@127.0.0.1:1/none"


def test_db_status_on_sqlite(tmp_path):
    url = f"sqlite:///{tmp_path / 'rapidvet.db'}"
    assert finished(rapidvet_db(url, tmp_path, "status"))[0] == 1
    code, out = finished(rapidvet_db(url, tmp_path, "migrate"))
    known = len(SQLITE_MIGRATIONS)
    assert code == 0 and f"rapidvet: applied {known}, known {known} (current)" in out


def test_a_delivery_and_its_job_commit_together(postgres_url):
    store = open_store(postgres_url)
    store.migrate()
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(
            "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS"
            " $$ BEGIN RAISE EXCEPTION 'no jobs today'; END $$;"
            " CREATE TRIGGER refuse BEFORE INSERT ON procrastinate_jobs"
            " FOR EACH ROW EXECUTE FUNCTION refuse()"
        )
        with pytest.raises(Exception) as refused:
            store.add_delivery(delivery("g1"))
        assert "no jobs today" in str(refused.value)
        assert conn.execute("SELECT count(*) FROM rapidvet_deliveries").fetchone() == (0,)
        conn.execute("DROP TRIGGER refuse ON procrastinate_jobs")
    assert store.add_delivery(delivery("g1"))  # not known: nothing of it was kept
    with psycopg.connect(postgres_url) as conn:
        job = conn.execute(
            "SELECT j.task_name, j.lock, j.queueing_lock, j.args FROM procrastinate_jobs j"
            " JOIN rapidvet_deliveries d ON d.job_id = j.id WHERE d.id = 'g1'"
        ).fetchone()
    assert job == ("rapidvet.run_delivery", "o/r#1", None, {"delivery_id": "g1"})
    store.close()


@pytest.fixture
def queue(postgres_url):
    store = open_store(postgres_url)
    store.migrate()
    yield store
    store.close()


def runs(url):
    """(delivery_id, key, attempt, pid, started, ended) of every run, earliest first."""
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT * FROM test_runs ORDER BY started").fetchall()


def wait_for(check, seconds, what):
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def registered_workers(url):
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT count(*) FROM procrastinate_workers").fetchone()[0]


def test_two_workers_share_the_queue_one_job_per_key_at_a_time(queue, start_worker, postgres_url):
    store, start = queue, start_worker
    first, second = start(), start()
    wait_for(lambda: registered_workers(postgres_url) == 2, 30, "two workers")
    for n in range(10):
        for key in range(20):
            store.add_delivery(delivery(f"d{key}-{n}", f"o/r#{key}", sleep=0.01))
    wait_for(lambda: store.job_counts().done == 200, 30, "200 jobs done")
    for proc in (first, second):
        proc.terminate()
        assert proc.wait(30) == 0
    done = runs(postgres_url)
    assert sorted(run[0] for run in done) == sorted(
        f"d{k}-{n}" for k in range(20) for n in range(10)
    )
    assert {run[3] for run in done} == {first.pid, second.pid}  # both took jobs
    for key in range(20):
        mine = [run for run in done if run[1] == f"o/r#{key}"]
        assert [run[0] for run in mine] == [f"d{key}-{n}" for n in range(10)]  # in order
        for earlier, later in pairwise(mine):
            assert earlier[5] <= later[4], f"two jobs of o/r#{key} overlapped"
    assert store.job_counts().queued == store.job_counts().dead == 0


def test_a_failing_job_backs_off_then_is_dead_with_its_error(queue, start_worker, postgres_url):
    store, start = queue, start_worker
    start(max_attempts=3, backoff_base=0.4)
    store.add_delivery(delivery("bad", fail="GitHub answered 502"))
    wait_for(store.dead_jobs, 30, "the job to die")
    (dead,) = store.dead_jobs()
    assert (dead.delivery_id, dead.attempts) == ("bad", 3)
    assert dead.last_error == "RuntimeError: GitHub answered 502"
    tries = runs(postgres_url)
    assert [run[2] for run in tries] == [1, 2, 3]
    # Full jitter between half and all of 0.4 s, then of 0.8 s.
    assert tries[1][4] - tries[0][5] >= 0.2
    assert tries[2][4] - tries[1][5] >= 0.4


def test_a_job_of_a_killed_worker_runs_again_elsewhere(queue, start_worker, postgres_url):
    store, start = queue, start_worker
    doomed = start()
    store.add_delivery(delivery("slow", hang_first=True))
    store.add_delivery(delivery("next"))  # same pull request: waits for "slow"
    wait_for(lambda: runs(postgres_url), 30, "the first worker to take the job")
    survivor = start()
    wait_for(lambda: registered_workers(postgres_url) == 2, 30, "the second worker")
    doomed.send_signal(signal.SIGKILL)
    doomed.wait()
    killed = time.monotonic()
    wait_for(lambda: store.job_counts().done == 2, 30, "both jobs done")
    assert time.monotonic() - killed < 10
    first, again, after = runs(postgres_url)
    assert (first[0], first[2], first[3], first[5]) == ("slow", 1, doomed.pid, None)
    assert (again[0], again[2], again[3]) == ("slow", 2, survivor.pid)
    assert after[0] == "next" and after[4] >= again[5]


def test_webhooks_to_jobs_through_rapidvet_serve(postgres_url, tmp_path):
    env = service_env(tmp_path, "http://127.0.0.1:9", RAPIDVET_DATABASE_URL=postgres_url)
    # No installation: the job has nothing to ask GitHub, so it ends at once.
    body = json.dumps(
        {
            "action": "opened",
            "number": 3,
            "pull_request": {"number": 3},
            "repository": {"full_name": "acme/handbook"},
        }
    ).encode()
    with running_service(env, tmp_path) as server:
        headers = signed(body, "pull_request", "guid-pg")
        assert post(server.url + "/webhooks", body, headers) == (202, {"queued": True})
        assert post(server.url + "/webhooks", body, headers) == (200, {"duplicate": True})
        store = open_store(postgres_url)
        wait_for(lambda: store.job_counts().done == 1, 30, "the job to run")
        store.close()


def test_periodic_tasks_run_through_procrastinate(queue, postgres_url):
    from rapidvet.app.jobs.periodic import PERIODIC
    from rapidvet.app.jobs.postgres_worker import PostgresWorker

    app = PostgresWorker(queue, None, settings())._app()
    scheduled = {(p.task.name, p.cron) for p in app.periodic_registry.periodic_tasks.values()}
    assert scheduled == {(periodic.name, periodic.cron) for periodic in PERIODIC}
    queue.add_delivery(delivery("old"))
    queue.add_delivery(delivery("recent", key="o/r#2"))
    for guid in ("old", "recent"):
        TIMELINE_DELIVERY.claim(queue, guid)
    with psycopg.connect(postgres_url) as conn:
        conn.execute("UPDATE procrastinate_jobs SET status = 'succeeded'")
        conn.execute(
            "UPDATE rapidvet_deliveries SET received_at = now() - interval '31 days'"
            " WHERE id = 'old'"
        )
        conn.execute(
            "UPDATE rapidvet_records SET updated_at = now() - interval '31 days' WHERE key = 'old'"
        )
    asyncio.run(app.tasks["rapidvet.prune"](timestamp=0))  # retention: 30 days
    with psycopg.connect(postgres_url) as conn:
        left = conn.execute("SELECT id FROM rapidvet_deliveries").fetchall()
    assert left == [("recent",)]
    # the old delivery's timeline claim went too
    assert queue.values(TIMELINE_DELIVERY.scope) == {"recent": "1"}


def test_retention_setting():
    env = {
        "RAPIDVET_APP_ID": "1",
        "RAPIDVET_PRIVATE_KEY": "-----BEGIN PRIVATE KEY-----\nx\n-----END PRIVATE KEY-----",
        "RAPIDVET_WEBHOOK_SECRET": "s",
    }
    assert load_settings(env, None).retention_days == 30
    assert load_settings({**env, "RAPIDVET_RETENTION_DAYS": "7"}, None).retention_days == 7
    with pytest.raises(SettingsError, match="RAPIDVET_RETENTION_DAYS must be a positive number"):
        load_settings({**env, "RAPIDVET_RETENTION_DAYS": "a week"}, None)


def test_a_worker_alone_serves_health_and_metrics_only(postgres_url, tmp_path):
    """What the split deployments probe and scrape: the job gauges live in the worker."""
    env = service_env(tmp_path, "http://127.0.0.1:9", RAPIDVET_DATABASE_URL=postgres_url)
    with running_service(env, tmp_path, command="worker") as worker:
        assert get(worker.url + "/healthz")[0] == 200
        assert get(worker.url + "/readyz")[0] == 200
        status, metrics = get(worker.url + "/metrics")
        assert status == 200 and b"dead_jobs" in metrics and b"queue_depth" in metrics
        assert get(worker.url + "/")[0] == 404  # no pages
        hook = urllib.request.Request(worker.url + "/webhooks", data=b"{}", method="POST")
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(hook, timeout=10)
        assert refused.value.code == 404  # and no webhooks: those go to the web replicas


def test_the_web_handler_stores_through_the_async_driver_once_per_guid(postgres_url):
    store = open_store(postgres_url)
    store.migrate()

    async def deliver() -> list[bool]:
        try:  # all at once, while the first one opens the pool
            return list(await asyncio.gather(*(store.receive(delivery(g)) for g in "aab")))
        finally:
            await store.aclose()

    try:
        assert sorted(asyncio.run(deliver())) == [False, True, True]
        assert store.job_counts().queued == 2
        with psycopg.connect(postgres_url) as conn:
            linked = conn.execute(
                "SELECT count(*) FROM rapidvet_deliveries d JOIN procrastinate_jobs j"
                " ON j.id = d.job_id WHERE j.lock = d.key"
            ).fetchone()
        assert linked == (2,)
    finally:
        store.close()
