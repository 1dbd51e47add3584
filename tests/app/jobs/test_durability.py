"""Durability (docs/architecture.md#durability), proven against the fake GitHub and the real
rapidvet processes.

- Crash: deliveries sent while rapidvet processes are SIGKILLed at random moments and started
  again. Afterwards every delivery answered 2xx was processed, and no check run, merge record
  commit or decision comment exists twice. SQLite (one `rapidvet serve`) and PostgreSQL
  (`serve --no-worker` and two `rapidvet worker`s).
- Concurrency: two workers on PostgreSQL end where one worker ends.
- Faults: GitHub answers 5xx, 429 with Retry-After, secondary-limit 403, slowly, or drops the
  connection, for a share of calls; all work completes once the faults stop.

Every scenario is scripted so that each pull request's last head has a known RAPID conclusion,
and the approved ones are merged. The default run kills the server in each window between a
GitHub write and its record, and rides out faults on a few pull requests; the full proofs
(1 000 deliveries and 20 kills per backend, 50 pull requests, faults on two workers) are slow.
"""

from __future__ import annotations

import random
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, ExitStack, contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.support.e2e import REPO, app_env, create_handbook, install_app
from tests.support.traffic import (
    Fleet,
    Scenario,
    Sender,
    Step,
    Traffic,
    check_runs_per_head,
    expected_state,
    handbook_files,
    job_states,
    kill_repeatedly,
    lift_rate_limits,
    play,
    pull_states,
    ref_updates,
    rerun_jobs,
    scenario,
    settle,
    wait_idle,
)

pytest_plugins = ("tests.support.postgres",)

# Generous: kills and faults may cost a job some tries, never its life.
MAX_ATTEMPTS = "25"
# Each fault on its share of the calls that reach it (the first that fires wins).
FAULTS: tuple[dict[str, Any], ...] = (
    {"status": 502},
    {"status": 429, "retry_after": 1},
    {"status": 403, "retry_after": 1},  # with Retry-After the fake says "secondary rate limit"
    {"delay": 0.5},  # slow, well inside the App's 30 s timeout
    {"drop": True},  # aiohttp retries a dropped kept-alive connection once: keep firing
)


@dataclass
class Run:
    """One scenario played against one fleet of rapidvet processes."""

    traffic: Traffic
    sender: Sender
    kills: Counter[str]
    restarts: list[float]  # seconds each restart took
    seconds: float
    reruns: int  # jobs tried more than once
    errors: list[str]  # error lines of every process's log

    def summary(self, backend: str) -> str:
        return (
            f"{backend}: {self.sender.sent} deliveries sent, {len(self.sender.accepted)} GUIDs"
            f" accepted, answers {dict(self.sender.statuses)}, {self.sender.unanswered} tries"
            f" unanswered, kills {dict(self.kills)} (restarts took {self.restart_seconds()}),"
            f" {self.reruns} jobs tried again,"
            f" {self.seconds:.1f}s"
        )

    def restart_seconds(self) -> str:
        if not self.restarts:
            return "-"
        return f"{sum(self.restarts) / len(self.restarts):.2f}s on average"


def run_scenario(
    fake: Any,
    tmp: Path,
    env: dict[str, str],
    plan: Scenario,
    *,
    repo: str = REPO,
    workers: int = 0,
    kills: int = 0,
    around: Callable[[Fleet, Step], AbstractContextManager[object]] = lambda *_: nullcontext(),
    after_play: Callable[[], None] = lambda: None,
    seed: int = 0,
) -> Run:
    """Play `plan` against a fleet on `env`'s database, SIGKILLing its processes `kills` times
    meanwhile (and doing what `around` does around each delivery); then wait until every job
    is done."""
    traffic = Traffic(fake, repo, seed)
    started = time.monotonic()
    with ExitStack() as stack:
        fleet = Fleet(stack, env, tmp, workers)
        sender = Sender(lambda: fleet.url)
        played = threading.Event()

        def progress() -> float:
            return 1.0 if played.is_set() else sender.sent / len(plan.steps)

        with ThreadPoolExecutor(1) as pool:
            rng = random.Random(seed)
            killing = pool.submit(kill_repeatedly, fleet, rng, kills, progress)
            try:
                play(traffic, plan, sender, lambda step: around(fleet, step))
            finally:
                played.set()
            killing.result()
        after_play()
        database_url = env["RAPIDVET_DATABASE_URL"]
        settle(database_url, 240, fleet.logs)
        seconds = time.monotonic() - started
        reruns = rerun_jobs(database_url)
        errors = fleet.error_lines()
        return Run(traffic, sender, fleet.kills, fleet.restarts, seconds, reruns, errors)


