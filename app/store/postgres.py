"""The shared backend: PostgreSQL, with procrastinate as the job queue, for several `rapidvet
serve` and `rapidvet worker` processes at once.

rapidvet's own tables (deliveries, records) are read and written with psycopg; a delivery's job
is a procrastinate job, task `rapidvet.run_delivery` with `lock` = the delivery's key, so that
procrastinate never runs two jobs of one pull request at once, in any worker process. No
`queueing_lock`: two deliveries of one pull request are both needed, and the GUID primary key
already drops redeliveries, and a unique hash of the signed body drops replays under new ids.
The delivery row and its job are written by one call of `rapidvet_add_delivery_v2`
(postgres_schema), which defers the job through procrastinate's own SQL function: the
webhook's answer waits for that one statement (`receive`).

A job that used up its tries stays `failed` in procrastinate: that is the dead letter. Its last
error is kept on the delivery row, since procrastinate keeps no error text.
"""

from __future__ import annotations

import asyncio
import json
from datetime import datetime
from typing import cast

import psycopg
import psycopg_pool
from procrastinate.sql import queries

from rapidvet.app.store import DeadJob, Delivery, Job, JobCounts, postgres_schema

DELIVERY_TASK = "rapidvet.run_delivery"
DELIVERY_QUEUE = "deliveries"
PERIODIC_QUEUE = "periodic"
# pg_try_advisory_xact_lock key taken while putting stalled jobs back (see requeue_stalled).
STALLED_LOCK = postgres_schema.MIGRATION_LOCK + 1


ADD_DELIVERY = "SELECT rapidvet_add_delivery_v2(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"


def _add_delivery_params(delivery: Delivery) -> tuple[object, ...]:
    return (
        delivery.id,
        delivery.event,
        delivery.action,
        delivery.installation,
        delivery.repo,
        delivery.key,
        delivery.payload,
        delivery.body_sha256,
        DELIVERY_QUEUE,
        DELIVERY_TASK,
        json.dumps({"delivery_id": delivery.id}),
    )


def _added(row: tuple[object, ...] | None) -> bool:
    """Whether ADD_DELIVERY stored the delivery: it answers the job's id, or NULL when the
    delivery (its id or its signed body) was stored before."""
    return row is not None and row[0] is not None


