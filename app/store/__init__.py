"""What the service keeps: the delivery journal, the job queue and the records that make
side effects happen once. One interface; the backends live in their own modules.

Jobs are serialized by `key` (one pull request, or one repository): a job is only handed out
while no other job with the same key is running, so two events of one pull request never
run at once, whichever worker takes them. Each backend brings its own worker: rapidvet's
lease loop (app/jobs/worker.py) on SQLite, procrastinate's on PostgreSQL.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol


@dataclass(frozen=True)
class Delivery:
    id: str  # X-GitHub-Delivery: stays the same on redelivery
    event: str
    action: str | None
    installation: int | None
    repo: str | None
    key: str  # what serializes its job: "owner/repo#12", "owner/repo" or "installation:N"
    payload: bytes
    # SHA-256 of the signed raw body: the same body under another id is a replay. None for
    # deliveries rapidvet makes itself (the reconciler's), which may repeat a payload.
    body_sha256: bytes | None = None


def key_parts(key: str) -> tuple[str | None, int | None]:
    """The repository and pull request number a job key names (None where it names none)."""
    if "/" not in key:  # "installation:N"
        return None, None
    repo, _, number = key.partition("#")
    return repo, int(number) if number.isdigit() else None


@dataclass(frozen=True)
class Job:
    id: int
    delivery_id: str
    event: str
    action: str | None
    installation: int | None
    key: str
    payload: dict[str, Any]
    attempts: int  # including this one
    received: datetime  # when the delivery was stored


@dataclass(frozen=True)
class JobCounts:
    queued: int
    running: int
    done: int
    dead: int
    oldest_queued: datetime | None


@dataclass(frozen=True)
class DeadJob:
    id: int
    delivery_id: str
    event: str
    key: str
    attempts: int
    last_error: str
    updated_at: datetime


RunJob = Callable[[Job], Awaitable[None]]


class JobWorker(Protocol):
    """Runs queued jobs until `stop` is set."""

    def wake(self) -> None:
        """A job was just queued in this process: look for it now."""
        ...

    async def run(self, stop: asyncio.Event) -> None: ...


class Store(Protocol):
    """The storage interface every backend implements."""

    def migrate(self) -> None: ...

    def ping(self) -> bool: ...

    def add_delivery(self, delivery: Delivery) -> bool:
        """Store a delivery and queue its job in one transaction; False, storing nothing,
        when its id is known or its `body_sha256` is (a replay), until pruned."""
        ...

    async def receive(self, delivery: Delivery) -> bool:
        """`add_delivery` for the webhook handler, on its event loop: a backend that talks to
        a server answers other requests while it waits for this one."""
        ...

    async def aclose(self) -> None:
        """Release what `receive` opened on the event loop, before that loop ends."""
        ...

    def has_delivery(self, delivery_id: str) -> bool:
        """Whether a delivery with this id is stored (until pruned)."""
        ...

    def requeue_dead(self, job_id: int) -> bool: ...

    def job_counts(self) -> JobCounts: ...

    def dead_jobs(self, limit: int = 50) -> list[DeadJob]: ...

    def prune(self, older_than_days: float) -> int:
        """Delete finished deliveries older than the retention, their body hashes with them;
        the count removed."""
        ...

    def get_value(self, scope: str, key: str) -> str | None:
        """A small record that makes a side effect happen once (check run ids, reviewer
        requests, merge records): `scope` names the kind, `key` the instance."""
        ...

    def put_value(self, scope: str, key: str, value: str) -> None: ...

    def values(self, scope: str) -> dict[str, str]:
        """Every record of a scope, by key."""
        ...

    def claim_value(self, scope: str, key: str, value: str) -> bool:
        """Set a record only when it is absent; True when this call set it."""
        ...

    def drop_values(self, scope: str, older_than_days: float) -> int:
        """Delete a scope's records last set before the retention; the count removed."""
        ...

    def close(self) -> None: ...


class LeasedStore(Store, Protocol):
    """A store whose jobs rapidvet's own worker (app/jobs/worker.py) leases: SQLite's backend."""

    def claim_job(self, worker: str, lease_seconds: float) -> Job | None:
        """The oldest due job whose key no running job holds, leased to `worker`."""
        ...

    def finish_job(self, job_id: int) -> None: ...

    def retry_job(self, job_id: int, error: str, delay_seconds: float) -> None: ...

    def bury_job(self, job_id: int, error: str) -> None:
        """Park a job as dead, keeping its last error."""
        ...


def open_store(database_url: str) -> Store:
    """The backend the URL names: `sqlite:///path` (embedded) or `postgresql://...`."""
    if database_url.startswith("sqlite:///"):
        from rapidvet.app.store.sqlite import SqliteStore

        return SqliteStore(database_url.removeprefix("sqlite:///"))
    if database_url.startswith(("postgresql://", "postgres://")):
        from rapidvet.app.store.postgres import PostgresStore

        return PostgresStore(database_url)
    raise ValueError(f"unsupported database URL: {database_url.split(':', 1)[0]}://...")
