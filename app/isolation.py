"""Checking untrusted content in child processes, with a ceiling on each job's time and memory.

A pull request's pages, and the handbook's on a push, are parsed and judged by `checks/` and
`workflows/` in a small pool of child processes, never in the web server's: however long the
worst page takes, the server goes on answering. Each child may use at most the job memory
limit (RLIMIT_AS), and each job may keep the children busy at most its time budget, counted
over all its checking calls; past either, the child is killed and the job gives up (`GaveUp`).

The pool is made once per worker and reused; its children come from a fork server, a clean
process started for the purpose, so none inherits the threads or event loop of the service.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import resource
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, TypeVar

from pebble import ProcessExpired, ProcessPool

from rapidvet.app import metrics

log = logging.getLogger("rapidvet.isolation")
T = TypeVar("T")
CHILDREN = 2  # one check may run while another waits on GitHub; the machine has 2 cores
# Imported once in the fork server, so a new child (after a kill) starts without importing.
QUEUE_GRACE = 5.0  # seconds, see `checked`
PRELOAD = ["rapidvet.app.evaluation", "rapidvet.app.snapshots"]


class GaveUp(Exception):
    """The job's checking was stopped; `reason` says why in words for the pull request."""

    def __init__(self, reason: str, cause: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.cause = cause  # timeout | memory | crashed: the metric's label


@dataclass(frozen=True)
class Limits:
    seconds: float  # of checking per job, wall clock
    memory_mb: int  # per child process


def _limit_memory(memory_mb: int) -> None:
    """Each child's initializer: above the limit, allocating raises MemoryError."""
    limit = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def _timed(function: Callable[..., T], args: tuple[Any, ...]) -> tuple[float, T]:
    """In the child: the call's result and the seconds it took there (not queued)."""
    start = time.perf_counter()
    result = function(*args)
    return time.perf_counter() - start, result


class CheckPool:
    """The child processes of one worker; `job()` gives each job its budget."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(PRELOAD)
        self._pool = ProcessPool(
            max_workers=CHILDREN,
            initializer=_limit_memory,
            initargs=(limits.memory_mb,),
            context=context,
        )
        self._pool.schedule(time.perf_counter)  # start the children now, not on the first job

    def close(self) -> None:
        """Kill whatever still runs (its job is being cancelled) and reap the children."""
        self._pool.stop()  # type: ignore[no-untyped-call]  # pebble leaves it unannotated
        self._pool.join()

    def run(
        self, function: Callable[..., T], args: tuple[Any, ...], timeout: float
    ) -> asyncio.Future[tuple[float, T]]:
        """Cancelling the returned future kills the child running it."""
        return asyncio.wrap_future(self._pool.schedule(_timed, (function, args), timeout=timeout))

    @contextmanager
    def job(self) -> Iterator[None]:
        """Within this block (one job's task), `checked` calls run in this pool, and share
        one budget of `limits.seconds`."""
        token = _budget.set(_Budget(self, self.limits.seconds))
        try:
            yield
        finally:
            _budget.reset(token)


@dataclass
class _Budget:
    pool: CheckPool
    left: float  # seconds


_budget: ContextVar[_Budget] = ContextVar("rapidvet_check_budget")


async def checked(function: Callable[..., T], *args: Any) -> T:
    """`function(*args)` in a child of the current job's pool, within what is left of the
    job's budget; GaveUp when the child runs out of time or memory or dies. `function` and
    its arguments and result must pickle; it must be pure (its effects stay in the child)."""
    try:
        budget = _budget.get()
    except LookupError:
        raise RuntimeError("untrusted content is only checked within a job's budget") from None
    limits = budget.pool.limits
    if budget.left <= 0:
        raise _gave_up(f"checking took longer than {limits.seconds:g} s", "timeout")
    try:
        # pebble's timeout counts from when a child takes the task; a task whose child dies
        # before taking it would wait for ever. Queued behind the other jobs (at most one
        # budget with the worker's 4 jobs on 2 children), it has this long in all.
        waited = budget.left + limits.seconds + QUEUE_GRACE
        spent, result = await asyncio.wait_for(budget.pool.run(function, args, budget.left), waited)
    except TimeoutError:
        budget.left = 0
        raise _gave_up(f"checking took longer than {limits.seconds:g} s", "timeout") from None
    except MemoryError:
        raise _gave_up(f"checking needed more than {limits.memory_mb} MB", "memory") from None
    except ProcessExpired as err:
        # Past RLIMIT_AS the child may die in its own plumbing rather than raise in the check.
        reason = (
            f"the checking process stopped (exit code {err.exitcode});"
            f" it may have needed more than {limits.memory_mb} MB"
        )
        raise _gave_up(reason, "crashed") from None
    budget.left -= spent
    return result


def _gave_up(reason: str, cause: str) -> GaveUp:
    """Logged (with the job's delivery, bound by the job runner) and counted where it happens."""
    metrics.checks_gave_up_total.labels(cause=cause).inc()
    log.error("gave up checking: %s", reason)
    return GaveUp(reason, cause)
