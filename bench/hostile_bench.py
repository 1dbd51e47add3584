"""Hostile pages: what checking them costs, and what the web server answers while a job checks
one. A benchmark, not a test: it prints numbers and never fails on time.

    .venv/bin/python bench/hostile_bench.py [--sizes 10000,100000,1000000]
                                            [--backends sqlite,postgresql] [--items 10000]

1. Parsing: each page of `hostile_inputs.GENERATORS` (rows 2 and 4 of the hostile-input list)
   at each size goes through `check_page` in a fresh child process (page-size limit lifted, so
   the parser itself is measured): seconds, and peak RSS (`ru_maxrss`) above the child's RSS
   before parsing, with the ratio to the size before (x10 in size should be about x10 in both).
2. Serving: the real `rapidvet serve` (per backend; PostgreSQL on 127.0.0.1:5432 in a database
   made for the run) against the fake GitHub, a pull request whose plan page is `--items` items
   and table rows long (~900 KB at 10 000), checked with RAPIDVET_JOB_SECONDS `--job-seconds`.
   While its job runs (and the review's that follows), /healthz is probed every 20 ms and one
   signed review webhook is sent: /healthz p50/p99/max, and the webhook's answer time.
"""

# ruff: noqa: E402  (the tests' helpers are imported once the repository root is on sys.path)

from __future__ import annotations

import argparse
import gc
import json
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]  # the tests' helpers; the other bench scripts

from check_bench import format_table
from hostile_inputs import GENERATORS
from webhook_bench import BACKENDS, database, payload_body, percentile, postgres_problem

from rapidvet.checks.options import CheckOptions
from rapidvet.checks.page import check_page
from tests.app.web.test_service import post
from tests.hostile.test_jobs import heavy_plan, probe_while_running
from tests.support.e2e import FILES, PLAN_PATH, REPO, app_env, create_handbook, install_app
from tests.support.fake_github import FakeGitHubProcess
from tests.support.service import running_service, signed

SIZES = (10_000, 100_000, 1_000_000)
UNLIMITED = CheckOptions(date(2026, 11, 1), max_page_bytes=1 << 30)


def rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def parse_once(name: str, size: int) -> dict[str, float]:
    """In this (fresh) process: check one page; its seconds and peak RSS growth in MiB. The
    cyclic collector is off, as in rapidvet's checking children (`app/jobs/isolation.py`)."""
    text = GENERATORS[name](size)
    before = rss_mib()
    gc.disable()
    start = time.perf_counter()
    check_page(text, "handbook/page.md", UNLIMITED)
    return {"seconds": time.perf_counter() - start, "rss_mib": rss_mib() - before}


def parse_in_child(name: str, size: int, timeout: float) -> dict[str, float] | None:
    """`parse_once` in a fresh process; None when it ran out of `timeout` (it is killed)."""
    command = [sys.executable, __file__, "--one", name, str(size)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, check=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None
    result: dict[str, float] = json.loads(done.stdout)
    return result


def parse_rows(sizes: Sequence[int], timeout: float) -> list[list[str]]:
    """A row per page and size; a page that runs out of `timeout` is not tried larger."""
    rows = [["page", "bytes", "seconds", "x time", "peak RSS MiB", "x memory"]]
    for name in GENERATORS:
        last: dict[str, float] | None = None
        for size in sizes:
            now = parse_in_child(name, size, timeout)
            if now is None:
                rows.append([name, str(size), f"> {timeout:g}", "", "", ""])
                break
            ratios = ["", ""]
            if last is not None:
                ratios = [
                    f"{now[k] / last[k]:.1f}" if last[k] > 0 else "-"
                    for k in ("seconds", "rss_mib")
                ]
            rows.append(
                [
                    name,
                    str(size),
                    f"{now['seconds']:.4f}",  # a small page checks in under a millisecond
                    ratios[0],
                    f"{now['rss_mib']:.1f}",
                    ratios[1],
                ]
            )
            last = now
    return rows


def serve_row(
    fake: FakeGitHubProcess, env: dict[str, str], backend: str, items: int, tmp: Path
) -> list[str]:
    """One backend: the heavy pull request's job and the answers while it runs."""
    branch = f"heavy-{backend}"
    fake.create_branch(REPO, branch)
    fake.commit(REPO, branch, {PLAN_PATH: heavy_plan(items)}, message="Big", author="author")
    number = fake.open_pull_request(REPO, branch, user="author")["number"]
    opened = payload_body(fake, "pull_request.opened", number=number)
    review = fake.add_review(REPO, number, "lee", "APPROVED")
    approval = payload_body(
        fake, "pull_request_review.submitted", number=number, review_id=review["id"]
    )
    with database(backend, tmp) as url:
        server = running_service(env | {"RAPIDVET_DATABASE_URL": url}, tmp)
        with server as serving:
            status, _ = post(serving.url + "/webhooks", opened, signed(opened, "pull_request"))
            assert status == 202, status
            webhook = (approval, signed(approval, "pull_request_review"))
            probes = probe_while_running(serving.url, url, webhook)
            gave_up = "gave up checking" in serving.logs()
    ms = [s * 1000 for s in probes.healthz]
    return [
        backend,
        str(len(ms)),
        f"{percentile(sorted(ms), 0.5):.1f}",
        f"{percentile(sorted(ms), 0.99):.1f}",
        f"{max(ms):.0f}",
        f"{probes.webhook_seconds * 1000:.1f}",
        str(probes.webhook_status),
        "gave up" if gave_up else "judged",
    ]


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)))
    parser.add_argument("--backends", default=",".join(BACKENDS))
    parser.add_argument("--items", type=int, default=10_000, help="of the heavy plan page")
    parser.add_argument("--job-seconds", default="60", help="RAPIDVET_JOB_SECONDS")
    parser.add_argument("--parse-timeout", type=float, default=30.0, help="seconds per page")
    parser.add_argument("--one", nargs=2, metavar=("PAGE", "SIZE"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.sizes = [int(s) for s in args.sizes.split(",") if s]
    args.backends = [b for b in args.backends.split(",") if b]
    if set(args.backends) - set(BACKENDS):
        parser.error(f"backends: {', '.join(BACKENDS)}")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.one:
        print(json.dumps(parse_once(args.one[0], int(args.one[1]))))
        return 0
    print("check_page per page, each in a fresh process:", flush=True)
    print(format_table(parse_rows(args.sizes, args.parse_timeout)), flush=True)
    backends = list(args.backends)
    if "postgresql" in backends and (problem := postgres_problem()):
        backends.remove("postgresql")
        print(f"skipping PostgreSQL: {problem}")
    rows = [
        ["backend", "probes", "healthz p50 ms", "p99 ms", "max ms", "ack ms", "ack", "job"],
    ]
    with (
        tempfile.TemporaryDirectory(prefix="rapidvet-hostile-bench-") as scratch,
        FakeGitHubProcess("--no-response-validation") as fake,
    ):
        tmp = Path(scratch)
        credentials = install_app(fake)
        create_handbook(fake, REPO, FILES)
        env = app_env(fake, credentials, tmp, RAPIDVET_JOB_SECONDS=args.job_seconds)
        for backend in backends:
            rows.append(serve_row(fake, env, backend, args.items, tmp))
    print(f"\n/healthz and a webhook while a {args.items}-item plan page is checked:")
    print(format_table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
