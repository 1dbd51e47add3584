"""PostgreSQL for tests: the local server (started when it is down), a fresh database per test
module and a schema per test, dropped afterwards; and a worker process to start from tests.

Point RAPIDVET_TEST_POSTGRES at another server to use it instead. When no server answers and
none can be started, the tests that need one are skipped with the reason.

`python -m tests.support.postgres URL MAX_ATTEMPTS BACKOFF_BASE` runs rapidvet's PostgreSQL worker
with a job that records each run in `test_runs` instead of calling GitHub, until SIGTERM;
the `start_worker` fixture starts such processes.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import quote, urlsplit

import psycopg
import pytest
from psycopg import sql

from rapidvet.app.store import Job, RunJob, Store, open_store
from tests.support import ROOT

SERVER_URL = os.environ.get("RAPIDVET_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
CLUSTERS = Path("/etc/postgresql")
RUNS_TABLE = """
CREATE TABLE test_runs (
    delivery_id text NOT NULL,
    key text NOT NULL,
    attempt int NOT NULL,
    pid int NOT NULL,
    started float8 NOT NULL,
    ended float8
)
"""


def _answers(url: str) -> bool:
    try:
        with psycopg.connect(url, connect_timeout=3):
            return True
    except psycopg.OperationalError:
        return False


def _start_local_cluster() -> str | None:
    """Start the Debian clusters on this machine; None once the server answers, else why not."""
    versions = sorted(CLUSTERS.iterdir()) if CLUSTERS.is_dir() else []
    if not versions:
        return f"no cluster under {CLUSTERS}"
    problems = []
    for version in versions:
        command = ["pg_ctlcluster", "--skip-systemctl-redirect", version.name, "main", "start"]
        try:
            started = subprocess.run(command, capture_output=True, text=True, timeout=60)
        except (OSError, subprocess.TimeoutExpired) as err:
            problems.append(str(err))
            continue
        if started.returncode:
            problems.append(started.stderr.strip())
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if _answers(SERVER_URL):
            return None
        time.sleep(0.2)
    return "; ".join(problems) or "the server did not answer after starting"


def with_database(url: str, name: str) -> str:
    return urlsplit(url)._replace(path=f"/{name}").geturl()


def with_schema(url: str, schema: str) -> str:
    """The URL whose sessions see `schema` first (libpq's `options`, percent-encoded)."""
    parts = urlsplit(url)
    option = "options=" + quote(f"-csearch_path={schema}")
    return parts._replace(query=f"{parts.query}&{option}" if parts.query else option).geturl()


@pytest.fixture(scope="session")
def postgres_server() -> str:
    if not _answers(SERVER_URL):
        problem = _start_local_cluster()
        if problem:
            pytest.skip(f"no PostgreSQL at {SERVER_URL}, and none could be started: {problem}")
    return SERVER_URL


@pytest.fixture(scope="module")
def postgres_database(postgres_server: str, request: pytest.FixtureRequest) -> Iterator[str]:
    name = f"rapidvet_{request.module.__name__.rpartition('.')[2]}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(postgres_server, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    yield with_database(postgres_server, name)
    with psycopg.connect(postgres_server, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture
def postgres_url(postgres_database: str) -> Iterator[str]:
    """A URL whose tables all land in a schema of this test's own."""
    schema = f"test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(postgres_database, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
    yield with_schema(postgres_database, schema)
    with psycopg.connect(postgres_database, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """A migrated store of each backend: a SQLite file, then a PostgreSQL database."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'db' / 'rapidvet.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    opened = open_store(url)
    opened.migrate()
    yield opened
    opened.close()


def recording_job(url: str) -> RunJob:
    """A job that writes its start and end to `test_runs`. Its payload may ask it to `sleep`
    seconds, to `fail` with a message, or to `hang_first` (its first try never ends)."""
    conn = psycopg.connect(url, autocommit=True)

    async def run_job(job: Job) -> None:
        run = (job.delivery_id, job.attempts, os.getpid())
        conn.execute(
            "INSERT INTO test_runs VALUES (%s, %s, %s, %s, %s, NULL)",
            (job.delivery_id, job.key, job.attempts, os.getpid(), time.time()),
        )
        await asyncio.sleep(job.payload.get("sleep", 0))
        if job.payload.get("hang_first") and job.attempts == 1:
            await asyncio.sleep(3600)
        conn.execute(
            "UPDATE test_runs SET ended = %s WHERE delivery_id = %s AND attempt = %s AND pid = %s",
            (time.time(), *run),
        )
        if "fail" in job.payload:
            raise RuntimeError(job.payload["fail"])

    return run_job


async def _work(url: str, max_attempts: int) -> None:
    from rapidvet.app.jobs.postgres_worker import PostgresWorker
    from rapidvet.app.settings import Settings
    from rapidvet.app.store.postgres import PostgresStore

    store = PostgresStore(url)
    settings = Settings(app_id=1, private_key="", webhook_secret="", max_attempts=max_attempts)
    # Quick heartbeats and polls, so that a test sees a killed worker's job again in a second.
    worker = PostgresWorker(
        store,
        recording_job(url),
        settings,
        poll_seconds=0.2,
        heartbeat_seconds=0.2,
        stalled_seconds=1.0,
    )
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await worker.run(stop)
    store.close()


@pytest.fixture
def start_worker(
    postgres_url: str, tmp_path: Path
) -> Iterator[Callable[..., subprocess.Popen[bytes]]]:
    """Starts worker processes on this test's schema (`start_worker(max_attempts=3,
    backoff_base=0.1)`), with a `test_runs` table for their runs; stops them at the end and
    prints their logs, which pytest shows when the test failed."""
    with psycopg.connect(postgres_url) as conn:
        conn.execute(RUNS_TABLE)
    workers: list[subprocess.Popen[bytes]] = []

    def start(max_attempts: int = 5, backoff_base: float = 2.0) -> subprocess.Popen[bytes]:
        log = tmp_path / f"worker-{len(workers)}.log"
        command = [sys.executable, "-m", "tests.support.postgres", postgres_url]
        with open(log, "ab") as sink:
            workers.append(
                subprocess.Popen(
                    [*command, str(max_attempts), str(backoff_base)], cwd=ROOT, stderr=sink
                )
            )
        return workers[-1]

    yield start
    for proc in workers:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(30)
    for log in sorted(tmp_path.glob("worker-*.log")):
        print(log.name, log.read_text()[-3000:])


def main() -> None:
    from rapidvet.app.jobs import worker

    url, max_attempts, backoff_base = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    worker.BACKOFF_BASE = backoff_base
    asyncio.run(_work(url, max_attempts))


if __name__ == "__main__":
    main()
