"""`rapidvet serve` and `rapidvet worker` refuse a port they cannot use in one line."""

from __future__ import annotations

import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.service import RAPIDVET, service_env


@pytest.fixture
def taken_port() -> Iterator[int]:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield holder.getsockname()[1]


def _start(tmp_path: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    # Warnings only: the start-up's info lines are not what these tests read.
    env = service_env(tmp_path, "http://127.0.0.1:9", RAPIDVET_LOG_LEVEL="WARNING")
    return subprocess.run(
        [RAPIDVET, *argv], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize("command", ["serve", "worker"])
def test_a_taken_port_is_one_line_and_exit_2(tmp_path: Path, taken_port: int, command: str) -> None:
    proc = _start(tmp_path, command, "--port", str(taken_port))
    assert (proc.returncode, proc.stderr) == (
        2,
        f"rapidvet: error: port {taken_port} on 127.0.0.1 is already in use\n",
    )


def test_a_host_of_another_machine_is_one_line_and_exit_2(tmp_path: Path) -> None:
    proc = _start(tmp_path, "serve", "--host", "192.0.2.1", "--port", "0")
    assert (proc.returncode, proc.stderr) == (
        2,
        "rapidvet: error: 192.0.2.1 is not an address of this machine\n",
    )


def test_help_says_what_the_exit_codes_mean(tmp_path: Path) -> None:
    out = _start(tmp_path, "serve", "--help").stdout
    assert "exit codes:\n  0  stopped by SIGTERM or SIGINT\n" in out
    assert "  2  bad settings, or the host or port cannot be used" in out
