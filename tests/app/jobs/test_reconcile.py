"""The reconciler: deliveries missed while rapidvet was down are sent again, pull requests whose
last event was never evaluated are evaluated again, and a job's log lines say what they are
about. End to end with `rapidvet serve` and `rapidvet reconcile` as real processes against the
fake GitHub; the rules underneath on their own."""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import sqlite3
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from rapidvet.app.commands.reconcile import age
from rapidvet.app.jobs.periodic import PERIODIC, next_run
from rapidvet.app.jobs.reconcile import (
    Attempt,
    behind,
    missed,
    note_evaluation,
    note_event,
    scheduled,
    scheduled_since,
)
from rapidvet.app.settings import Settings
from rapidvet.app.store import Delivery, key_parts
from rapidvet.app.store.records import LAST_EVALUATION, LAST_EVENT, SWEPT
from tests.support.e2e import (
    FILES,
    PLAN,
    PLAN_PATH,
    REPO,
    Handbook,
    app_env,
    create_handbook,
    install_app,
    new_guid,
)
from tests.support.jobs import job_of
from tests.support.service import RAPIDVET, running_service

pytest_plugins = ("tests.support.postgres",)


# -- End to end -------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def open_pull(fake: Any, branch: str, text: str) -> int:
    """A pull request from a new branch that edits the plan; its number."""
    fake.create_branch(REPO, branch)
    fake.commit(REPO, branch, {PLAN_PATH: text}, message="Edit the plan", author="author")
    return int(fake.open_pull_request(REPO, branch, user="author")["number"])


RECONCILE_CRON = next(entry.cron for entry in PERIODIC if entry.name == "rapidvet.reconcile")


def clear_of_the_schedule(margin: float = 30) -> None:
    """Wait out the service's own reconciler when it is due within `margin` seconds, so that
    only the test's `rapidvet reconcile` acts while the test looks."""
    wait = next_run(RECONCILE_CRON, time.time()) - time.time()
    if wait < margin:
        time.sleep(wait + 1)


