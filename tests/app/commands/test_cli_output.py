"""`rapidvet check` output habits from markdownlint, ruff and pre-commit, through the real
process: colour only on a terminal, --quiet, --severity, `1 file`, the formats in --help,
rule links in SARIF and GitHub annotations."""

from __future__ import annotations

import json
import os
import pty
import subprocess
from pathlib import Path

import pytest

from tests.support import ROOT
from tests.support.service import RAPIDVET, run_rapidvet

RED = "\033[31m"
RULES_MD = "https://github.com/OWNER/rapidvet/blob/main/docs/rules.md"


@pytest.fixture
def travel(tmp_path: Path) -> str:
    """The example's travel plan outside its handbook, so it gets the default grades."""
    page = tmp_path / "travel.md"
    page.write_text((ROOT / "examples" / "handbook" / "operations" / "travel.md").read_text())
    return str(page)


def check(*argv: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return run_rapidvet("check", "--today", "2026-06-01", *argv, env=env, timeout=60)


def on_a_terminal(*argv: str, no_color: bool = False) -> str:
    """What `rapidvet check` writes when its output is a terminal."""
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    if no_color:
        env["NO_COLOR"] = "1"
    leader, follower = pty.openpty()
    with subprocess.Popen(
        [RAPIDVET, "check", "--today", "2026-06-01", *argv], stdout=follower, env=env
    ) as proc:
        os.close(follower)
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the terminal closes when the process ends
                break
            if not chunk:
                break
            chunks.append(chunk)
    os.close(leader)
    assert proc.returncode == 1
    return b"".join(chunks).decode()


def test_colour_on_a_terminal_only(travel: str) -> None:
    assert f"{RED}error" in on_a_terminal(travel)
    assert "\033[" not in on_a_terminal(travel, no_color=True)
    assert "\033[" not in on_a_terminal(travel, "--color", "never")
    piped = check(travel)
    assert "\033[" not in piped.stdout
    assert f"{RED}error" in check(travel, "--color", "always").stdout


def test_quiet_and_severity_keep_the_exit_code(travel: str) -> None:
    full = check(travel).stdout.splitlines()
    quiet = check(travel, "--quiet")
    assert quiet.returncode == 1 and quiet.stdout.splitlines() == full[:-1]
    errors = check(travel, "--severity", "error")
    assert errors.returncode == 1
    found = [line for line in errors.stdout.splitlines() if not line.startswith(("    ", "1 "))]
    assert found and all(": error [" in line for line in found)
    assert full[-1] == "1 file, 1 plan: 1 error, 3 warnings, 0 notices"
    warnings = check(travel, "--severity", "warning", "--format", "json").stdout
    severities = {f["severity"] for f in json.loads(warnings)["files"][0]["findings"]}
    assert severities == {"error", "warning"}


def test_help_lists_the_formats_and_exit_codes() -> None:
    out = subprocess.run([RAPIDVET, "check", "--help"], capture_output=True, text=True).stdout
    flat = " ".join(out.split())
    assert "github: workflow commands that annotate a pull request" in flat
    assert "sarif: SARIF 2.1.0" in flat
    assert "exit codes: 0 no error findings 1 at least one error finding 2 bad usage" in flat


@pytest.mark.parametrize("fmt", ["sarif", "github"])
def test_findings_link_to_their_rule(travel: str, fmt: str) -> None:
    out = check(travel, "--format", fmt).stdout
    if fmt == "sarif":
        rules = json.loads(out)["runs"][0]["tool"]["driver"]["rules"]
        assert all(r["helpUri"] == f"{RULES_MD}#{r['id']}" for r in rules)
    else:
        line = next(line for line in out.splitlines() if "section-missing" in line)
        assert line.endswith(f"%0A%0ARule: {RULES_MD}#section-missing")
