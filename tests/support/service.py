"""Start the real `rapidvet serve` process on loopback for tests, with its own key and
database, and sign webhooks for it."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

RAPIDVET = str(Path(sys.executable).with_name("rapidvet"))


def run_rapidvet(
    *argv: str | Path,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    """The real `rapidvet` console script run to its end, its output as text."""
    return subprocess.run(
        [RAPIDVET, *map(str, argv)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
    )


SECRET = "It's a Secret to Everybody"
LISTENING = re.compile(r"listening on http://([\d.]+):(\d+)")


def private_key_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def signed(
    body: bytes, event: str, guid: str | None = None, secret: str = SECRET
) -> dict[str, str]:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": guid or str(uuid.uuid4()),
        "X-Hub-Signature-256": f"sha256={digest}",
        "Content-Type": "application/json",
    }


@dataclass
class Server:
    url: str
    process: subprocess.Popen[str]
    database: Path
    log: Path

    def logs(self) -> str:
        return self.log.read_text()


def service_env(tmp: Path, github_url: str, key: str | None = None, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAPIDVET_")}
    env.update(
        RAPIDVET_APP_ID="1",
        RAPIDVET_PRIVATE_KEY=key or private_key_pem(),
        RAPIDVET_WEBHOOK_SECRET=SECRET,
        RAPIDVET_GITHUB_URL=github_url,
        RAPIDVET_DATABASE_URL=f"sqlite:///{tmp / 'rapidvet.db'}",
        RAPIDVET_LOG_LEVEL="INFO",
    )
    env.update(extra)
    return env


@contextmanager
def running_service(
    env: dict[str, str], tmp: Path, *args: str, command: str = "serve"
) -> Iterator[Server]:
    """`rapidvet serve` (or `command`) on a free loopback port, until the block ends."""
    log = tmp / f"{command}-{uuid.uuid4().hex[:6]}.log"
    with open(log, "w") as sink:
        proc = subprocess.Popen(
            [RAPIDVET, command, "--port", "0", *args], env=env, cwd=tmp, stderr=sink, text=True
        )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            found = LISTENING.search(log.read_text())
            if found:
                break
            if proc.poll() is not None:
                raise RuntimeError(f"rapidvet serve exited {proc.returncode}: {log.read_text()}")
            time.sleep(0.05)
        else:
            raise RuntimeError(f"rapidvet serve did not start: {log.read_text()}")
        database = Path(env["RAPIDVET_DATABASE_URL"].removeprefix("sqlite:///"))
        yield Server(f"http://{found.group(1)}:{found.group(2)}", proc, database, log)
    finally:
        stop(proc)


def stop(
    proc: subprocess.Popen[str], timeout: float = 10, kill: Callable[[], object] | None = None
) -> None:
    """SIGTERM, so the process stops gracefully; `kill` (SIGKILL by default) if it has not
    within `timeout` seconds."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        (kill or proc.kill)()
        proc.wait(timeout)


def payload_bytes(data: object) -> bytes:
    return json.dumps(data).encode()