class PostgresStore:
    def __init__(self, url: str) -> None:
        self.url = url
        # Connections come and go per call; `check` replaces ones the server has dropped.
        self.pool = psycopg_pool.ConnectionPool(
            url,
            min_size=1,
            max_size=4,
            open=False,
            check=psycopg_pool.ConnectionPool.check_connection,
        )
        self.pool.open(wait=False)
        # The webhook handler's own connections, on its event loop (see `receive`).
        self._receiving: psycopg_pool.AsyncConnectionPool | None = None
        self._receiving_lock = asyncio.Lock()

    def migrate(self) -> None:
        postgres_schema.migrate(self.url)

    def schema_status(self) -> list[postgres_schema.Component]:
        return postgres_schema.status(self.url)

    def ping(self) -> bool:
        try:
            with self.pool.connection(timeout=2) as conn:  # /readyz must answer quickly
                conn.execute("SELECT 1")
        except psycopg.Error:  # PoolTimeout too
            return False
        return True

    def add_delivery(self, delivery: Delivery) -> bool:
        with self.pool.connection() as conn:  # committed as the block ends
            row = conn.execute(ADD_DELIVERY, _add_delivery_params(delivery)).fetchone()
        return _added(row)

    async def receive(self, delivery: Delivery) -> bool:
        """The same statement through psycopg's async driver: a thread would wait for the GIL
        after each round trip while the loop is busy, adding milliseconds to every answer.
        Autocommit: one statement is its own transaction, with no separate COMMIT trip."""
        async with (await self._receiving_pool()).connection() as conn:
            cursor = await conn.execute(ADD_DELIVERY, _add_delivery_params(delivery))
            row = await cursor.fetchone()
        return _added(row)

    async def _receiving_pool(self) -> psycopg_pool.AsyncConnectionPool:
        """Opened by the first delivery (there is no event loop before); the deliveries that
        arrive meanwhile wait for that one pool instead of each opening their own."""
        async with self._receiving_lock:
            if self._receiving is None:
                pool = psycopg_pool.AsyncConnectionPool(
                    self.url,
                    min_size=4,  # warm before a burst: a new connection takes tens of ms
                    max_size=8,
                    open=False,
                    kwargs={"autocommit": True},
                    check=psycopg_pool.AsyncConnectionPool.check_connection,
                )
                await pool.open()
                self._receiving = pool
        return self._receiving

    async def aclose(self) -> None:
        if self._receiving is not None:
            await self._receiving.close()
            self._receiving = None

    def has_delivery(self, delivery_id: str) -> bool:
        with self.pool.connection() as conn:
            found = conn.execute(
                "SELECT 1 FROM rapidvet_deliveries WHERE id = %s", (delivery_id,)
            ).fetchone()
        return found is not None

    def delivery_job(self, delivery_id: str, job_id: int, attempts: int) -> Job | None:
        """The job of a delivery as the worker runs it; None when the delivery is gone."""
        with self.pool.connection() as conn:
            row = conn.execute(
                "SELECT event, action, installation, key, payload, received_at"
                " FROM rapidvet_deliveries"
                " WHERE id = %s",
                (delivery_id,),
            ).fetchone()
        if row is None:
            return None
        event, action, installation, key, payload, received = row
        return Job(
            job_id,
            delivery_id,
            event,
            action,
            installation,
            key,
            json.loads(payload),
            attempts,
            received,
        )

    def note_error(self, delivery_id: str, error: str) -> None:
        with self.pool.connection() as conn:
            conn.execute(
                "UPDATE rapidvet_deliveries SET last_error = %s WHERE id = %s", (error, delivery_id)
            )

    def requeue_stalled(self, seconds_since_heartbeat: float) -> list[int]:
        """Queue again the running jobs of workers whose heartbeat is older than the given age
        (a worker killed mid-job); their ids. One process at a time does this, in one
        transaction, so a job that another process just put back and a live worker took is
        never put back a second time."""
        with self.pool.connection() as conn:
            locked = conn.execute(
                "SELECT pg_try_advisory_xact_lock(%s)", (STALLED_LOCK,)
            ).fetchone()
            if not (locked and locked[0]):  # another process is at it
                return []
            stalled = conn.execute(
                queries["select_stalled_jobs_by_heartbeat"],
                {
                    "queue": None,
                    "task_name": None,
                    "seconds_since_heartbeat": seconds_since_heartbeat,
                },
            ).fetchall()
            for row in stalled:
                self._retry(conn, row[0])
        return [row[0] for row in stalled]

    @staticmethod
    def _retry(conn: psycopg.Connection, job_id: int) -> None:
        conn.execute(
            queries["retry_job"],
            {
                "job_id": job_id,
                "retry_at": None,
                "new_priority": None,
                "new_queue_name": None,
                "new_lock": None,
            },
        )

    def requeue_dead(self, job_id: int) -> bool:
        with self.pool.connection() as conn:
            dead = conn.execute(
                "SELECT 1 FROM procrastinate_jobs WHERE id = %s AND queue_name = %s"
                " AND status = 'failed' FOR UPDATE",
                (job_id, DELIVERY_QUEUE),
            ).fetchone()
            if dead is None:
                return False
            self._retry(conn, job_id)
            # A fresh set of tries, as on SQLite: the worker counts them from procrastinate's.
            conn.execute("UPDATE procrastinate_jobs SET attempts = 0 WHERE id = %s", (job_id,))
        return True

    def job_counts(self) -> JobCounts:
        with self.pool.connection() as conn:
            counts = dict.fromkeys(("todo", "doing", "succeeded", "failed"), 0)
            rows = conn.execute(
                "SELECT status::text, count(*) FROM procrastinate_jobs WHERE queue_name = %s"
                " GROUP BY status",
                (DELIVERY_QUEUE,),
            )
            counts.update(dict(rows.fetchall()))
            oldest = conn.execute(
                "SELECT min(d.received_at) FROM procrastinate_jobs j"
                " JOIN rapidvet_deliveries d ON d.job_id = j.id"
                " WHERE j.queue_name = %s AND j.status = 'todo'",
                (DELIVERY_QUEUE,),
            ).fetchone()
        return JobCounts(
            queued=counts["todo"],
            running=counts["doing"],
            done=counts["succeeded"],
            dead=counts["failed"],
            oldest_queued=oldest[0] if oldest else None,
        )

    def dead_jobs(self, limit: int = 50) -> list[DeadJob]:
        with self.pool.connection() as conn:
            rows = conn.execute(
                "SELECT j.id, d.id, d.event, d.key, j.attempts, coalesce(d.last_error, ''),"
                " (SELECT max(e.at) FROM procrastinate_events e WHERE e.job_id = j.id) AS died"
                " FROM procrastinate_jobs j JOIN rapidvet_deliveries d ON d.job_id = j.id"
                " WHERE j.queue_name = %s AND j.status = 'failed'"
                " ORDER BY died DESC, j.id DESC LIMIT %s",
                (DELIVERY_QUEUE, limit),
            ).fetchall()
        return [DeadJob(*cast(tuple[int, str, str, str, int, str, datetime], row)) for row in rows]

    def prune(self, older_than_days: float) -> int:
        seconds = older_than_days * 86400
        with self.pool.connection() as conn:
            removed = conn.execute(
                """
                WITH gone AS (
                    DELETE FROM rapidvet_deliveries d
                    WHERE d.received_at < now() - make_interval(secs => %(seconds)s)
                      AND NOT EXISTS (
                          SELECT 1 FROM procrastinate_jobs j
                          WHERE j.id = d.job_id AND j.status IN ('todo', 'doing'))
                    RETURNING d.job_id
                ), jobs AS (
                    DELETE FROM procrastinate_jobs j USING gone WHERE j.id = gone.job_id
                )
                SELECT count(*) FROM gone
                """,
                {"seconds": seconds},
            ).fetchone()
            # The periodic tasks' own finished jobs, through procrastinate's query.
            conn.execute(
                queries["delete_old_jobs"],
                {
                    "nb_hours": seconds / 3600,
                    "queue": PERIODIC_QUEUE,
                    "statuses": ["succeeded", "failed"],
                },
            )
        return int(removed[0]) if removed else 0

    def get_value(self, scope: str, key: str) -> str | None:
        with self.pool.connection() as conn:
            row = conn.execute(
                "SELECT value FROM rapidvet_records WHERE scope = %s AND key = %s", (scope, key)
            ).fetchone()
        return None if row is None else str(row[0])

    def put_value(self, scope: str, key: str, value: str) -> None:
        with self.pool.connection() as conn:
            conn.execute(
                "INSERT INTO rapidvet_records (scope, key, value) VALUES (%s, %s, %s)"
                " ON CONFLICT (scope, key) DO UPDATE SET value = excluded.value,"
                " updated_at = now()",
                (scope, key, value),
            )

    def values(self, scope: str) -> dict[str, str]:
        with self.pool.connection() as conn:
            rows = conn.execute(
                "SELECT key, value FROM rapidvet_records WHERE scope = %s", (scope,)
            ).fetchall()
        return {str(key): str(value) for key, value in rows}

    def claim_value(self, scope: str, key: str, value: str) -> bool:
        with self.pool.connection() as conn:
            inserted = conn.execute(
                "INSERT INTO rapidvet_records (scope, key, value) VALUES (%s, %s, %s)"
                " ON CONFLICT DO NOTHING",
                (scope, key, value),
            ).rowcount
        return bool(inserted)

    def drop_values(self, scope: str, older_than_days: float) -> int:
        with self.pool.connection() as conn:
            return conn.execute(
                "DELETE FROM rapidvet_records WHERE scope = %s"
                " AND updated_at < now() - make_interval(secs => %s)",
                (scope, older_than_days * 86400),
            ).rowcount

    def close(self) -> None:
        self.pool.close()
