"""Checking a hostile page costs time linear in its size: twice the page, at most 2.5 times
the CPU time (a quadratic step shows 4, a cubic one 8). Best of three, in CPU seconds of this
process, so other work on a shared machine does not count."""

from __future__ import annotations

import time
from datetime import date

import pytest

from rapidvet.checks.options import CheckOptions
from rapidvet.checks.page import check_page
from tests.bench_scripts import load_bench_script

RATIO = 2.5
OPTIONS = CheckOptions(today=date(2020, 6, 1))
HOSTILE = load_bench_script("hostile_inputs")
SIZES = {
    "td-table": 200_000,
    "bracket-heading": 200_000,
    "big-table": 100_000,
    "nested-lists": 100_000,
}


def cpu_seconds(text: str) -> float:
    times = []
    for _ in range(3):
        start = time.process_time()
        check_page(text, "ops.md", OPTIONS)
        times.append(time.process_time() - start)
    return min(times)


@pytest.mark.parametrize("name", sorted(HOSTILE.GENERATORS))
def test_check_page_is_linear_on_hostile_pages(name: str) -> None:
    make, size = HOSTILE.GENERATORS[name], SIZES[name]
    small, large = cpu_seconds(make(size)), cpu_seconds(make(2 * size))
    assert large <= RATIO * max(small, 0.005), (small, large)
