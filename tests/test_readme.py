"""The README's first command tells the truth: run as the README states it, it exits with the
code its comment promises and finds as many errors and warnings as it says."""

from __future__ import annotations

import re
import subprocess

from tests.support import ROOT

FIRST_BLOCK = re.compile(r"^```sh\n(?P<body>.*?)^```$", re.MULTILINE | re.DOTALL)
# `... && .venv/bin/rapidvet check ...  # exits 1: 3 errors, 4 warnings, ...`
PROMISE = re.compile(
    r"(?P<command>\.venv/bin/rapidvet check [^#&]+?)\s+# exits (?P<code>\d): "
    r"(?P<errors>\d+) errors, (?P<warnings>\d+) warnings\b"
)
SUMMARY = re.compile(r"(?P<errors>\d+) errors, (?P<warnings>\d+) warnings, \d+ notices$")


def first_check_line() -> re.Match[str]:
    found = FIRST_BLOCK.search((ROOT / "README.md").read_text(encoding="utf-8"))
    assert found, "the README opens with no ```sh block"
    lines = found["body"].splitlines()
    promises = [m for m in map(PROMISE.search, lines) if m]
    assert promises, f"no `rapidvet check ...  # exits N: E errors, W warnings` line in {lines}"
    return promises[0]


def test_the_readmes_first_check_exits_as_it_says():
    promise = first_check_line()
    # The install line before it made .venv in the checkout; this run is that .venv's.
    ran = subprocess.run(
        ["bash", "-c", promise["command"]], cwd=ROOT, capture_output=True, text=True
    )
    assert ran.returncode == int(promise["code"]), ran.stdout + ran.stderr
    summary = SUMMARY.search(ran.stdout.strip())
    assert summary, ran.stdout
    said = (promise["errors"], promise["warnings"])
    assert (summary["errors"], summary["warnings"]) == said, ran.stdout


def test_the_example_handbook_says_what_is_broken_on_purpose():
    readme = (ROOT / "examples" / "handbook" / "README.md").read_text(encoding="utf-8")
    assert "broken on purpose" in readme
    assert "operations/travel.md" in readme
