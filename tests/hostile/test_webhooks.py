"""Unauthenticated requests to /webhooks of the real `rapidvet serve` process: a signature
header that is not ASCII, many 25 MB bodies with a wrong signature at once, bodies that trickle,
and a signed body replayed under new X-GitHub-Delivery ids (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import socket
import sqlite3
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from pathlib import Path

import psycopg
import pytest

from rapidvet.app.web.webhooks import BODY_SECONDS, LARGE_BODIES, MAX_BODY, SLOT_WAIT
from tests.app.web.test_hostile_webhooks import address, answer_status, exchange, rss_mib
from tests.app.web.test_service import PR_OPENED, post
from tests.support.service import Server, running_service, service_env, signed

pytest_plugins = ("tests.support.postgres",)

RSS_LIMIT_MIB = 300
NO_GITHUB = "http://127.0.0.1:9"  # the worker is off: only what the endpoint does matters


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    """A fresh server each: VmHWM is the peak since the process started."""
    with running_service(service_env(tmp_path, NO_GITHUB), tmp_path, "--no-worker") as running:
        yield running


def head(length: int, signature: bytes, guid: str = "d-1") -> bytes:
    return (
        b"POST /webhooks HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"X-GitHub-Event: pull_request\r\nX-GitHub-Delivery: " + guid.encode() + b"\r\n"
        b"X-Hub-Signature-256: " + signature + b"\r\n"
        b"Content-Length: %d\r\nConnection: close\r\n\r\n" % length
    )


def test_a_signature_that_is_not_ascii_is_refused_without_a_traceback(server: Server) -> None:
    body = json.dumps(PR_OPENED).encode()
    for signature in ("sha256=é".encode(), b"sha256=\xff\xfe", "é".encode() * 32):
        assert exchange(server, head(len(body), signature) + body, False) == 401, signature
    logs = server.logs()
    assert "Traceback" not in logs and "Error handling request" not in logs, logs[-3000:]


PACE = 1024 * 1024  # bytes, then a pause: each large body takes about a second to send


def send_large(server: Server, body: bytes, guid: str) -> int | None:
    """One large unsigned POST, its head and the shared body sent at a pace a fast loopback
    cannot outrun, so the bodies are still arriving when the genuine delivery is sent."""
    with socket.create_connection(address(server), timeout=60) as sock:
        sock.sendall(head(len(body), b"sha256=" + b"0" * 64, guid))
        with suppress(OSError):  # answered and closed before the last byte: the status came
            for start in range(0, len(body), PACE):
                sock.sendall(body[start : start + PACE])
                time.sleep(0.04)
        return answer_status(sock)


@pytest.mark.parametrize("senders", [8, 32])
def test_large_bodies_with_a_wrong_signature_stay_within_memory(
    server: Server, senders: int
) -> None:
    """Each gets its 401; the server's peak memory stays under 300 MiB, and a genuine delivery
    sent while they arrive is answered within a second."""
    body = b"{" + b" " * (MAX_BODY - 2) + b"}"
    answered: list[int | None] = []
    lock = threading.Lock()

    def one(n: int) -> None:
        status = send_large(server, body, f"big-{n}")
        with lock:
            answered.append(status)

    with ThreadPoolExecutor(senders) as pool:
        for n in range(senders):
            pool.submit(one, n)
        time.sleep(0.5)  # the large bodies are on their way
        genuine = json.dumps(PR_OPENED).encode()
        started = time.monotonic()
        status, _ = post(server.url + "/webhooks", genuine, signed(genuine, "pull_request"))
        took = time.monotonic() - started
        with lock:
            pending = senders - len(answered)
    assert status == 202
    assert pending > 0, "the large bodies were all answered before the genuine delivery"
    assert took < 1.0, f"a genuine delivery waited {took:.2f} s behind {pending} large bodies"
    assert answered == [401] * senders
    peak = rss_mib(server.process.pid)["VmHWM"]
    print(f"\n{senders} x 25 MB: server peak RSS {peak:.0f} MiB, genuine answered in {took:.3f} s")
    assert peak < RSS_LIMIT_MIB


def trickle(server: Server, name: str) -> socket.socket:
    """A sender that announces 25 MB and sends one byte of it."""
    sock = socket.create_connection(address(server), timeout=60)
    sock.sendall(head(MAX_BODY, b"sha256=x", name) + b"{")
    return sock


@pytest.mark.slow
def test_trickling_large_bodies_hold_slots_for_a_bounded_time(server: Server) -> None:
    """Tricklers take every slot at 0 s and more queue for one at 2 s; a large body that comes
    at 4 s waits SLOT_WAIT and gets 503 with Retry-After, since at 10 s the first tricklers get
    408 (BODY_SECONDS) and their slots go to those queued first. A small delivery passes."""
    assert SLOT_WAIT == BODY_SECONDS == 10  # the timeline above
    holding = [trickle(server, f"hold-{n}") for n in range(LARGE_BODIES)]
    time.sleep(2)
    queued = [trickle(server, f"queue-{n}") for n in range(LARGE_BODIES)]
    genuine = json.dumps(PR_OPENED).encode()
    assert post(server.url + "/webhooks", genuine, signed(genuine, "pull_request"))[0] == 202
    time.sleep(2)
    started = time.monotonic()
    with socket.create_connection(address(server), timeout=60) as late:
        late.sendall(head(MAX_BODY, b"sha256=x", "late"))
        reply = late.recv(1 << 16)
    took = time.monotonic() - started
    assert reply.startswith(b"HTTP/1.1 503") and b"Retry-After: 10" in reply, reply
    assert SLOT_WAIT - 0.5 < took < SLOT_WAIT + 3, took
    assert [answer_status(sock) for sock in holding] == [408] * LARGE_BODIES
    for sock in holding + queued:
        sock.close()


# -- Replays --------------------------------------------------------------------------------


def replay(server: Server) -> list[int]:
    """One signed body under three delivery ids, then the first id again (GitHub's own
    redelivery): the answers."""
    body = json.dumps(PR_OPENED).encode()
    guids = ["replay-1", "replay-2", "replay-3", "replay-1"]
    return [
        post(server.url + "/webhooks", body, signed(body, "pull_request", guid))[0]
        for guid in guids
    ]


def test_a_replayed_body_under_new_ids_is_queued_once(server: Server) -> None:
    assert replay(server) == [202, 200, 200, 200]
    with sqlite3.connect(server.database) as db:
        jobs = db.execute("SELECT delivery_id FROM jobs").fetchall()
    assert jobs == [("replay-1",)]


def test_a_replayed_body_under_new_ids_is_queued_once_on_postgresql(
    postgres_url: str, tmp_path: Path
) -> None:
    env = service_env(tmp_path, NO_GITHUB, RAPIDVET_DATABASE_URL=postgres_url)
    with running_service(env, tmp_path, "--no-worker") as running:
        assert replay(running) == [202, 200, 200, 200]
    with psycopg.connect(postgres_url) as conn:
        jobs = conn.execute(
            "SELECT d.id FROM procrastinate_jobs j JOIN rapidvet_deliveries d ON d.job_id = j.id"
        ).fetchall()
        count = conn.execute("SELECT count(*) FROM procrastinate_jobs").fetchone()
    assert jobs == [("replay-1",)] and count == (1,)
