"""Every command's --help ends with what its exit codes mean, so scripts need not guess."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.service import RAPIDVET

COMMANDS = [
    [],
    ["check"],
    ["rules"],
    ["report"],
    ["config"],
    ["config", "validate"],
    ["config", "match"],
    ["config", "schema"],
    ["explain"],
    ["serve"],
    ["worker"],
    ["db"],
    ["db", "migrate"],
    ["db", "status"],
    ["reconcile"],
    ["secret-key"],
]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "rapidvet")
def test_help_says_what_the_exit_codes_mean(command: list[str]) -> None:
    proc = subprocess.run([RAPIDVET, *command, "--help"], capture_output=True, text=True)
    assert proc.returncode == 0
    codes = " ".join(proc.stdout.split("exit codes:")[1].split())
    assert codes.startswith("0 ") and " 2 " in codes


HEAVY = ("jsonschema", "aiohttp", "procrastinate", "psycopg", "jinja2", "cryptography")


def test_check_without_a_config_imports_nothing_heavy(tmp_path) -> None:
    """pre-commit starts `rapidvet check` on every commit: it pays only for what it uses."""
    (tmp_path / "page.md").write_text("# A page\n")
    command = ["-X", "importtime", "-m", "rapidvet.app.cli", "check", "page.md"]
    proc = subprocess.run(
        [sys.executable, *command],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    imported = {line.rsplit("|", 1)[-1].strip() for line in proc.stderr.splitlines()}
    assert not {name for name in imported if name.split(".")[0] in HEAVY}
