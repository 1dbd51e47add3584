"""Webhook ack latency of the real `rapidvet serve`: a benchmark, not a test (it prints numbers
and whether the target is met, and never fails on time).

    .venv/bin/python bench/webhook_bench.py [--rate 200] [--seconds 20] [--closed-seconds 10]
                                            [--backends sqlite,postgresql] [--workers off,on]
                                            [--json OUT]

Everything runs on 127.0.0.1: the fake GitHub as a process (the App installed, a handbook
repository, `--prs` pull requests with one approval each), and for each backend x worker
setting a fresh `rapidvet serve` (SQLite: a temporary file; PostgreSQL: a database created on
127.0.0.1:5432 and dropped afterwards; `--no-worker` when the worker is off). Deliveries are the
fake's `pull_request_review.submitted` payloads for those pull requests, with a counter field
added, signed, each with a new GUID, so every one is stored and (worker on) run against the
fake GitHub.

Per setting, after a warm-up (`pull_request.opened` for every pull request, waited for when the
worker is on, then 100 reviews):

- open loop: `--rate` deliveries/s for `--seconds` s, sent on schedule whatever the answers
  (asyncio + aiohttp, keep-alive); latency runs from the scheduled send to the answer, so a
  server that falls behind shows in it;
- closed loop: `--concurrency` senders, each sending the next delivery once the last is
  answered, for `--closed-seconds` s (at most `--closed-cap` deliveries): sustained
  deliveries/s.

Reported per phase: deliveries sent, answered 202, errors (any other answer, or none within
10 s), latency p50/p99/max in ms, deliveries/s, CPU seconds of the server, this client, the
fake GitHub and the PostgreSQL backends serving the bench's database, CPU others used meanwhile
(the machine is shared), the server's RSS (VmRSS, and VmHWM, its peak since start) from
/proc/PID/status, and the jobs still queued at the end and done during the phase.
"""

# ruff: noqa: E402  (the tests' helpers are imported once the repository root is on sys.path)

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import platform
import signal
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import aiohttp
import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the tests' helpers: the real server, the fake GitHub, PostgreSQL

from check_bench import format_table, machine_busy_seconds, tree_pids, wait_until_quiet

from rapidvet.app.store import JobCounts, open_store
from tests.app.web.test_hostile_webhooks import cpu_seconds, rss_mib
from tests.support.e2e import FILES, PLAN, PLAN_PATH, REPO, app_env, create_handbook, install_app
from tests.support.fake_github import FakeGitHubProcess
from tests.support.postgres import SERVER_URL, with_database
from tests.support.service import Server, running_service, signed

BACKENDS = ("sqlite", "postgresql")
WORKERS = ("off", "on")
TARGET_P99_MS = 50.0
TARGET_RATE = 200.0
ANSWER_TIMEOUT = 10.0  # GitHub gives up on a delivery after 10 s
WARM_UP = 100


@dataclass(frozen=True)
class Sample:
    status: int | None  # None: no answer (error or timeout)
    latency: float  # seconds, from the scheduled (open loop) or actual (closed loop) send
    lag: float  # seconds the client sent late (open loop)


@dataclass
class Phase:
    backend: str
    worker: str
    phase: str
    sent: int = 0
    accepted: int = 0
    errors: int = 0
    seconds: float = 0.0
    p50_ms: float = 0.0
    p90_ms: float = 0.0
    p99_ms: float = 0.0
    max_ms: float = 0.0
    max_lag_ms: float = 0.0
    per_second: float = 0.0
    server_cpu_s: float = 0.0
    client_cpu_s: float = 0.0
    fake_cpu_s: float = 0.0
    db_cpu_s: float = 0.0
    others_cpu_s: float = 0.0
    others_share: float = 0.0  # of all CPUs over the phase
    quiet_before: float = 0.0  # others' share of the CPUs just before the setting started
    rss_mib: float = 0.0
    hwm_mib: float = 0.0
    backlog: int = 0  # jobs queued or running at the end
    jobs_done: int = 0  # jobs finished during the phase
    statuses: dict[str, int] = field(default_factory=dict)


# ------------------------------------------------------------------------------ the world


