"""The embedded backend: one SQLite file in WAL mode.

A delivery and its job are written in one transaction before the webhook is answered, so an
answered delivery survives a kill -9. Leases name the worker as host:pid; a lease whose
process is gone on this host is taken back at once, others when they expire.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import time
from datetime import UTC, datetime
from pathlib import Path

from rapidvet.app.store import DeadJob, Delivery, Job, JobCounts

MIGRATIONS = (
    """
    CREATE TABLE deliveries (
        id TEXT PRIMARY KEY,
        event TEXT NOT NULL,
        action TEXT,
        installation INTEGER,
        repo TEXT,
        payload BLOB NOT NULL,
        received_at REAL NOT NULL
    );
    CREATE TABLE jobs (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        delivery_id TEXT NOT NULL REFERENCES deliveries(id) ON DELETE CASCADE,
        key TEXT NOT NULL,
        state TEXT NOT NULL DEFAULT 'queued',
        attempts INTEGER NOT NULL DEFAULT 0,
        run_after REAL NOT NULL,
        leased_by TEXT,
        lease_until REAL,
        last_error TEXT,
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL
    );
    CREATE INDEX jobs_due ON jobs (state, run_after);
    CREATE INDEX jobs_key ON jobs (key, state);
    CREATE TABLE records (
        scope TEXT NOT NULL,
        key TEXT NOT NULL,
        value TEXT NOT NULL,
        updated_at REAL NOT NULL,
        PRIMARY KEY (scope, key)
    );
    """,
    # A signed body is stored once (Delivery.body_sha256); NULLs never collide.
    """
    ALTER TABLE deliveries ADD COLUMN body_sha256 BLOB;
    CREATE UNIQUE INDEX deliveries_body_sha256 ON deliveries (body_sha256);
    """,
)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _create_private(path: str) -> None:
    """Create the database file readable by its owner only, unless it exists: it holds the
    App's deliveries and secrets. SQLite gives its -wal and -shm files the same mode."""
    if not os.path.exists(path):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))


