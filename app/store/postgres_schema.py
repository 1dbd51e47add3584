"""The PostgreSQL schema: rapidvet's tables and procrastinate's, versioned in `rapidvet_schema`.

Every start-up migrates. A session advisory lock makes processes that start together take
turns; the one that comes second finds nothing left to do. Each step runs in its own
transaction with the row that records it, so a step is applied once or not at all.

procrastinate ships its full schema (`schema.sql`) and one SQL file per change since its
first release. An empty database gets the full schema, recorded as the newest migration it
contains; a database recorded at an older version gets the newer files, in order.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
from procrastinate.schema import SchemaManager

RAPIDVET = "rapidvet"
PROCRASTINATE = "procrastinate"
# pg_advisory_lock key: the first eight bytes of "rapidvet" as a signed bigint.
MIGRATION_LOCK = int.from_bytes(b"rapidvet", "big", signed=True)

VERSIONS_TABLE = """
CREATE TABLE IF NOT EXISTS rapidvet_schema (
    component text NOT NULL,
    version text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (component, version)
)
"""

# rapidvet's own migrations, in order; never edit one that has shipped, add the next.
MIGRATIONS: tuple[tuple[str, str], ...] = (
    (
        "0001",
        """
        CREATE TABLE rapidvet_deliveries (
            id text PRIMARY KEY,
            event text NOT NULL,
            action text,
            installation bigint,
            repo text,
            key text NOT NULL,
            payload bytea NOT NULL,
            received_at timestamptz NOT NULL DEFAULT now(),
            job_id bigint UNIQUE,  -- its procrastinate job
            last_error text  -- procrastinate keeps no error text; the dead-letter view needs it
        );
        CREATE INDEX rapidvet_deliveries_received_at ON rapidvet_deliveries (received_at);
        CREATE TABLE rapidvet_records (
            scope text NOT NULL,
            key text NOT NULL,
            value text NOT NULL,
            updated_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (scope, key)
        );
        """,
    ),
    (
        "0002",
        # The webhook's write in one round trip: the delivery row, its job (through
        # procrastinate's versioned defer function, so its triggers and checks still apply)
        # and the link between them. The job's id, or NULL when the delivery was stored before.
        """
        CREATE FUNCTION rapidvet_add_delivery_v1(
            _id text, _event text, _action text, _installation bigint, _repo text, _key text,
            _payload bytea, _queue text, _task text, _args jsonb
        ) RETURNS bigint LANGUAGE plpgsql AS $$
        DECLARE
            _job bigint;
        BEGIN
            INSERT INTO rapidvet_deliveries (id, event, action, installation, repo, key, payload)
            VALUES (_id, _event, _action, _installation, _repo, _key, _payload)
            ON CONFLICT (id) DO NOTHING;
            IF NOT FOUND THEN
                RETURN NULL;
            END IF;
            _job := (procrastinate_defer_jobs_v1(ARRAY[
                ROW(_queue, _task, 0, _key, NULL, _args, NULL)::procrastinate_job_to_defer_v1
            ]))[1];
            UPDATE rapidvet_deliveries SET job_id = _job WHERE id = _id;
            RETURN _job;
        END;
        $$;
        """,
    ),
    (
        "0003",
        # A signed body is stored once: the SHA-256 of each delivery's raw body, unique (NULLs,
        # the reconciler's own deliveries, never collide), and v2 of the webhook's write, which
        # stores nothing when the id or the body is there already. v1 stays for processes of
        # the previous release during a rolling upgrade; what they store has no hash.
        """
        ALTER TABLE rapidvet_deliveries ADD COLUMN body_sha256 bytea;
        CREATE UNIQUE INDEX rapidvet_deliveries_body_sha256 ON rapidvet_deliveries (body_sha256);
        CREATE FUNCTION rapidvet_add_delivery_v2(
            _id text, _event text, _action text, _installation bigint, _repo text, _key text,
            _payload bytea, _body_sha256 bytea, _queue text, _task text, _args jsonb
        ) RETURNS bigint LANGUAGE plpgsql AS $$
        DECLARE
            _job bigint;
        BEGIN
            INSERT INTO rapidvet_deliveries
                (id, event, action, installation, repo, key, payload, body_sha256)
            VALUES (_id, _event, _action, _installation, _repo, _key, _payload, _body_sha256)
            ON CONFLICT DO NOTHING;  -- the id's key or the body's index
            IF NOT FOUND THEN
                RETURN NULL;
            END IF;
            _job := (procrastinate_defer_jobs_v1(ARRAY[
                ROW(_queue, _task, 0, _key, NULL, _args, NULL)::procrastinate_job_to_defer_v1
            ]))[1];
            UPDATE rapidvet_deliveries SET job_id = _job WHERE id = _id;
            RETURN _job;
        END;
        $$;
        """,
    ),
)


@dataclass(frozen=True)
class Component:
    """Schema versions of one component: applied in the database and known to this code."""

    name: str
    applied: str | None
    known: str
    pending: tuple[str, ...]


@dataclass(frozen=True)
class _Step:
    component: str
    version: str
    sql: str | None  # None: only record the version (the schema is already there)


def procrastinate_migrations() -> list[tuple[str, Path]]:
    """(version, file) of every migration the installed procrastinate ships, oldest first."""
    files = Path(SchemaManager.get_migrations_path()).glob("*.sql")
    return sorted((path.stem, path) for path in files)


def _applied(conn: psycopg.Connection) -> dict[str, str]:
    exists = conn.execute("SELECT to_regclass('rapidvet_schema') IS NOT NULL").fetchone()
    if not exists or not exists[0]:
        return {}
    rows = conn.execute("SELECT component, max(version) FROM rapidvet_schema GROUP BY component")
    return {component: version for component, version in rows}


def _steps(conn: psycopg.Connection) -> list[_Step]:
    applied = _applied(conn)
    steps = [
        _Step(RAPIDVET, version, sql)
        for version, sql in MIGRATIONS
        if version > applied.get(RAPIDVET, "")
    ]
    known = procrastinate_migrations()
    current = applied.get(PROCRASTINATE)
    if current is None:
        # Tables from an earlier `procrastinate schema --apply` are taken as the installed
        # version's; otherwise the full schema goes in at once.
        found = conn.execute("SELECT to_regclass('procrastinate_jobs') IS NOT NULL").fetchone()
        existing = bool(found and found[0])
        sql = None if existing else SchemaManager.get_schema()
        steps.append(_Step(PROCRASTINATE, known[-1][0], sql))
    else:
        steps += [
            _Step(PROCRASTINATE, version, path.read_text(encoding="utf-8"))
            for version, path in known
            if version > current
        ]
    return steps


@contextmanager
def _locked(url: str) -> Iterator[psycopg.Connection]:
    """A connection holding the migration lock; other migrating processes wait for it."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK,))
        try:
            yield conn
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK,))


def migrate(url: str) -> list[str]:
    """Apply what is missing; the steps applied, as "component version"."""
    done = []
    with _locked(url) as conn:
        conn.execute(VERSIONS_TABLE)
        for step in _steps(conn):
            with conn.transaction():
                if step.sql is not None:
                    # Without parameters psycopg sends the script as it is, `%` and all.
                    conn.execute(step.sql)
                conn.execute(
                    "INSERT INTO rapidvet_schema (component, version) VALUES (%s, %s)",
                    (step.component, step.version),
                )
            done.append(f"{step.component} {step.version}")
    return done


def status(url: str) -> list[Component]:
    """Applied and known versions of rapidvet's tables and procrastinate's."""
    with psycopg.connect(url, autocommit=True) as conn:
        applied = _applied(conn)
        pending = _steps(conn)
    known = {RAPIDVET: MIGRATIONS[-1][0], PROCRASTINATE: procrastinate_migrations()[-1][0]}
    return [
        Component(
            name,
            applied.get(name),
            known[name],
            tuple(step.version for step in pending if step.component == name),
        )
        for name in (RAPIDVET, PROCRASTINATE)
    ]