@dataclass(frozen=True)
class Handbook:
    """The fake GitHub set up for the App: deliveries to send, and the App's environment."""

    fake: FakeGitHubProcess
    env: dict[str, str]
    opened: list[bytes]  # pull_request.opened, one per pull request
    reviews: list[bytes]  # pull_request_review.submitted, one per pull request


def payload_body(fake: FakeGitHubProcess, name: str, **params: Any) -> bytes:
    return json.dumps(fake.webhook(name, repo=REPO, **params)["payload"]).encode()


def handbook(fake: FakeGitHubProcess, tmp: Path, prs: int) -> Handbook:
    """The App installed, the handbook repository and `prs` pull requests editing its plan,
    each approved once; the bodies of their opened and review webhooks."""
    credentials = install_app(fake)
    # The bench measures the App: GitHub's 80 content-creating requests a minute would hold
    # its jobs, not its answers, and the fake models that limit (tested on its own).
    fake.set_secondary_limit(1_000_000)
    create_handbook(fake, REPO, FILES)
    opened, reviews = [], []
    for n in range(prs):
        branch = f"plan-update-{n}"
        fake.create_branch(REPO, branch)
        edited = PLAN.replace("once a year", f"{n + 2} times a year")
        fake.commit(REPO, branch, {PLAN_PATH: edited}, message="Review more", author="author")
        number = fake.open_pull_request(REPO, branch, user="author")["number"]
        review = fake.add_review(REPO, number, "lee", "APPROVED")
        opened.append(payload_body(fake, "pull_request.opened", number=number))
        reviews.append(
            payload_body(
                fake, "pull_request_review.submitted", number=number, review_id=review["id"]
            )
        )
    return Handbook(fake, app_env(fake, credentials, tmp), opened, reviews)


@contextmanager
def database(backend: str, tmp: Path) -> Iterator[str]:
    """A fresh database URL: a SQLite file in `tmp`, or a PostgreSQL database made for the run
    and dropped after it."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp / f'bench-{uuid.uuid4().hex[:8]}.db'}"
        return
    name = f"rapidvet_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(SERVER_URL, autocommit=True, connect_timeout=5) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield with_database(SERVER_URL, name)
    finally:
        with psycopg.connect(SERVER_URL, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


def postgres_problem() -> str | None:
    """Why PostgreSQL rows cannot run, or None."""
    try:
        with psycopg.connect(SERVER_URL, connect_timeout=5):
            return None
    except psycopg.OperationalError as err:
        return f"no PostgreSQL at {SERVER_URL}: {str(err).strip()[:200]}"


# -------------------------------------------------------------------------------- sending


class Deliveries:
    """Review deliveries round-robin over the pull requests, each with a new GUID and a body
    of its own (a counter field): the same signed body again would be a replay, not stored."""

    def __init__(self, bodies: list[bytes], event: str) -> None:
        self.bodies, self.event, self.count = bodies, event, 0

    def next(self) -> tuple[bytes, dict[str, str]]:
        base = self.bodies[self.count % len(self.bodies)]
        body = base[:-1] + b', "x_bench": %d}' % self.count  # `base` is a JSON object
        self.count += 1
        return body, signed(body, self.event)


async def post(session: aiohttp.ClientSession, url: str, deliveries: Deliveries) -> int | None:
    body, headers = deliveries.next()
    try:
        async with session.post(url, data=body, headers=headers) as answer:
            await answer.read()
            return answer.status
    except (aiohttp.ClientError, TimeoutError):
        return None


def session() -> aiohttp.ClientSession:
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=256),
        timeout=aiohttp.ClientTimeout(total=ANSWER_TIMEOUT),
    )


async def open_loop(url: str, deliveries: Deliveries, rate: float, seconds: float) -> list[Sample]:
    """`rate` deliveries a second for `seconds`, each sent on schedule."""
    loop = asyncio.get_running_loop()
    samples: list[Sample] = []

    async def one(at: float) -> None:
        sent = loop.time()
        status = await post(client, url, deliveries)
        samples.append(Sample(status, loop.time() - at, sent - at))

    async with session() as client:
        start = loop.time() + 0.05
        tasks = []
        for i in range(int(rate * seconds)):
            at = start + i / rate
            await asyncio.sleep(at - loop.time())
            tasks.append(asyncio.create_task(one(at)))
        await asyncio.gather(*tasks)
    return samples


async def closed_loop(
    url: str, deliveries: Deliveries, concurrency: int, seconds: float, cap: int
) -> tuple[list[Sample], float]:
    """`concurrency` senders back to back for `seconds` (at most `cap` deliveries); the
    samples and the seconds it took."""
    loop = asyncio.get_running_loop()
    samples: list[Sample] = []
    start = loop.time()
    deadline = start + seconds

    async def sender() -> None:
        while loop.time() < deadline and deliveries.count < cap:
            sent = loop.time()
            status = await post(client, url, deliveries)
            samples.append(Sample(status, loop.time() - sent, 0.0))

    async with session() as client:
        await asyncio.gather(*(sender() for _ in range(concurrency)))
    return samples, loop.time() - start


# ----------------------------------------------------------------------------- measuring


def descendants() -> list[int]:
    """The processes this bench started (the fake GitHub and the server), not itself."""
    return [pid for pid in tree_pids(os.getpid()) if pid != os.getpid()]


def database_pids(url: str) -> list[int]:
    """The PostgreSQL backends connected to the bench's database (none for SQLite)."""
    if not url.startswith("postgresql://"):
        return []
    name = url.rsplit("/", 1)[1].split("?")[0]
    with psycopg.connect(SERVER_URL, autocommit=True) as conn:
        rows = conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", (name,))
        return [int(pid) for (pid,) in rows.fetchall()]


