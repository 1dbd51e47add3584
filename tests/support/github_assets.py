"""GitHub's published API description and real webhook payloads, installed from npm.

The fake GitHub validates every request against `@octokit/openapi` and builds webhooks from
`@octokit/webhooks-examples`. Both are pinned in `github_assets/package-lock.json`; this module
runs `npm ci` when they are missing or stale. CI runs it directly:
`python tests/support/github_assets.py`.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

ASSETS = Path(__file__).resolve().parent / "github_assets"
NODE_MODULES = ASSETS / "node_modules"
OPENAPI_JSON = NODE_MODULES / "@octokit" / "openapi" / "generated" / "api.github.com.json"
WEBHOOK_EXAMPLES_JSON = (
    NODE_MODULES / "@octokit" / "webhooks-examples" / "api.github.com" / "index.json"
)
# Written after a successful install: the hash of the lock file it installed.
_STAMP = NODE_MODULES / ".rapidvet-lock-sha256"


class AssetsUnavailable(RuntimeError):
    """npm is not installed, so the assets cannot be installed (tests skip on this)."""


def _lock_digest() -> str:
    return hashlib.sha256((ASSETS / "package-lock.json").read_bytes()).hexdigest()


def _installed() -> bool:
    return (
        OPENAPI_JSON.is_file()
        and WEBHOOK_EXAMPLES_JSON.is_file()
        and _STAMP.is_file()
        and _STAMP.read_text() == _lock_digest()
    )


def ensure_installed() -> Path:
    """Install the pinned packages unless present; return the node_modules folder.

    Safe to call from several pytest-xdist workers at once: a file lock serializes the install.
    """
    if _installed():
        return NODE_MODULES
    npm = shutil.which("npm")
    if npm is None:
        raise AssetsUnavailable(
            "npm is not installed: cannot install @octokit/openapi and "
            "@octokit/webhooks-examples for the fake GitHub"
        )
    # Lock the assets folder itself (npm ci deletes node_modules, so no lock file can live there).
    folder = os.open(ASSETS, os.O_RDONLY)
    try:
        fcntl.flock(folder, fcntl.LOCK_EX)
        if not _installed():
            subprocess.run(
                [npm, "ci", "--prefix", str(ASSETS), "--no-audit", "--no-fund"],
                check=True,
                stdout=subprocess.DEVNULL,
            )
            _STAMP.write_text(_lock_digest())
    finally:
        os.close(folder)
    return NODE_MODULES


if __name__ == "__main__":
    try:
        print(ensure_installed())
    except AssetsUnavailable as error:
        sys.exit(str(error))
