"""deploy/systemd/rapidvet.service: the sandbox it promises, the commands it runs (checked with
rapidvet's parser), `systemd-analyze verify` on it and its offline security exposure."""

from __future__ import annotations

import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.deploy_helpers import DEPLOY, rapidvet_args
from tests.support.service import RAPIDVET

UNIT = DEPLOY / "systemd" / "rapidvet.service"
SANDBOX = {
    "DynamicUser": "yes",
    "ProtectSystem": "strict",
    "ProtectHome": "yes",
    "NoNewPrivileges": "yes",
    "PrivateTmp": "yes",
    "PrivateDevices": "yes",
    "CapabilityBoundingSet": "",
    "RestrictSUIDSGID": "yes",
}
# `systemd-analyze security` scores in tenths: 20 is 2.0, inside its "OK" band.
EXPOSURE_THRESHOLD = 20
SYSTEMD_ANALYZE = shutil.which("systemd-analyze")
needs_systemd_analyze = pytest.mark.skipif(
    SYSTEMD_ANALYZE is None, reason="systemd-analyze is not installed"
)


def directives(text: str) -> list[tuple[str, str, str]]:
    """(section, key, value) in file order; systemd allows a key more than once."""
    found, section = [], ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            section = line.strip("[]")
            continue
        key, _, value = line.partition("=")
        found.append((section, key.strip(), value.strip()))
    return found


def service(key: str) -> list[str]:
    return [
        v for s, k, v in directives(UNIT.read_text(encoding="utf-8")) if (s, k) == ("Service", key)
    ]


def one(key: str) -> str:
    (value,) = service(key)
    return value


def runnable_copy(tmp_path: Path, text: str | None = None) -> Path:
    """The unit with its commands pointed at this checkout's rapidvet: verify checks they exist."""
    binary = shlex.split(one("ExecStart"))[0]
    unit = tmp_path / UNIT.name
    unit.write_text((text or UNIT.read_text(encoding="utf-8")).replace(binary, RAPIDVET))
    return unit


def verify(unit: Path) -> subprocess.CompletedProcess[str]:
    assert SYSTEMD_ANALYZE is not None
    return subprocess.run(
        [SYSTEMD_ANALYZE, "verify", str(unit)], capture_output=True, text=True, timeout=120
    )


def test_unit_is_sandboxed():
    for key, value in SANDBOX.items():
        assert service(key) == [value], key
    state = one("StateDirectory")
    assert one("WorkingDirectory") == f"/var/lib/{state}"
    database = [v for v in service("Environment") if v.startswith("RAPIDVET_DATABASE_URL=")]
    assert database == [f"RAPIDVET_DATABASE_URL=sqlite:////var/lib/{state}/rapidvet.db"]
    # ProtectSystem=strict leaves only the state directory writable: nothing else may be named.
    assert service("ReadWritePaths") == []


def test_secrets_come_from_a_root_only_environment_file():
    assert one("EnvironmentFile") == "/etc/rapidvet/rapidvet.env"
    assert not [v for v in service("Environment") if "SECRET" in v or "PRIVATE_KEY=" in v]


def test_unit_runs_migrations_then_the_whole_app():
    migrate = rapidvet_args(shlex.split(one("ExecStartPre"))[1:])
    assert (migrate.command, migrate.db_command) == ("db", "migrate")
    serve = rapidvet_args(shlex.split(one("ExecStart"))[1:])
    assert (serve.command, serve.no_worker, serve.host) == ("serve", False, "127.0.0.1")
    assert shlex.split(one("ExecStartPre"))[0] == shlex.split(one("ExecStart"))[0]


@needs_systemd_analyze
def test_systemd_analyze_verify_passes(tmp_path: Path):
    done = verify(runnable_copy(tmp_path))
    assert done.returncode == 0, done.stderr
    # Unknown keys and bad values are only warnings, with the exit code still 0.
    assert UNIT.name not in done.stdout + done.stderr, done.stderr


@needs_systemd_analyze
def test_systemd_analyze_verify_catches_a_misspelt_directive(tmp_path: Path):
    text = UNIT.read_text(encoding="utf-8").replace("ProtectSystem=", "ProtectSytem=")
    done = verify(runnable_copy(tmp_path, text))
    assert "ProtectSytem" in done.stderr


@needs_systemd_analyze
def test_security_exposure_is_low(tmp_path: Path):
    done = subprocess.run(
        [
            SYSTEMD_ANALYZE,
            "security",
            "--offline=true",
            f"--threshold={EXPOSURE_THRESHOLD}",
            "--no-pager",
            str(runnable_copy(tmp_path)),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr
    assert "Overall exposure level" in done.stdout
