"""Every command's --help ends with what its exit codes mean, so scripts need not guess."""

from __future__ import annotations

import subprocess

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
]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "rapidvet")
def test_help_says_what_the_exit_codes_mean(command: list[str]) -> None:
    proc = subprocess.run([RAPIDVET, *command, "--help"], capture_output=True, text=True)
    assert proc.returncode == 0
    codes = " ".join(proc.stdout.split("exit codes:")[1].split())
    assert codes.startswith("0 ") and " 2 " in codes