def readable_cpu(pid: int) -> float:
    try:
        return cpu_seconds(pid)
    except OSError:  # gone, or not ours to read
        return 0.0


@dataclass
class CpuMeter:
    """CPU seconds used between `start` and `stop`: by the server, this client, the fake, the
    database's backends, and everything else on the machine."""

    server: int
    url: str
    readings: dict[str, float] = field(default_factory=dict)

    def read(self) -> dict[str, float]:
        others = [pid for pid in descendants() if pid != self.server]
        db = {pid: readable_cpu(pid) for pid in database_pids(self.url)}
        return {
            "machine": machine_busy_seconds(),
            "client": time.process_time(),
            "server": readable_cpu(self.server),
            "fake": sum(readable_cpu(pid) for pid in others),
            **{f"db:{pid}": cpu for pid, cpu in db.items()},
        }

    def start(self) -> None:
        self.readings = self.read()

    def stop(self, phase: Phase, seconds: float) -> None:
        now = self.read()
        used = {k: now[k] - self.readings.get(k, 0.0) for k in ("client", "server", "fake")}
        db = sum(v - self.readings.get(k, 0.0) for k, v in now.items() if k.startswith("db:"))
        busy = now["machine"] - self.readings["machine"]
        phase.server_cpu_s, phase.client_cpu_s = used["server"], used["client"]
        phase.fake_cpu_s, phase.db_cpu_s = used["fake"], db
        phase.others_cpu_s = max(0.0, busy - sum(used.values()) - db)
        phase.others_share = phase.others_cpu_s / (seconds * (os.cpu_count() or 1))


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile of sorted `values`."""
    return values[max(0, math.ceil(q * len(values)) - 1)] if values else 0.0


def summarize(phase: Phase, samples: list[Sample], seconds: float) -> None:
    latencies = sorted(s.latency * 1000 for s in samples)
    phase.sent = len(samples)
    phase.accepted = sum(1 for s in samples if s.status == 202)
    phase.errors = phase.sent - phase.accepted
    phase.seconds = seconds
    phase.p50_ms, phase.p90_ms = percentile(latencies, 0.5), percentile(latencies, 0.9)
    phase.p99_ms, phase.max_ms = percentile(latencies, 0.99), latencies[-1] if latencies else 0
    phase.max_lag_ms = max((s.lag * 1000 for s in samples), default=0.0)
    phase.per_second = phase.accepted / seconds if seconds else 0.0
    statuses: dict[str, int] = {}
    for s in samples:
        statuses[str(s.status)] = statuses.get(str(s.status), 0) + 1
    phase.statuses = statuses


def job_counts(url: str) -> JobCounts:
    store = open_store(url)
    try:
        return store.job_counts()
    finally:
        store.close()


def settle(url: str, timeout: float) -> bool:
    """Wait (up to `timeout` s) until no job is queued or running."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        counts = job_counts(url)
        if counts.queued + counts.running == 0:
            return True
        time.sleep(0.2)
    return False


