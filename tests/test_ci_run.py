"""`.ci/run tools` as a user who is not root and has no password-less sudo: one clear line
saying what needs root and how to give it, exit 1, nothing half-installed. (Its download of
promtool needs Debian's mirror, so that part is tried by hand: docs/development.md.)"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import ROOT

NOBODY = 65534
# What the tools step runs before it asks for root; sqlite3 and sudo are left out on purpose.
TOOLS = ("bash", "dirname", "id", "apt-get", "apt-cache", "env", "head", "mkdir", "rm", "curl")


def without_root() -> list[str]:
    """How to run a command as a user with neither root nor password-less sudo."""
    if os.geteuid() == 0:
        if shutil.which("setpriv") is None:
            pytest.skip("root, and no setpriv to become another user")
        return ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]
    sudo = shutil.which("sudo")
    if sudo and subprocess.run([sudo, "-n", "true"], capture_output=True).returncode == 0:
        pytest.skip("this user has password-less sudo")
    return []


@pytest.fixture
def shared_tmp() -> Iterator[Path]:
    """A temp dir the other user can reach too (pytest's are in a folder of this user's only)."""
    with tempfile.TemporaryDirectory() as made:
        folder = Path(made)
        folder.chmod(0o755)
        yield folder


def test_tools_without_root_or_sudo_says_so_and_stops(shared_tmp):
    if shutil.which("apt-get") is None:
        pytest.skip("not Debian: the step says it needs apt-get instead")
    path, cache = shared_tmp / "bin", shared_tmp / "cache"
    path.mkdir()
    cache.mkdir(mode=0o777)
    for tool in TOOLS:
        found = shutil.which(tool)
        if found:
            (path / tool).symlink_to(found)
    ran = subprocess.run(
        [
            *without_root(),
            "env",
            "-i",
            f"PATH={path}",
            f"HOME={shared_tmp}",
            f"RAPIDVET_CI_CACHE={cache}",
            "bash",
            str(ROOT / ".ci" / "run"),
            "tools",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert ran.returncode == 1, ran.stdout + ran.stderr
    assert ran.stderr.startswith(".ci/run: installing Debian's sqlite3"), ran.stderr
    assert "needs root" in ran.stderr and "password-less sudo (sudo -n)" in ran.stderr
    assert list(cache.iterdir()) == []
