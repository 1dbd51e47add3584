"""A local git repository read through the git command: files at a commit, changed paths,
when lines last changed."""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

from rapidvet.app.errors import UsageError

# A commit's time in `git blame --porcelain` (whose file lines start with a tab).
COMMITTER_TIME = re.compile(rb"^committer-time (\d+)$", re.MULTILINE)


@dataclass(frozen=True)
class Repository:
    path: str

    @classmethod
    def open(cls, path: str) -> Repository:
        """The repository at `path`; a usage error when there is none, before any ref is read."""
        if not os.path.isdir(path):
            raise UsageError(f"{path}: no such folder")
        repo = cls(path)
        if repo._git("rev-parse", "--git-dir", check=False).returncode != 0:
            raise UsageError(f"{path} is not a git repository")
        return repo

    def _git(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[bytes]:
        try:
            proc = subprocess.run(["git", "-C", self.path, *args], capture_output=True, check=False)
        except FileNotFoundError:
            raise UsageError("git is not installed") from None
        if check and proc.returncode != 0:
            message = proc.stderr.decode(errors="replace").strip().splitlines()
            raise UsageError(f"git {args[0]}: {message[-1] if message else 'failed'}")
        return proc

    def commit(self, ref: str) -> str:
        """The full sha a ref names; a usage error when it names no commit."""
        proc = self._git("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", check=False)
        if proc.returncode != 0:
            raise UsageError(f"{ref}: not a commit in {self.path}")
        return proc.stdout.decode().strip()

    def changed_paths(self, base: str, head: str) -> list[str]:
        """Paths a pull request from `head` into `base` changes: the diff from their merge base,
        as GitHub shows it."""
        proc = self._git("diff", "--name-only", "--no-renames", "-z", f"{base}...{head}")
        return [p for p in proc.stdout.decode().split("\0") if p]

    def read(self, commit: str, path: str) -> str | None:
        """The text of `path` at `commit`, or None when it does not exist there."""
        proc = self._git("cat-file", "blob", f"{commit}:{path}", check=False)
        if proc.returncode != 0:
            return None
        try:
            return proc.stdout.decode("utf-8")
        except UnicodeDecodeError as err:
            raise UsageError(f"{path} at {commit[:8]}: not UTF-8 text (byte {err.start})") from None

    def exists(self, commit: str, path: str) -> bool:
        return self._git("cat-file", "-e", f"{commit}:{path}", check=False).returncode == 0

    def last_changed(self, path: str, spans: Sequence[tuple[int, int]]) -> date | None:
        """The UTC day of the latest commit to these (first, last) lines of `path` as the
        work tree holds it (lines not committed yet count as changed today); None when git
        cannot tell (a file never committed)."""
        ranges = [f"-L{first},{last}" for first, last in spans]
        proc = self._git("blame", "--porcelain", *ranges, "--", path, check=False)
        times = COMMITTER_TIME.findall(proc.stdout) if proc.returncode == 0 else []
        return max((datetime.fromtimestamp(int(t), UTC).date() for t in times), default=None)
