"""Dashboard render time from a stored snapshot: a benchmark, not a test (it prints, never fails).

```sh
.venv/bin/python bench/dashboard_bench.py                 # 10 000 pages, 1 000 measure points
.venv/bin/python bench/dashboard_bench.py --pages 50000 --runs 5
```

It stores a synthetic snapshot (every page holds a plan, one in twenty a placeholder as well,
a tenth of the pages left out of the table of contents) in a SQLite store, then times what the
dashboard handler does per request: read the snapshot and its measure history from the store,
decode them and build the view model (`dashboard_view.dashboard`, sorted by age, with the SVG
chart). The target is under 200 ms for 10 000 pages.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from rapidvet.app.handbook import snapshots
from rapidvet.app.handbook.snapshots import (
    MeasurePoint,
    PlaceholderRow,
    PlanRow,
    Snapshot,
    TocRecord,
)
from rapidvet.app.store.records import SNAPSHOT
from rapidvet.app.store.sqlite import SqliteStore
from rapidvet.app.web.pages import dashboard_view

REPO = "acme/handbook"
TODAY = date(2026, 11, 23)


def synthetic_snapshot(pages: int = 10_000, seed: int = 7) -> Snapshot:
    rng = random.Random(seed)
    paths = [f"team-{n // 100:03d}/page-{n:05d}.md" for n in range(pages)]
    plans = tuple(
        PlanRow(
            path=path,
            line=3,
            end_line=40,
            title=f"FY27 Team {n} VPMOM",
            kind="VPMOM",
            period="Feb 1, 2026 to Jan 31, 2027",
            rapid=f"@lead{n % 50}(D), @team{n % 7}(R, A)",
            vetted=None if n % 13 == 0 else str(TODAY - timedelta(days=rng.randrange(800))),
            decider=f"@lead{n % 50}",
        )
        for n, path in enumerate(paths)
    )
    placeholders = tuple(
        PlaceholderRow(path, 50, f"FY28 Team {n} VPMOM (TBA)", "(TBA)")
        for n, path in enumerate(paths)
        if n % 20 == 0
    )
    listed = frozenset(path for n, path in enumerate(paths) if n % 10)
    return Snapshot(
        repo=REPO,
        branch="main",
        commit="c" * 40,
        read_at=datetime(2026, 11, 23, 8, tzinfo=UTC),
        config=None,
        kinds="0" * 16,
        stale_after_days=365,
        toc=TocRecord(None, "0" * 16, listed),
        files={path: f"{n:040x}" for n, path in enumerate(paths)},
        plans=plans,
        placeholders=placeholders,
        unlisted=tuple(path for path in paths if path not in listed),
        truncated=False,
    )


def synthetic_history(points: int = 1000) -> list[MeasurePoint]:
    start = datetime(2024, 1, 1, tzinfo=UTC)
    return [
        MeasurePoint(start + timedelta(days=n), f"{n:040x}", 50 + (n % 40), 10_000, 5000, ())
        for n in range(points)
    ]


def store_world(store: SqliteStore, pages: int, points: int) -> int:
    """Store the snapshot and history; the snapshot record's size in bytes."""
    raw = synthetic_snapshot(pages).to_json()
    SNAPSHOT.put(store, REPO, raw)
    for point in synthetic_history(points):
        snapshots.add_point(store, REPO, point)
    return len(raw.encode())


def render(store: SqliteStore) -> dict[str, object]:
    """What GET /{owner}/{repo} does before templating."""
    return dashboard_view.dashboard(
        REPO,
        snapshots.load(store, REPO),
        snapshots.history(store, REPO),
        TODAY,
        sort="-age",
        web_url="https://github.com",
    )


def time_render(store: SqliteStore, runs: int, *, cold: bool) -> tuple[list[float], list[float]]:
    """Wall and CPU milliseconds per render, `runs` times. CPU time is the steadier number
    on a busy machine, where other processes stretch the wall time. `cold`: each time as the
    first view after a push, with the record decoded and its measures worked out anew."""
    wall, cpu = [], []
    for _ in range(runs):
        if cold:
            snapshots._decoded.cache_clear()
        started, started_cpu = time.perf_counter(), time.process_time()
        render(store)
        wall.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
    return wall, cpu


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--pages", type=int, default=10_000)
    parser.add_argument("--points", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        store = SqliteStore(str(Path(folder) / "bench.db"))
        store.migrate()
        size = store_world(store, args.pages, args.points)
        timings = {
            "first view after a push": time_render(store, args.runs, cold=True),
            "later views": time_render(store, args.runs, cold=False),
        }
        store.close()
    print(
        f"dashboard of {args.pages} pages, {args.points} measure points "
        f"(snapshot record {size / 1e6:.1f} MB), {args.runs} runs each (target < 200 ms):"
    )
    for name, (wall, cpu) in timings.items():
        print(
            f"  {name}: wall best {min(wall):.0f} ms, median {statistics.median(wall):.0f} ms;"
            f" cpu best {min(cpu):.0f} ms, median {statistics.median(cpu):.0f} ms"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