class SqliteStore:
    def __init__(self, path: str) -> None:
        self.path = path
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            _create_private(path)
        # autocommit mode: every transaction below is explicit
        self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")  # WAL: survives a process kill
        self.db.execute("PRAGMA foreign_keys=ON")
        self.host = socket.gethostname()

    def migrate(self) -> None:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            (version,) = self.db.execute("PRAGMA user_version").fetchone()
            for number, script in enumerate(MIGRATIONS[version:], version + 1):
                for statement in filter(str.strip, script.split(";")):
                    self.db.execute(statement)
                self.db.execute(f"PRAGMA user_version={number}")
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise

    def schema_version(self) -> tuple[int, int]:
        """(applied, known) migration versions."""
        (version,) = self.db.execute("PRAGMA user_version").fetchone()
        return int(version), len(MIGRATIONS)

    def ping(self) -> bool:
        try:
            self.db.execute("SELECT 1").fetchone()
        except sqlite3.Error:
            return False
        return True

    def add_delivery(self, delivery: Delivery) -> bool:
        now = time.time()
        self.db.execute("BEGIN IMMEDIATE")
        try:
            # Ignored when the id or the body hash is there already.
            inserted = self.db.execute(
                "INSERT OR IGNORE INTO deliveries (id, event, action, installation, repo,"
                " payload, received_at, body_sha256) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    delivery.id,
                    delivery.event,
                    delivery.action,
                    delivery.installation,
                    delivery.repo,
                    delivery.payload,
                    now,
                    delivery.body_sha256,
                ),
            ).rowcount
            if inserted:
                self.db.execute(
                    "INSERT INTO jobs (delivery_id, key, run_after, created_at, updated_at)"
                    " VALUES (?, ?, ?, ?, ?)",
                    (delivery.id, delivery.key, now, now, now),
                )
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        return bool(inserted)

    async def receive(self, delivery: Delivery) -> bool:
        return self.add_delivery(delivery)  # a local file: microseconds, no round trip

    async def aclose(self) -> None:
        pass  # `receive` opens nothing

    def has_delivery(self, delivery_id: str) -> bool:
        found = self.db.execute("SELECT 1 FROM deliveries WHERE id = ?", (delivery_id,))
        return found.fetchone() is not None

    def _release_orphans(self, now: float) -> None:
        """Leases of workers on this host whose process has died go back to the queue."""
        rows = self.db.execute(
            "SELECT id, leased_by FROM jobs WHERE state = 'running' AND leased_by LIKE ?",
            (f"{self.host}:%",),
        ).fetchall()
        for job_id, owner in rows:
            pid = owner.rsplit(":", 1)[1]
            if pid.isdigit() and not _alive(int(pid)):
                self.db.execute(
                    "UPDATE jobs SET state = 'queued', leased_by = NULL, updated_at = ?"
                    " WHERE id = ? AND state = 'running'",
                    (now, job_id),
                )

    def claim_job(self, worker: str, lease_seconds: float) -> Job | None:
        now = time.time()
        self.db.execute("BEGIN IMMEDIATE")
        try:
            self._release_orphans(now)
            row = self.db.execute(
                """
                SELECT j.id FROM jobs j
                WHERE ((j.state = 'queued' AND j.run_after <= :now)
                       OR (j.state = 'running' AND j.lease_until < :now))
                  AND NOT EXISTS (
                      SELECT 1 FROM jobs r WHERE r.key = j.key AND r.id != j.id
                        AND r.state = 'running' AND r.lease_until >= :now)
                ORDER BY j.id LIMIT 1
                """,
                {"now": now},
            ).fetchone()
            if row is None:
                self.db.execute("COMMIT")
                return None
            self.db.execute(
                "UPDATE jobs SET state = 'running', attempts = attempts + 1, leased_by = ?,"
                " lease_until = ?, updated_at = ? WHERE id = ?",
                (worker, now + lease_seconds, now, row[0]),
            )
            job = self.db.execute(
                "SELECT j.id, j.delivery_id, d.event, d.action, d.installation, j.key,"
                " d.payload, j.attempts, d.received_at FROM jobs j"
                " JOIN deliveries d ON d.id = j.delivery_id"
                " WHERE j.id = ?",
                (row[0],),
            ).fetchone()
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        return Job(
            id=job[0],
            delivery_id=job[1],
            event=job[2],
            action=job[3],
            installation=job[4],
            key=job[5],
            payload=json.loads(job[6]),
            attempts=job[7],
            received=datetime.fromtimestamp(job[8], UTC),
        )

    def _set_state(self, job_id: int, state: str, error: str | None, run_after: float) -> None:
        self.db.execute(
            "UPDATE jobs SET state = ?, last_error = COALESCE(?, last_error), run_after = ?,"
            " leased_by = NULL, lease_until = NULL, updated_at = ? WHERE id = ?",
            (state, error, run_after, time.time(), job_id),
        )

    def finish_job(self, job_id: int) -> None:
        self._set_state(job_id, "done", None, time.time())

    def retry_job(self, job_id: int, error: str, delay_seconds: float) -> None:
        self._set_state(job_id, "queued", error, time.time() + delay_seconds)

    def bury_job(self, job_id: int, error: str) -> None:
        self._set_state(job_id, "dead", error, time.time())

    def requeue_dead(self, job_id: int) -> bool:
        changed = self.db.execute(
            "UPDATE jobs SET state = 'queued', attempts = 0, run_after = ?, updated_at = ?"
            " WHERE id = ? AND state = 'dead'",
            (time.time(), time.time(), job_id),
        ).rowcount
        return bool(changed)

    def job_counts(self) -> JobCounts:
        counts = dict.fromkeys(("queued", "running", "done", "dead"), 0)
        for state, count in self.db.execute("SELECT state, COUNT(*) FROM jobs GROUP BY state"):
            counts[state] = count
        (oldest,) = self.db.execute(
            "SELECT MIN(created_at) FROM jobs WHERE state = 'queued'"
        ).fetchone()
        return JobCounts(
            queued=counts["queued"],
            running=counts["running"],
            done=counts["done"],
            dead=counts["dead"],
            oldest_queued=datetime.fromtimestamp(oldest, UTC) if oldest else None,
        )

    def dead_jobs(self, limit: int = 50) -> list[DeadJob]:
        rows = self.db.execute(
            "SELECT j.id, j.delivery_id, d.event, j.key, j.attempts, j.last_error, j.updated_at"
            " FROM jobs j JOIN deliveries d ON d.id = j.delivery_id WHERE j.state = 'dead'"
            " ORDER BY j.updated_at DESC LIMIT ?",
            (limit,),
        ).fetchall()
        return [
            DeadJob(r[0], r[1], r[2], r[3], r[4], r[5] or "", datetime.fromtimestamp(r[6], UTC))
            for r in rows
        ]

    def prune(self, older_than_days: float) -> int:
        cutoff = time.time() - older_than_days * 86400
        return self.db.execute(
            "DELETE FROM deliveries WHERE received_at < ? AND id NOT IN"
            " (SELECT delivery_id FROM jobs WHERE state IN ('queued', 'running'))",
            (cutoff,),
        ).rowcount

    def get_value(self, scope: str, key: str) -> str | None:
        row = self.db.execute(
            "SELECT value FROM records WHERE scope = ? AND key = ?", (scope, key)
        ).fetchone()
        return None if row is None else str(row[0])

    def put_value(self, scope: str, key: str, value: str) -> None:
        self.db.execute(
            "INSERT INTO records VALUES (?, ?, ?, ?) ON CONFLICT (scope, key)"
            " DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
            (scope, key, value, time.time()),
        )

    def values(self, scope: str) -> dict[str, str]:
        rows = self.db.execute("SELECT key, value FROM records WHERE scope = ?", (scope,))
        return {str(key): str(value) for key, value in rows}

    def claim_value(self, scope: str, key: str, value: str) -> bool:
        return bool(
            self.db.execute(
                "INSERT OR IGNORE INTO records VALUES (?, ?, ?, ?)",
                (scope, key, value, time.time()),
            ).rowcount
        )

    def drop_values(self, scope: str, older_than_days: float) -> int:
        cutoff = time.time() - older_than_days * 86400
        return self.db.execute(
            "DELETE FROM records WHERE scope = ? AND updated_at < ?", (scope, cutoff)
        ).rowcount

    def close(self) -> None:
        self.db.close()
