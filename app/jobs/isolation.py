"""Checking untrusted content in child processes, with a ceiling on each job's time and memory.

A pull request's pages, and the handbook's on a push, are parsed and judged by `checks/` and
`workflows/` in a small pool of child processes, never in the web server's: however long the
worst page takes, the server goes on answering. Each checking call may add at most the job
memory limit to its child's address space, and each job may keep the children busy at most its
time budget, counted over all its checking calls; past either, the job gives up (`GaveUp`).

The memory limit (RLIMIT_AS) is set only around the call, on top of what the child holds as
the call starts, and lifted before anything else runs there: a child starting up or sending a
result is never starved. That matters: on CPython 3.11, unwinding an exception through a
`finally` or `with` may need a new int, and when even that allocation fails the interpreter
retries for ever at full CPU (python/cpython#132508); a child starved in pebble's plumbing spun
so until the time budget killed it, and the job blamed time. A MemoryError in the call is caught
at its top, which frees what the call held, so the job gives up for memory at once; should the
call's own code spin like that, the time budget still ends it.

A child serves CALLS_PER_CHILD calls and exits; what a call leaves is freed when it returns
(the cyclic collector is off during the call, and parsing makes no cycles). The pool is made
once per worker, and replaced when a child dies under it; its children come from a fork server,
a clean process started for the purpose, so none inherits the threads or event loop of the
service.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import multiprocessing
import os
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
# A child serves this many calls, then a fresh one takes its place. One call a child cost each
# job ~50 ms of process start per call: 3 jobs a second where the worker's thread did 36. The
# memory ceiling is counted from each call's start, so a reused child's own size never counts.
CALLS_PER_CHILD = 50
QUEUE_GRACE = 5.0  # seconds, see `checked`
# Imported once in the fork server, so a new child starts without importing.
PRELOAD = ["rapidvet.app.pulls.evaluation", "rapidvet.app.handbook.reading"]


class GaveUp(Exception):
    """The job's checking was stopped; `reason` says why in words for the pull request."""

    def __init__(self, reason: str, cause: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.cause = cause  # timeout | memory | crashed: the metric's label


@dataclass(frozen=True)
class Limits:
    seconds: float  # of checking per job, wall clock
    memory_mb: int  # a checking call may add to its child's address space


def _address_space() -> int:
    """This process's address space (VmSize) in bytes."""
    with open("/proc/self/statm", encoding="ascii") as statm:
        return int(statm.read().split()[0]) * resource.getpagesize()


def _limited(function: Callable[..., T], args: tuple[Any, ...], memory_mb: int) -> tuple[float, T]:
    """In the child: the call's result and the seconds it took there (not queued), the call
    allowed `memory_mb` more address space than the child holds as it begins."""
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    resource.setrlimit(resource.RLIMIT_AS, (_address_space() + memory_mb * 1024 * 1024, hard))
    # Parsing makes no reference cycles, so what the call leaves is freed as it returns: the
    # cyclic collector would only re-walk the growing token lists, which made a 1 MB table
    # cost 2.5 s instead of 1.1 s, and grow faster than the page.
    gc.disable()
    start = time.perf_counter()
    try:
        result = function(*args)
        return time.perf_counter() - start, result
    except MemoryError:
        pass  # leaving the handler drops the call's frames, and all they held, before the raise
    finally:
        gc.enable()
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
    raise MemoryError(f"the call needed more than {memory_mb} MB")


def _started_pool() -> ProcessPool:
    """CHILDREN children from the fork server, started now rather than on the first job; each
    runs CALLS_PER_CHILD calls and exits, and a new one takes its place at once."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(PRELOAD)
    pool = ProcessPool(max_workers=CHILDREN, max_tasks=CALLS_PER_CHILD, context=context)
    pool.schedule(os.getpid)
    return pool


class CheckPool:
    """The child processes of one worker; `job()` gives each job its budget."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self._pool = _started_pool()

    def close(self) -> None:
        """Kill whatever still runs (its job is being cancelled) and reap the children."""
        self._pool.stop()  # type: ignore[no-untyped-call]  # pebble leaves it unannotated
        self._pool.join()

    @property
    def broken(self) -> bool:
        """pebble refuses every task once a child died while none ran (killed from outside,
        or failing to start); `run` then starts a new pool."""
        return not self._pool.active

    def run(
        self, function: Callable[..., T], args: tuple[Any, ...], timeout: float
    ) -> asyncio.Future[tuple[float, T]]:
        """Cancelling the returned future kills the child running it."""
        if self.broken:  # without a new pool, no job would be checked again
            log.warning("the checking processes' pool broke; starting a new one")
            self.close()
            self._pool = _started_pool()
        task = (function, args, self.limits.memory_mb)
        return asyncio.wrap_future(self._pool.schedule(_limited, task, timeout=timeout))

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
        # pebble's timeout counts from when a child takes the task; a task no child takes would
        # wait for ever. Queued behind the other jobs (at most one budget with the worker's 4
        # jobs on 2 children), it has this long in all. A pool that broke under the call
        # (BrokenProcessPool) fails the job, to be tried again with a new pool.
        waited = budget.left + limits.seconds + QUEUE_GRACE
        spent, result = await asyncio.wait_for(budget.pool.run(function, args, budget.left), waited)
    except TimeoutError:
        budget.left = 0
        raise _gave_up(f"checking took longer than {limits.seconds:g} s", "timeout") from None
    except MemoryError:
        raise _gave_up(f"checking needed more than {limits.memory_mb} MB", "memory") from None
    except ProcessExpired as err:
        reason = f"the checking process stopped (exit code {err.exitcode})"
        raise _gave_up(reason, "crashed") from None
    budget.left -= spent
    if budget.left < 0:  # pebble looks at its timeouts every tenth of a second or so
        raise _gave_up(f"checking took longer than {limits.seconds:g} s", "timeout")
    return result


def _gave_up(reason: str, cause: str) -> GaveUp:
    """Logged (with the job's delivery, bound by the job runner) and counted where it happens."""
    metrics.checks_gave_up_total.labels(cause=cause).inc()
    log.error("gave up checking: %s", reason)
    return GaveUp(reason, cause)
