"""Work spread over the machine's cores: forked helpers and this process take the next chunk
from one pipe of tickets, so the process that started no helper of its own works too and only
the helpers' results are pickled (a process pool idles its parent and pickles every result)."""

from __future__ import annotations

import os
import pickle
import signal
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

Chunk = TypeVar("Chunk")
Result = TypeVar("Result")

TICKET = 4  # bytes: a chunk's index, little-endian
# Tickets are written before any helper starts, so all of them must fit in the pipe's buffer
# (16 KiB on the smallest systems) or the write would wait for a reader that does not exist.
MOST_CHUNKS = 16_384 // TICKET


class HelperLost(RuntimeError):
    """A helper process ended without sending its results (killed, or out of memory)."""


def spread(work: Callable[[Chunk], Result], chunks: Sequence[Chunk], helpers: int) -> list[Result]:
    """`work(chunk)` for every chunk, in the chunks' order, on this process and `helpers`
    forked ones. An exception raised by `work` is raised here: the one of the earliest chunk,
    as one process working through the chunks in order would raise it."""
    if helpers < 1 or len(chunks) < 2 or not hasattr(os, "fork"):
        return [work(chunk) for chunk in chunks]
    if len(chunks) > MOST_CHUNKS:
        raise ValueError(f"at most {MOST_CHUNKS} chunks, not {len(chunks)}")
    tickets, write_end = os.pipe()
    os.write(write_end, b"".join(i.to_bytes(TICKET, "little") for i in range(len(chunks))))
    os.close(write_end)  # a helper that finds the pipe empty reads end-of-file, not a wait
    started: dict[int, int] = {}  # pid: the read end of its results pipe
    try:
        for _ in range(min(helpers, len(chunks) - 1)):
            pid, results = _start_helper(work, chunks, tickets)
            started[pid] = results
        done, failed = _take(work, chunks, tickets)
        while started:
            pid, results = started.popitem()
            theirs: tuple[dict[int, Result], dict[int, Exception]] = _received(pid, results)
            done.update(theirs[0])
            failed.update(theirs[1])
    finally:
        os.close(tickets)
        for pid, results in started.items():  # only when this process raised
            os.close(results)
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
    if failed:
        # Every earlier chunk was taken before it, and so done: one process would raise this.
        raise failed[min(failed)]
    return [done[index] for index in range(len(chunks))]


def _take(
    work: Callable[[Chunk], Result], chunks: Sequence[Chunk], tickets: int
) -> tuple[dict[int, Result], dict[int, Exception]]:
    """Results of the chunks this process takes tickets for until none is left, and the
    exceptions of those whose work raised one."""
    done: dict[int, Result] = {}
    failed: dict[int, Exception] = {}
    # A read of a few bytes from a pipe is atomic, so no two processes get the same ticket.
    while ticket := os.read(tickets, TICKET):
        index = int.from_bytes(ticket, "little")
        try:
            done[index] = work(chunks[index])
        except Exception as err:  # raised by the caller, in chunk order
            failed[index] = err
    return done, failed


def _start_helper(
    work: Callable[[Chunk], Result], chunks: Sequence[Chunk], tickets: int
) -> tuple[int, int]:
    results, write_end = os.pipe()
    pid = os.fork()
    if pid:
        os.close(write_end)
        return pid, results
    # The helper: never returns into the caller's code, and leaves without running exit
    # handlers or flushing buffers that are copies of the parent's.
    status = 1
    try:
        os.close(results)
        payload = _payload(*_take(work, chunks, tickets))
        with os.fdopen(write_end, "wb") as out:
            out.write(payload)
        status = 0
    finally:
        os._exit(status)


def _payload(done: dict[int, Result], failed: dict[int, Exception]) -> bytes:
    try:
        return pickle.dumps((done, failed), pickle.HIGHEST_PROTOCOL)
    except Exception:  # an exception that cannot be pickled: sent as text
        described = {i: RuntimeError(f"{type(e).__name__}: {e}") for i, e in failed.items()}
        return pickle.dumps((done, described), pickle.HIGHEST_PROTOCOL)


def _received(pid: int, results: int) -> tuple[dict[int, Any], dict[int, Exception]]:
    with os.fdopen(results, "rb") as source:
        payload = source.read()
    _, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    if code != 0 or not payload:
        ended = f"was killed by signal {-code}" if code < 0 else f"exited with status {code}"
        raise HelperLost(f"a helper process {ended} before sending its results")
    received: tuple[dict[int, Any], dict[int, Exception]] = pickle.loads(payload)
    return received
