"""`rapidvet db status|migrate` through the real process: status never creates a database,
and a database the App creates is readable by its owner only."""

from __future__ import annotations

import json
import os
import stat
import subprocess
from pathlib import Path

from tests.support.service import RAPIDVET


def _db(cwd: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAPIDVET_")}
    # The usual umask, under which a plainly created file is world-readable.
    return subprocess.run(
        [RAPIDVET, "db", *argv],
        env=env,
        cwd=cwd,
        umask=0o022,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_status_without_a_database_creates_none(tmp_path: Path) -> None:
    proc = _db(tmp_path, "status")
    assert (proc.returncode, proc.stdout, proc.stderr) == (
        1,
        "database: sqlite:///rapidvet.db\nerror: no database at rapidvet.db\n",
        "",
    )
    as_json = json.loads(_db(tmp_path, "status", "--format", "json").stdout)
    assert as_json == {
        "database": "sqlite:///rapidvet.db",
        "current": False,
        "error": "no database at rapidvet.db",
    }
    assert list(tmp_path.iterdir()) == []


def test_migrate_creates_the_database_for_its_owner_only(tmp_path: Path) -> None:
    assert _db(tmp_path, "migrate").returncode == 0
    modes = {f.name: stat.S_IMODE(f.stat().st_mode) for f in tmp_path.iterdir()}
    assert modes.get("rapidvet.db") == 0o600
    assert set(modes.values()) == {0o600}, modes  # -wal and -shm too
    assert _db(tmp_path, "status").returncode == 0
