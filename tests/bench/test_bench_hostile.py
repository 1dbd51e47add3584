"""bench/hostile_bench.py runs: a page parsed in a fresh process, and the served row against
the real `rapidvet serve` on SQLite while a heavy plan page is checked."""

from __future__ import annotations

import pytest

from tests.support.bench_scripts import load_bench_script

bench = load_bench_script("hostile_bench")


def test_parse_rows_cover_every_hostile_page_at_each_size():
    rows = bench.parse_rows([2_000, 4_000], timeout=60)
    assert rows[0][0] == "page"
    assert [(r[0], r[1]) for r in rows[1:]] == [
        (name, size) for name in bench.GENERATORS for size in ("2000", "4000")
    ]
    assert all(float(r[2]) > 0 for r in rows[1:])


@pytest.mark.slow  # two servers' worth of work: ~20 s on a busy machine
def test_serve_row_probes_while_the_job_runs():
    # 4 000 items: a job of ~2 s (93 probes), long enough for 25 before the webhook is sent.
    assert bench.main(["--sizes", "1000", "--backends", "sqlite", "--items", "4000"]) == 0