@dataclass
class Site:
    """The App installed on the handbook with a pull request open, its webhook URL on a port
    chosen up front, so that `rapidvet serve` can stop and come back on the same address."""

    fake: Any
    env: dict[str, str]
    tmp: Path
    port: int
    number: int

    @contextmanager
    def serving(self) -> Iterator[Handbook]:
        clear_of_the_schedule()
        with running_service(self.env, self.tmp, "--port", str(self.port)) as server:
            yield Handbook(self.fake, server, self.number)

    def reconcile(self) -> dict[str, Any]:
        done = subprocess.run(
            [RAPIDVET, "reconcile", "--since", "1h", "--format", "json"],
            env=self.env,
            cwd=self.tmp,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return dict(json.loads(done.stdout))


@pytest.fixture
def site(fake_github, tmp_path) -> Site:
    install_app(fake_github)
    port = free_port()
    # The same App registered again, now with its webhook URL (and a new key).
    credentials = fake_github.setup_app(webhook_url=f"http://127.0.0.1:{port}/webhooks")
    create_handbook(fake_github, REPO, FILES)
    number = open_pull(fake_github, "plan-update", PLAN.replace("once a year", "twice a year"))
    # One try per job: a failing job is dead at once.
    env = app_env(fake_github, credentials, tmp_path, RAPIDVET_MAX_ATTEMPTS="1")
    return Site(fake_github, env, tmp_path, port, number)


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"no {what} after {timeout}s"
        time.sleep(0.05)


def test_deliveries_missed_while_down_are_redelivered_and_processed(site: Site):
    fake = site.fake
    with site.serving() as handbook:
        opened = fake.send_webhook("pull_request.opened", repo=REPO, number=site.number)
        assert opened["status_code"] == 202
        handbook.settle()
    # rapidvet is down: a push and a review are delivered in vain.
    head = handbook.push({PLAN_PATH: PLAN.replace("once a year", "every quarter")})
    pushed = fake.send_webhook("pull_request.synchronize", repo=REPO, number=site.number)
    review = fake.add_review(REPO, site.number, "lee", "APPROVED")
    reviewed = fake.send_webhook(
        "pull_request_review.submitted", repo=REPO, number=site.number, review_id=review["id"]
    )
    assert pushed["status_code"] == reviewed["status_code"] == 0

    with site.serving() as handbook:
        # The review reached rapidvet after all (its answer came too late for GitHub, say).
        late = reviewed["guid"]
        handbook.send("pull_request_review.submitted", guid=late, review_id=review["id"])
        found = site.reconcile()
        assert [d["guid"] for d in found["redelivered"]] == [pushed["guid"]]
        assert found["listed"] == 3 and found["refused"] == [] and found["queued"] == []

        def redelivered() -> list[dict[str, Any]]:
            return [d for d in fake.deliveries() if d["redelivery"]]

        wait_for(lambda: len(redelivered()) == 1, "redelivery")
        handbook.settle()
        assert [(d["guid"], d["status_code"]) for d in redelivered()] == [(pushed["guid"], 202)]
        with sqlite3.connect(handbook.server.database) as db:
            states = dict(db.execute("SELECT delivery_id, state FROM jobs").fetchall())
        assert states == dict.fromkeys((opened["guid"], reviewed["guid"], pushed["guid"]), "done")
        assert handbook.check_run("VPMOM structure", head)["conclusion"] == "success"
        assert handbook.check_run("RAPID review", head)["conclusion"] == "action_required"
        # Every delivery has got through now: a second run asks for none.
        again = site.reconcile()
        assert again["listed"] == 4 and again["redelivered"] == []
    assert len(redelivered()) == 1
    assert handbook.dead_jobs() == []


def test_the_sweep_evaluates_again_a_pull_request_whose_job_died_and_no_other(site: Site):
    fake = site.fake
    current = open_pull(fake, "other-update", PLAN.replace("once a year", "every month"))
    with site.serving() as handbook:
        handbook.send("pull_request.opened", number=current)
        fake.add_fault(rf"/pulls/{site.number}/files$", status=404, times=1)
        handbook.send("pull_request.opened")
        assert len(handbook.dead_jobs()) == 1
        head = handbook.pull()["head"]["sha"]
        assert fake.check_runs(REPO, head_sha=head) == []
        mark = len(fake.requests())

        found = site.reconcile()
        assert (found["behind"], found["queued"]) == (1, [f"{REPO}#{site.number}"])
        handbook.settle()
        assert handbook.check_run("RAPID review", head)["conclusion"] == "action_required"
        assert not [r for r in fake.requests()[mark:] if f"/pulls/{current}" in r["path"]]
        # Evaluated after its last event now: nothing left behind.
        again = site.reconcile()
        assert (again["behind"], again["queued"]) == (0, [])
        assert len(handbook.dead_jobs()) == 1


def test_a_jobs_log_lines_say_what_they_are_about_and_hold_no_secret(site: Site):
    site.env["RAPIDVET_LOG_LEVEL"] = "DEBUG"  # a line per GitHub call
    fake = site.fake
    built = fake.webhook("pull_request.opened", repo=REPO, number=site.number)
    about = {
        "installation": built["payload"]["installation"]["id"],
        "repo": REPO,
        "pr": site.number,
    }
    with site.serving() as handbook:
        ran, died = new_guid(), new_guid()
        handbook.send("pull_request.opened", guid=ran)
        fake.add_fault(r"/pulls/\d+/reviews$", status=404, times=1)
        handbook.push({PLAN_PATH: PLAN.replace("once a year", "every week")})
        handbook.send("pull_request.synchronize", guid=died)
        text = handbook.server.logs()
    lines = [json.loads(line) for line in text.splitlines()]

    def fields(line: dict[str, Any]) -> dict[str, Any]:
        return {name: line.get(name) for name in ("delivery_id", *about)}

    calls = [line for line in lines if line["logger"] == "rapidvet.app.github.client"]
    assert {line.get("delivery_id") for line in calls} == {ran, died}
    assert all(fields(line) == {"delivery_id": line["delivery_id"], **about} for line in calls)
    stored = [line for line in lines if line["message"] == "delivery stored"]
    assert [fields(line) for line in stored] == [{"delivery_id": g, **about} for g in (ran, died)]
    (dead,) = [line for line in lines if line["message"].startswith("job dead")]
    assert fields(dead) == {"delivery_id": died, **about}
    assert dead["logger"] == "rapidvet.worker" and dead["event"] == "pull_request"

    key = site.env["RAPIDVET_PRIVATE_KEY"].splitlines()[1]
    tokens = list(fake.state.tokens)
    assert tokens
    for secret in (key, site.env["RAPIDVET_WEBHOOK_SECRET"], *tokens, "Bearer", "eyJ"):
        assert secret not in text


# -- The rules underneath ---------------------------------------------------------------------


def attempt(guid: str, minute: int, status_code: int = 0, status: str = "failed") -> Attempt:
    return Attempt.from_json(
        {
            "id": minute,
            "guid": guid,
            "event": "pull_request",
            "action": "opened",
            "delivered_at": f"2026-01-02T10:{minute:02d}:00Z",
            "status_code": status_code,
            "status": status,
        }
    )


def test_a_delivery_is_missed_when_no_attempt_got_through_and_it_was_never_stored():
    listed = [  # newest first, as GitHub lists them
        attempt("redelivered", 9, 202, "OK"),
        attempt("twice", 8),
        attempt("stored", 7),
        attempt("redelivered", 6),
        attempt("twice", 5),
        attempt("ok", 4, 200, "OK"),
        attempt("once", 3),
        attempt("not-ok", 2, 200, "Invalid HTTP Response: 200"),
    ]
    found = missed(listed, {"stored"}.__contains__)
    # Oldest first, each by its newest attempt.
    assert [(a.guid, a.id) for a in found] == [("not-ok", 2), ("once", 3), ("twice", 8)]


def test_ages():
    assert age("30m") == timedelta(minutes=30)
    assert age("1h") == timedelta(hours=1)
    assert age("2d") == timedelta(days=2)
    for bad in ("1", "h", "1w", "-1h", "1.5h"):
        with pytest.raises(argparse.ArgumentTypeError, match="30m, 1h or 2d"):
            age(bad)


def delivery(guid: str, key: str, installation: int | None = 7) -> Delivery:
    return Delivery(guid, "pull_request", "opened", installation, "o/r", key, b"{}")


def test_stored_deliveries_and_records_by_scope(store):
    assert not store.has_delivery("g1")
    store.add_delivery(delivery("g1", "o/r#1"))
    assert store.has_delivery("g1") and not store.has_delivery("g2")
    assert store.values("scope") == {}
    store.put_value("scope", "a", "1")
    store.put_value("scope", "b", "2")
    store.put_value("other", "a", "3")
    assert store.values("scope") == {"a": "1", "b": "2"}


def test_a_pull_request_is_behind_when_its_last_event_is_newer_than_its_evaluation(store):
    t0 = datetime(2026, 1, 2, 10, 0, tzinfo=UTC)
    later = t0 + timedelta(seconds=5)
    for number in range(1, 5):
        note_event(store, job_of(delivery(f"g{number}", f"o/r#{number}"), later))
    note_event(store, job_of(delivery("repo", "o/r"), t0))  # no pull request
    note_event(store, job_of(delivery("lost", "o/r#9", installation=None), t0))  # nothing to do
    note_event(store, job_of(delivery("old", "o/r#1"), t0))  # an older delivery's job, retried
    note_evaluation(store, "o/r#1", t0 + timedelta(seconds=6))  # evaluated after the event
    note_evaluation(store, "o/r#2", t0 + timedelta(seconds=4))  # before it
    # o/r#3 never evaluated; o/r#4 neither, but already swept for this event
    SWEPT.put(store, "o/r#4", (LAST_EVENT.get(store, "o/r#4") or {})["at"])
    stale = behind(store)
    assert [(s.key, s.repo, s.number, s.installation) for s in stale] == [
        ("o/r#2", "o/r", 2, 7),
        ("o/r#3", "o/r", 3, 7),
    ]
    assert set(LAST_EVENT.all(store)) == {f"o/r#{n}" for n in range(1, 5)}
    assert (LAST_EVENT.get(store, "o/r#1") or {})["at"] == later.isoformat()
    assert set(LAST_EVALUATION.all(store)) == {"o/r#1", "o/r#2"}


def test_the_scheduled_run_looks_back_to_a_little_before_its_last_success(store):
    now = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)
    assert scheduled_since(store, now) == now - timedelta(hours=1)
    store.put_value("reconcile", "last_run", (now - timedelta(hours=5)).isoformat())
    assert scheduled_since(store, now) == now - timedelta(hours=5, minutes=5)
    store.put_value("reconcile", "last_run", (now - timedelta(days=9)).isoformat())
    assert scheduled_since(store, now) == now - timedelta(days=3)