# ------------------------------------------------------------------------------- running


@dataclass(frozen=True)
class Plan:
    rate: float
    seconds: float
    closed_seconds: float
    closed_cap: int
    concurrency: int
    idle_wait: float
    idle_threshold: float
    settle_wait: float


Run = Callable[[], tuple[list[Sample], float]]  # a phase: its samples and the seconds it took


def measured(name: str, server: Server, url: str, setting: tuple[str, str], run: Run) -> Phase:
    """Run one phase and measure it."""
    phase = Phase(*setting, name)
    meter = CpuMeter(server.process.pid, url)
    done_before = job_counts(url).done
    meter.start()
    samples, seconds = run()
    meter.stop(phase, seconds)
    summarize(phase, samples, seconds)
    counts = job_counts(url)
    phase.backlog, phase.jobs_done = counts.queued + counts.running, counts.done - done_before
    memory = rss_mib(server.process.pid)
    phase.rss_mib, phase.hwm_mib = memory["VmRSS"], memory["VmHWM"]
    print(
        f"  {'/'.join(setting)} {name}: {phase.accepted}/{phase.sent} accepted,"
        f" p50 {phase.p50_ms:.1f} ms, p99 {phase.p99_ms:.1f} ms, {phase.per_second:.0f}/s,"
        f" others used {phase.others_share:.0%} of the CPUs",
        flush=True,
    )
    return phase


def open_phase(url: str, deliveries: Deliveries, plan: Plan) -> tuple[list[Sample], float]:
    start = time.perf_counter()
    samples = asyncio.run(open_loop(url, deliveries, plan.rate, plan.seconds))
    return samples, time.perf_counter() - start


def closed_phase(url: str, deliveries: Deliveries, plan: Plan) -> tuple[list[Sample], float]:
    cap = deliveries.count + plan.closed_cap
    return asyncio.run(closed_loop(url, deliveries, plan.concurrency, plan.closed_seconds, cap))


def setting_phases(
    world: Handbook, backend: str, worker: str, plan: Plan, tmp: Path
) -> list[Phase]:
    """One backend x worker setting: a fresh database and server, warm-up, both phases."""
    # Waiting between the phases would wait for this setting's own worker, busy with the
    # first phase's backlog: wait once, before the server starts.
    quiet = wait_until_quiet(plan.idle_wait, plan.idle_threshold)
    with database(backend, tmp) as url:
        env = world.env | {"RAPIDVET_DATABASE_URL": url}
        flags = () if worker == "on" else ("--no-worker",)
        with running_service(env, tmp, *flags) as server:
            endpoint = server.url + "/webhooks"
            warm = Deliveries(world.opened, "pull_request")
            asyncio.run(closed_loop(endpoint, warm, 1, 60, len(world.opened)))
            if worker == "on" and not settle(url, plan.settle_wait):
                print(f"  the opened deliveries were still running after {plan.settle_wait} s")
            reviews = Deliveries(world.reviews, "pull_request_review")
            asyncio.run(closed_loop(endpoint, reviews, 4, 60, WARM_UP))
            phases = [
                measured(
                    name, server, url, (backend, worker), partial(run, endpoint, reviews, plan)
                )
                for name, run in (("open loop", open_phase), ("closed loop", closed_phase))
            ]
    for phase in phases:
        phase.quiet_before = quiet
    return phases