def assert_processed_once(fake: Any, run: Run, plan: Scenario, database_url: str) -> None:
    """Every delivery answered 2xx was stored and its job is done; each commit has one check
    run of each name; each pull request ends as scripted, a merged one with one decision
    comment and one record commit."""
    traffic, sender = run.traffic, run.sender
    assert set(sender.accepted) == {d.guid for d in traffic.deliveries}  # the sender persisted
    states = job_states(database_url)
    unfinished = {guid: states.get(guid, "not stored") for guid in sender.accepted}
    unfinished = {guid: state for guid, state in unfinished.items() if state != "done"}
    assert not unfinished, f"{len(unfinished)} accepted deliveries not done: {unfinished}"
    twice = {key: n for key, n in check_runs_per_head(fake, traffic.repo).items() if n > 1}
    assert not twice, f"check runs created more than once: {twice}"
    expected = {index: expected_state(plan, index, pull) for index, pull in traffic.pulls.items()}
    ended = pull_states(fake, traffic)
    wrong = {
        index: (ended[index], want) for index, want in expected.items() if ended[index] != want
    }
    assert not wrong, f"pull requests not as scripted (got, expected): {wrong}\n{run.errors[-5:]}"
    merged = sum(map(plan.merged, traffic.pulls))
    assert ref_updates(fake, traffic.repo) == merged, "not one ref update per merge record"


def install(fake: Any) -> Any:
    """The App installed, with GitHub's hourly rate limit out of the way; its credentials."""
    credentials = install_app(fake)
    lift_rate_limits(fake)
    return credentials


def handbook_env(
    fake: Any, credentials: Any, tmp: Path, repo: str = REPO, database_url: str | None = None
) -> dict[str, str]:
    """A handbook in `repo` with a plan page for each pull request of the largest scenario, and
    the environment of the App's processes on it (SQLite in `tmp` unless `database_url`)."""
    create_handbook(fake, repo, handbook_files(50))
    extra = {"RAPIDVET_DATABASE_URL": database_url} if database_url else {}
    return app_env(fake, credentials, tmp, RAPIDVET_MAX_ATTEMPTS=MAX_ATTEMPTS, **extra)


def environment(fake: Any, tmp: Path, database_url: str | None = None) -> dict[str, str]:
    """The App installed on the handbook; its processes' environment."""
    return handbook_env(fake, install(fake), tmp, REPO, database_url)


# -- crash -----------------------------------------------------------------------------------


def crash(fake: Any, tmp: Path, env: dict[str, str], plan: Scenario, **options: Any) -> Run:
    run = run_scenario(fake, tmp, env, plan, **options)
    assert_processed_once(fake, run, plan, env["RAPIDVET_DATABASE_URL"])
    return run


@contextmanager
def write_locked(database_url: str) -> Iterator[None]:
    """rapidvet's SQLite database locked for writing: it still calls GitHub, but cannot write
    down what GitHub did."""
    db = sqlite3.connect(database_url.removeprefix("sqlite:///"), isolation_level=None)
    try:
        db.execute("BEGIN IMMEDIATE")
        yield
        db.execute("ROLLBACK")
    finally:
        db.close()


