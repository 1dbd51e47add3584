"""File-level diffs and three-way merges between trees, as pull requests and compare show them."""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from tests.support.fake_github.gitstore import Entry, GitStore


@dataclass(frozen=True)
class FileChange:
    filename: str
    status: str  # "added", "removed", "modified" or "renamed"
    sha: str | None  # the new blob (the old one for a removed file)
    additions: int
    deletions: int
    patch: str | None  # unified hunks without the file header, None for binary files
    previous_filename: str | None = None


def _lines(git: GitStore, entry: Entry | None) -> list[str] | None:
    """The blob's lines, or None when it is not text (GitHub shows no patch for those)."""
    if entry is None:
        return []
    try:
        return git.blob(entry.sha).decode("utf-8").splitlines()
    except (UnicodeDecodeError, LookupError):
        return None


def _change(
    git: GitStore, path: str, old: Entry | None, new: Entry | None, previous: str | None = None
) -> FileChange:
    status = "added" if old is None else "removed" if new is None else "modified"
    if previous is not None:
        status = "renamed"
    shown = new or old
    sha = shown.sha if shown else None
    before, after = _lines(git, old), _lines(git, new)
    if before is None or after is None:
        return FileChange(path, status, sha, 0, 0, None, previous)
    hunks = list(difflib.unified_diff(before, after, lineterm="", n=3))[2:]
    additions = sum(line.startswith("+") for line in hunks)
    deletions = sum(line.startswith("-") for line in hunks)
    return FileChange(path, status, sha, additions, deletions, "\n".join(hunks) or None, previous)


def diff_trees(git: GitStore, old_tree: str | None, new_tree: str) -> list[FileChange]:
    """Changed files from `old_tree` to `new_tree`, sorted by name; exact moves are renames."""
    old = git.files(old_tree) if old_tree else {}
    new = git.files(new_tree)
    gone = {entry.sha: path for path, entry in old.items() if path not in new}
    renamed_from = {
        path: gone.pop(entry.sha)
        for path, entry in new.items()
        if path not in old and entry.sha in gone
    }
    sources = set(renamed_from.values())
    changes = []
    for path in sorted(old.keys() | new.keys()):
        before, after = old.get(path), new.get(path)
        if before == after or path in sources:
            continue
        source = renamed_from.get(path)
        changes.append(_change(git, path, old[source] if source else before, after, source))
    return changes


def merge_trees(git: GitStore, base: str | None, ours: str, theirs: str) -> dict[str, Entry] | None:
    """The files of a three-way merge of whole files, or None on a conflict."""
    ancestor = git.files(base) if base else {}
    mine, yours = git.files(ours), git.files(theirs)
    merged: dict[str, Entry] = {}
    for path in ancestor.keys() | mine.keys() | yours.keys():
        was, a, b = ancestor.get(path), mine.get(path), yours.get(path)
        if a == b or b == was:
            chosen = a
        elif a == was:
            chosen = b
        else:
            return None
        if chosen is not None:
            merged[path] = chosen
    return merged