def table_rows(phases: list[Phase]) -> list[list[str]]:
    rows = [
        [
            "backend",
            "worker",
            "phase",
            "sent",
            "errors",
            "p50 ms",
            "p99 ms",
            "max ms",
            "deliv/s",
            "server cpu s",
            "cpu ms/deliv",
            "client cpu s",
            "fake+db cpu s",
            "others cpu %",
            "RSS MiB",
            "HWM MiB",
            "backlog",
            "jobs done",
        ]
    ]
    for p in phases:
        rows.append(
            [
                p.backend,
                p.worker,
                p.phase,
                str(p.sent),
                str(p.errors),
                f"{p.p50_ms:.1f}",
                f"{p.p99_ms:.1f}",
                f"{p.max_ms:.0f}",
                f"{p.per_second:.0f}",
                f"{p.server_cpu_s:.1f}",
                f"{p.server_cpu_s * 1000 / max(1, p.accepted):.2f}",
                f"{p.client_cpu_s:.1f}",
                f"{p.fake_cpu_s + p.db_cpu_s:.1f}",
                f"{p.others_share:.0%}",
                f"{p.rss_mib:.0f}",
                f"{p.hwm_mib:.0f}",
                str(p.backlog),
                str(p.jobs_done),
            ]
        )
    return rows


def verdicts(phases: list[Phase], rate: float) -> list[str]:
    """The target, judged on every open-loop phase at the target rate or above."""
    lines = []
    for p in phases:
        if p.phase == "open loop" and rate >= TARGET_RATE:
            met = p.p99_ms < TARGET_P99_MS and p.errors == 0
            lines.append(
                f"{p.backend}, worker {p.worker}: ack p99 {p.p99_ms:.1f} ms at {rate:.0f}/s"
                f" (target < {TARGET_P99_MS:.0f} ms: {'met' if met else 'NOT met'})"
            )
    return lines


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--rate", type=float, default=TARGET_RATE, help="open loop: deliveries/s")
    parser.add_argument("--seconds", type=float, default=20.0, help="open loop: duration")
    parser.add_argument("--closed-seconds", type=float, default=10.0)
    parser.add_argument("--closed-cap", type=int, default=20_000, help="closed loop: at most")
    parser.add_argument("--concurrency", type=int, default=16, help="closed loop: senders")
    parser.add_argument("--prs", type=int, default=5, help="pull requests the reviews are on")
    parser.add_argument("--backends", default=",".join(BACKENDS))
    parser.add_argument("--workers", default=",".join(WORKERS))
    parser.add_argument("--settle-wait", type=float, default=60.0)
    parser.add_argument(
        "--idle-wait",
        type=float,
        default=30.0,
        help="before each phase, wait up to this many seconds for other processes to go quiet",
    )
    parser.add_argument("--idle-threshold", type=float, default=0.10)
    parser.add_argument("--json", type=Path, help="also save the results here")
    args = parser.parse_args(argv)
    args.backends = [b for b in args.backends.split(",") if b]
    args.workers = [w for w in args.workers.split(",") if w]
    if set(args.backends) - set(BACKENDS) or set(args.workers) - set(WORKERS):
        parser.error(f"backends: {', '.join(BACKENDS)}; workers: {', '.join(WORKERS)}")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    # SIGTERM ends the run through the cleanups: server, fake GitHub, PostgreSQL database.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    plan = Plan(
        args.rate,
        args.seconds,
        args.closed_seconds,
        args.closed_cap,
        args.concurrency,
        args.idle_wait,
        args.idle_threshold,
        args.settle_wait,
    )
    skipped: dict[str, str] = {}
    if "postgresql" in args.backends and (problem := postgres_problem()):
        skipped["postgresql"] = problem
        print(f"skipping PostgreSQL: {problem}")
    phases: list[Phase] = []
    with (
        tempfile.TemporaryDirectory(prefix="rapidvet-webhook-bench-") as scratch,
        FakeGitHubProcess("--no-response-validation") as fake,
    ):
        tmp = Path(scratch)
        world = handbook(fake, tmp, args.prs)
        for backend in [b for b in args.backends if b not in skipped]:
            for worker in args.workers:
                print(f"{backend}, worker {worker} ...", flush=True)
                phases += setting_phases(world, backend, worker, plan, tmp)
    print()
    print(format_table(table_rows(phases)))
    print()
    print("\n".join(verdicts(phases, args.rate)))
    if args.json:
        saved = {
            "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
            "arguments": {
                k: v if not isinstance(v, Path) else str(v) for k, v in vars(args).items()
            },
            "skipped": skipped,
            "phases": [asdict(p) for p in phases],
        }
        args.json.write_text(json.dumps(saved, indent=1) + "\n", encoding="utf-8")
        print(f"saved {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