def test_the_scheduled_run_queues_what_is_behind_and_remembers_when_it_ran(fake_github, store):
    credentials = install_app(fake_github)
    create_handbook(fake_github, REPO, FILES)
    number = open_pull(fake_github, "plan-update", PLAN.replace("once a year", "twice a year"))
    built = fake_github.webhook("pull_request.opened", repo=REPO, number=number)
    installation = built["payload"]["installation"]["id"]
    key = f"{REPO}#{number}"
    lost = Delivery(new_guid(), "pull_request", "opened", installation, REPO, key, b"")
    note_event(store, job_of(lost))  # its job died, say
    settings = Settings(
        app_id=credentials.app_id,
        private_key=credentials.private_key,
        webhook_secret=credentials.webhook_secret,
        github_url=fake_github.url,
    )
    asyncio.run(scheduled(store, settings))
    assert store.job_counts().queued == 1
    assert set(SWEPT.all(store)) == {key}
    assert store.get_value("reconcile", "last_run") is not None
    assert [r["path"] for r in fake_github.requests() if "/hook/" in r["path"]] == [
        "/app/hook/deliveries"
    ]


def test_key_parts():
    assert key_parts("o/r#12") == ("o/r", 12)
    assert key_parts("o/r") == ("o/r", None)
    assert key_parts("installation:5") == (None, None)