def request_log(fake: Any, where: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    """The first request of the fake's log that `where` picks, once there is one."""
    deadline = time.monotonic() + 30
    while (found := next(filter(where, fake.requests()), None)) is None:
        assert time.monotonic() < deadline, "no such request in 30s"
        time.sleep(0.02)
    return found


@contextmanager
def killed_after(
    fake: Any, fleet: Fleet, database_url: str, method: str, path: str
) -> Iterator[None]:
    """SIGKILL the server once GitHub answered the first `method path` (a regex) made inside
    the block, before the server could record it, then start it again. That request is slowed
    down, so that the database is locked by the time GitHub acts."""
    fault = fake.add_fault(path, method=method, delay=1.0, times=1)["id"]
    yield
    slowed = request_log(fake, lambda r: r["fault"] == fault)
    with write_locked(database_url):
        request_log(fake, lambda r: r["seq"] == slowed["seq"] and r["status"] is not None)
        time.sleep(0.2)  # the answer reaches the server, which then waits for the database
        fleet.kill(0)
    fleet.start(0)


def test_killed_between_a_github_write_and_its_record(fake_github, tmp_path):
    """The windows where GitHub has acted but rapidvet has not written it down: a check run
    created, the merge record's ref update, the decision comment. Each is run again after the
    restart and must find what it did rather than do it twice."""
    env = environment(fake_github, tmp_path)
    database_url = env["RAPIDVET_DATABASE_URL"]
    plan = scenario(pulls=1, middle=0, seed=0)  # approved and merged

    @contextmanager
    def windows(fleet: Fleet, step: Step) -> Iterator[None]:
        with ExitStack() as stack:

            def window(method: str, path: str) -> None:
                stack.enter_context(killed_after(fake_github, fleet, database_url, method, path))

            if step.action == "open":
                window("POST", r"/check-runs$")
            elif step.action == "merge":  # left in reverse order: first the ref update
                window("POST", r"/issues/\d+/comments$")
                window("PATCH", r"/git/refs/heads/main$")
            yield

    run = run_scenario(fake_github, tmp_path, env, plan, around=windows)
    print(run.summary("sqlite, kills in the windows"))
    assert run.kills["web"] == 3
    assert_processed_once(fake_github, run, plan, database_url)
    # The tries after the kills looked for what the killed ones did: the check run by its
    # commit, the comment by its marker.
    looked_up = {(r["method"], r["operation"]) for r in fake_github.requests()}
    assert ("GET", "checks/list-for-ref") in looked_up
    assert ("GET", "issues/list-comments") in looked_up


# 20 pull requests, ~50 deliveries each, nearly one in four a redelivery: 1 008 in all.
FULL_CRASH = {"pulls": 20, "middle": 33, "seed": 2026, "redeliveries": 0.3}


@pytest.mark.slow
def test_1000_deliveries_through_20_kills_on_sqlite(fake_github, tmp_path):
    env = environment(fake_github, tmp_path)
    plan = scenario(**FULL_CRASH)
    assert len(plan.steps) >= 1000
    run = crash(fake_github, tmp_path, env, plan, kills=20, seed=1)
    print(run.summary("sqlite"))
    assert run.kills["web"] >= 20


@pytest.mark.slow
def test_1000_deliveries_through_20_kills_on_postgresql_with_two_workers(
    fake_github, tmp_path, postgres_url
):
    env = environment(fake_github, tmp_path, postgres_url)
    plan = scenario(**FULL_CRASH)
    run = crash(fake_github, tmp_path, env, plan, workers=2, kills=21, seed=2)
    print(run.summary("postgresql, serve --no-worker + 2 workers"))
    assert run.kills["web"] >= 3 and run.kills["worker"] >= 6


# -- concurrency -----------------------------------------------------------------------------


@pytest.mark.slow
def test_two_workers_on_postgresql_end_where_one_worker_ends(fake_github, tmp_path, postgres_url):
    credentials = install(fake_github)
    plan = scenario(pulls=50, middle=1, seed=50, redeliveries=0.05)
    ended = {}
    for repo, workers, database in (
        ("acme/handbook-one", 0, None),
        ("acme/handbook-two", 2, postgres_url),
    ):
        tmp = tmp_path / repo.rpartition("-")[2]
        tmp.mkdir()
        env = handbook_env(fake_github, credentials, tmp, repo, database)
        run = run_scenario(fake_github, tmp, env, plan, repo=repo, workers=workers)
        print(run.summary(f"{repo}: {workers or 1} worker(s)"))
        assert_processed_once(fake_github, run, plan, env["RAPIDVET_DATABASE_URL"])
        ended[workers] = pull_states(fake_github, run.traffic)
    assert ended[2] == ended[0]


# -- faults ----------------------------------------------------------------------------------


def faulty(fake: Any, share: float, database_url: str, linger: float) -> Callable[[], None]:
    """Turn every fault type on for `share` of the calls; the returned function keeps them on
    while jobs are left, for `linger` seconds at most, checks each type fired, and stops them."""
    ids = {fake.add_fault(".", probability=share, **fault)["id"] for fault in FAULTS}

    def stop() -> None:
        wait_idle(database_url, linger)
        fired = Counter(r["fault"] for r in fake.requests() if r["fault"] in ids)
        fake.clear_faults()
        calls = len(fake.requests())
        print(f"faults fired {sum(fired.values())} times in {calls} calls: {dict(fired)}")
        assert set(fired) == ids, f"not every fault type fired: {dict(fired)}"

    return stop


def test_github_faults_are_ridden_out_until_every_job_is_done(fake_github, tmp_path):
    env = environment(fake_github, tmp_path)
    plan = scenario(pulls=3, middle=2, seed=3)
    stop = faulty(fake_github, 0.06, env["RAPIDVET_DATABASE_URL"], linger=10)
    run = run_scenario(fake_github, tmp_path, env, plan, after_play=stop)
    print(run.summary("sqlite, faults"))
    assert_processed_once(fake_github, run, plan, env["RAPIDVET_DATABASE_URL"])


@pytest.mark.slow
def test_github_faults_on_postgresql_with_two_workers(fake_github, tmp_path, postgres_url):
    env = environment(fake_github, tmp_path, postgres_url)
    plan = scenario(pulls=8, middle=4, seed=12, redeliveries=0.1)
    stop = faulty(fake_github, 0.05, postgres_url, linger=30)
    run = run_scenario(fake_github, tmp_path, env, plan, workers=2, after_play=stop)
    print(run.summary("postgresql, 2 workers, faults"))
    assert_processed_once(fake_github, run, plan, env["RAPIDVET_DATABASE_URL"])
