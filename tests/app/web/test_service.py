"""The real `rapidvet serve` process: settings, health, and the webhook endpoint's answers."""

from __future__ import annotations

import hashlib
import hmac
import json
import sqlite3
import subprocess
import urllib.error
import urllib.request

import pytest

from rapidvet.app.web.webhooks import signature_ok
from tests.support.service import RAPIDVET, SECRET, running_service, service_env, signed

PR_OPENED = {
    "action": "opened",
    "number": 1,
    "pull_request": {"number": 1},
    "repository": {"full_name": "acme/handbook"},
    "installation": {"id": 42},
}


def post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, dict]:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, json.loads(answer.read() or b"{}")
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"{}")


def get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


def jobs(database) -> list[tuple[str, str]]:
    with sqlite3.connect(database) as db:
        return db.execute("SELECT delivery_id, key FROM jobs ORDER BY id").fetchall()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("serve")
    # The worker is off: these tests look at what the endpoint stores, not what it does.
    with running_service(service_env(tmp, "http://127.0.0.1:9"), tmp, "--no-worker") as running:
        yield running


def test_signature_test_vector():
    body = b"Hello, World!"
    digest = "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
    mac = hmac.new(SECRET.encode(), body, hashlib.sha256)
    assert mac.hexdigest() == digest
    assert signature_ok(mac, f"sha256={digest}")
    assert not signature_ok(mac, f"sha256={digest[:-1]}0")
    assert not signature_ok(mac, digest)
    assert not signature_ok(mac, None)
    assert not signature_ok(mac, "sha256=é")  # any text: compared as bytes, never raises


def test_health_ready_and_metrics(server):
    assert get(server.url + "/healthz") == (200, b'{"ok": true}')
    assert get(server.url + "/readyz")[0] == 200
    status, body = get(server.url + "/metrics")
    assert status == 200 and b"deliveries_total" in body and b"queue_depth" in body


def test_webhook_answers(server):
    body = json.dumps(PR_OPENED).encode()
    headers = signed(body, "pull_request", "guid-1")
    assert post(server.url + "/webhooks", body, headers) == (202, {"queued": True})
    assert post(server.url + "/webhooks", body, headers) == (200, {"duplicate": True})
    assert jobs(server.database) == [("guid-1", "acme/handbook#1")]

    bad = {**headers, "X-Hub-Signature-256": "sha256=" + "0" * 64, "X-GitHub-Delivery": "g2"}
    assert post(server.url + "/webhooks", body, bad)[0] == 401
    missing = {k: v for k, v in headers.items() if k != "X-Hub-Signature-256"}
    assert post(server.url + "/webhooks", body, missing)[0] == 401
    broken = b'{"action": "opened",'
    assert post(server.url + "/webhooks", broken, signed(broken, "pull_request"))[0] == 400
    array = b"[1, 2]"
    assert post(server.url + "/webhooks", array, signed(array, "pull_request"))[0] == 400
    # Not UTF-8: an encoded lone surrogate in a key, and UTF-16 (both of which json.loads on
    # bytes would take).
    for text in (b'{"\xed\xa0\x80repository": 1}', '{"action": "opened"}'.encode("utf-16")):
        assert post(server.url + "/webhooks", text, signed(text, "pull_request"))[0] == 400
    closed = json.dumps({**PR_OPENED, "action": "labeled"}).encode()
    assert post(server.url + "/webhooks", closed, signed(closed, "pull_request")) == (
        200,
        {"ignored": True},
    )
    assert post(server.url + "/webhooks", body, signed(body, "ping")) == (200, {"pong": True})
    assert post(server.url + "/webhooks", body, signed(body, "issues")) == (200, {"ignored": True})
    no_guid = {k: v for k, v in signed(body, "pull_request").items() if k != "X-GitHub-Delivery"}
    assert post(server.url + "/webhooks", body, no_guid)[0] == 400
    assert jobs(server.database) == [("guid-1", "acme/handbook#1")]


def test_payload_over_25_mb_is_refused(server):
    body = b" " * (25 * 1024 * 1024 + 1)
    status, answer = post(server.url + "/webhooks", body, signed(body, "pull_request"))
    assert status == 413 and "25 MB" in answer["error"]


def test_form_encoded_payloads_are_accepted(server):
    from urllib.parse import urlencode

    data = json.dumps({**PR_OPENED, "number": 2, "pull_request": {"number": 2}})
    body = urlencode({"payload": data}).encode()
    headers = {
        **signed(body, "pull_request", "guid-form"),
        "Content-Type": "application/x-www-form-urlencoded",
    }
    assert post(server.url + "/webhooks", body, headers)[0] == 202


def start_up_error(env: dict[str, str], cwd) -> str:
    """The one line `rapidvet serve` prints when it refuses to start (exit 2)."""
    proc = subprocess.run(
        [RAPIDVET, "serve"], env=env, cwd=cwd, capture_output=True, text=True, timeout=30
    )
    assert proc.returncode == 2
    (line,) = proc.stderr.strip().splitlines()
    return line


@pytest.mark.parametrize(
    ("unset", "message"),
    [
        ("RAPIDVET_APP_ID", "RAPIDVET_APP_ID is not set"),
        ("RAPIDVET_WEBHOOK_SECRET", "RAPIDVET_WEBHOOK_SECRET is not set"),
        ("RAPIDVET_PRIVATE_KEY", "RAPIDVET_PRIVATE_KEY (or RAPIDVET_PRIVATE_KEY_PATH) is not set"),
    ],
)
def test_missing_settings_stop_start_up_with_one_line(tmp_path, unset, message):
    env = service_env(tmp_path, "http://127.0.0.1:9")
    env.pop(unset)
    assert start_up_error(env, tmp_path) == f"rapidvet: error: {message}"


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("RAPIDVET_APP_ID", "abc", "RAPIDVET_APP_ID must be a number"),
        ("RAPIDVET_PRIVATE_KEY", "not a key", "RAPIDVET_PRIVATE_KEY is not a PEM private key"),
        ("RAPIDVET_GITHUB_URL", "ftp://x", "RAPIDVET_GITHUB_URL must be an http(s) URL"),
        ("RAPIDVET_DATABASE_URL", "mysql://x", "RAPIDVET_DATABASE_URL must start with"),
        ("RAPIDVET_LOG_LEVEL", "LOUD", "RAPIDVET_LOG_LEVEL must be one of"),
    ],
)
def test_malformed_settings(tmp_path, name, value, message):
    env = service_env(tmp_path, "http://127.0.0.1:9")
    env[name] = value
    assert message in start_up_error(env, tmp_path)


def test_env_file_fills_in_settings(tmp_path):
    from rapidvet.app.settings import load_settings

    key = tmp_path / "key.pem"
    key.write_text("-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----\n")
    env_file = tmp_path / ".env"
    env_file.write_text(
        f"# comment\nRAPIDVET_APP_ID=12\nRAPIDVET_PRIVATE_KEY_PATH={key}\n"
        "export RAPIDVET_WEBHOOK_SECRET='s3cret'\n"
        "RAPIDVET_GITHUB_URL=https://ghe.example.com/api/v3\n"
    )
    settings = load_settings({"RAPIDVET_APP_ID": "13"}, str(env_file))
    assert settings.app_id == 13  # the environment wins over the file
    assert settings.webhook_secret == "s3cret"
    assert settings.web_url == "https://ghe.example.com"
    assert "PRIVATE" not in repr(settings) and "s3cret" not in repr(settings)
