"""`spread` runs work on forked helpers and the calling process, and answers as one process
working through the chunks in order would: the same results in the same order, the same
exception, and a clear error where a helper dies."""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest

from rapidvet.app.checkout.cores import MOST_CHUNKS, HelperLost, spread

CHUNKS = [list(range(n, n + 5)) for n in range(0, 200, 5)]


def slowly(chunk: list[int]) -> int:
    """The chunk's sum, after long enough that every process gets chunks to work on."""
    time.sleep(0.002)
    return sum(chunk)


def square_sums(chunk: list[int]) -> tuple[int, int]:
    time.sleep(0.002)
    return sum(x * x for x in chunk), os.getpid()


def test_results_come_back_in_the_chunks_order_from_every_process() -> None:
    done = spread(square_sums, CHUNKS, 2)
    assert [total for total, _ in done] == [sum(x * x for x in c) for c in CHUNKS]
    # With 40 chunks of equal work, the caller and at least one helper each took some.
    workers = {pid for _, pid in done}
    assert os.getpid() in workers and len(workers) >= 2


def test_no_helper_for_a_single_chunk_or_none_asked() -> None:
    assert {pid for _, pid in spread(square_sums, CHUNKS[:1], 3)} == {os.getpid()}
    assert {pid for _, pid in spread(square_sums, CHUNKS, 0)} == {os.getpid()}
    assert spread(square_sums, [], 2) == []


class Broken(Exception):
    pass


def broken_at(index: int) -> object:
    def work(chunk: list[int]) -> int:
        if chunk[0] == CHUNKS[index][0]:
            raise Broken(f"chunk {index}")
        if chunk[0] > CHUNKS[index][0]:
            raise ValueError("a later chunk")
        return slowly(chunk)

    return work


@pytest.mark.parametrize("index", [0, 7, len(CHUNKS) - 1])
def test_the_earliest_chunks_exception_is_raised_as_one_process_would(index: int) -> None:
    with pytest.raises(Broken, match=f"chunk {index}$"):
        spread(broken_at(index), CHUNKS, 2)  # type: ignore[arg-type]


class Unpicklable(Exception):
    def __init__(self) -> None:
        super().__init__("held a lock")
        self.lock = threading.Lock()


def test_an_exception_that_cannot_cross_processes_arrives_as_text() -> None:
    def work(chunk: list[int]) -> int:
        if os.getpid() != caller:
            raise Unpicklable
        return slowly(chunk)

    caller = os.getpid()
    with pytest.raises((RuntimeError, Unpicklable), match="held a lock"):
        spread(work, CHUNKS, 1)


def test_a_helper_killed_mid_work_is_an_error_not_lost_pages() -> None:
    def work(chunk: list[int]) -> int:
        if os.getpid() != caller:
            os.kill(os.getpid(), signal.SIGKILL)
        return slowly(chunk)

    caller = os.getpid()
    with pytest.raises(HelperLost, match="killed by signal 9"):
        spread(work, CHUNKS, 1)


def test_helpers_are_reaped_when_the_caller_fails() -> None:
    def work(chunk: list[int]) -> int:
        if os.getpid() == caller:
            raise KeyboardInterrupt
        return slowly(chunk)

    caller = os.getpid()
    with pytest.raises(KeyboardInterrupt):
        spread(work, CHUNKS, 2)
    with pytest.raises(ChildProcessError):
        os.waitpid(-1, os.WNOHANG)  # no child left behind, running or unreaped


def test_tickets_fit_the_pipe() -> None:
    with pytest.raises(ValueError, match=f"at most {MOST_CHUNKS} chunks"):
        spread(sum, [[1]] * (MOST_CHUNKS + 1), 1)
