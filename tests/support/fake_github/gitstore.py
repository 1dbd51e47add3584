"""A repository's Git objects, hashed exactly as Git hashes them, so every SHA is a real one."""

from __future__ import annotations

import hashlib
from collections import deque
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime

BLOB_MODES = ("100644", "100755", "120000")
TREE_MODE = "040000"


@dataclass(frozen=True)
class Entry:
    """A tree entry: `type` is "blob", "tree" or "commit" (a submodule)."""

    mode: str
    type: str
    sha: str


@dataclass(frozen=True)
class Signature:
    name: str
    email: str
    date: datetime  # timezone-aware


@dataclass(frozen=True)
class Commit:
    sha: str
    tree: str
    parents: tuple[str, ...]
    author: Signature
    committer: Signature
    message: str


class GitError(LookupError):
    """A SHA or path that the repository does not hold."""


def _hash(kind: str, data: bytes) -> str:
    return hashlib.sha1(f"{kind} {len(data)}\0".encode() + data, usedforsecurity=False).hexdigest()


def _signature_line(role: str, who: Signature) -> str:
    offset = who.date.utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset else 0
    sign = "-" if minutes < 0 else "+"
    zone = f"{sign}{abs(minutes) // 60:02d}{abs(minutes) % 60:02d}"
    return f"{role} {who.name} <{who.email}> {int(who.date.timestamp())} {zone}\n"


def check_entry_name(name: str) -> None:
    """Refuse a tree entry name GitHub refuses in a push (git fsck's tree checks: emptyName,
    hasDot, hasDotdot, hasDotgit, fullPathname): a path with a `.`, `..` or empty segment never
    reaches a tree there. Backslashes, `%` and control characters are a name like any other."""
    if name in ("", ".", "..") or name.lower() == ".git" or "/" in name or "\0" in name:
        raise GitError(f"invalid tree entry name {name!r}")


class GitStore:
    """Blobs, trees and commits of one repository, addressed by their Git SHA-1."""

    def __init__(self) -> None:
        self.blobs: dict[str, bytes] = {}
        self.trees: dict[str, dict[str, Entry]] = {}
        self.commits: dict[str, Commit] = {}
        self._flat: dict[str, dict[str, Entry]] = {}  # tree SHA -> path -> entry (cache)

    def put_blob(self, data: bytes) -> str:
        sha = _hash("blob", data)
        self.blobs[sha] = data
        return sha

    def put_tree(self, entries: Mapping[str, Entry]) -> str:
        for name in entries:
            check_entry_name(name)
        # Git sorts entries by name, with a tree's name compared as if it ended in "/".
        names = sorted(entries, key=lambda n: n + "/" if entries[n].type == "tree" else n)
        data = b"".join(
            f"{entries[n].mode.lstrip('0')} {n}\0".encode() + bytes.fromhex(entries[n].sha)
            for n in names
        )
        sha = _hash("tree", data)
        self.trees[sha] = {name: entries[name] for name in names}
        return sha

    def put_commit(
        self,
        tree: str,
        parents: tuple[str, ...],
        message: str,
        author: Signature,
        committer: Signature,
    ) -> str:
        self.tree(tree)
        for parent in parents:
            self.commit(parent)
        text = f"tree {tree}\n" + "".join(f"parent {p}\n" for p in parents)
        text += _signature_line("author", author) + _signature_line("committer", committer)
        sha = _hash("commit", f"{text}\n{message}".encode())
        self.commits[sha] = Commit(sha, tree, parents, author, committer, message)
        return sha

    def blob(self, sha: str) -> bytes:
        if sha not in self.blobs:
            raise GitError(f"no blob {sha}")
        return self.blobs[sha]

    def tree(self, sha: str) -> dict[str, Entry]:
        if sha not in self.trees:
            raise GitError(f"no tree {sha}")
        return self.trees[sha]

    def commit(self, sha: str) -> Commit:
        if sha not in self.commits:
            raise GitError(f"no commit {sha}")
        return self.commits[sha]

    def kind(self, sha: str) -> str | None:
        for kind, objects in (("blob", self.blobs), ("tree", self.trees), ("commit", self.commits)):
            if sha in objects:
                return kind
        return None

    # -- trees as path maps --------------------------------------------------------------------

    def walk(self, tree: str, prefix: str = "") -> Iterator[tuple[str, Entry]]:
        """Every entry below `tree`, trees included, parents before their children."""
        for name, entry in self.tree(tree).items():
            path = f"{prefix}{name}"
            yield path, entry
            if entry.type == "tree":
                yield from self.walk(entry.sha, f"{path}/")

    def files(self, tree: str) -> dict[str, Entry]:
        """Path -> entry for every non-tree entry (blobs, symlinks, submodules)."""
        if tree not in self._flat:
            self._flat[tree] = {p: e for p, e in self.walk(tree) if e.type != "tree"}
        return self._flat[tree]

    def build(self, files: Mapping[str, Entry]) -> str:
        """Store the nested trees that hold `files` (path -> entry); return the root tree SHA."""
        children: dict[str, dict[str, Entry]] = {"": {}}
        for path in files:
            folder, _, name = path.rpartition("/")
            children.setdefault(folder, {})[name] = files[path]
            while folder:  # make sure every ancestor folder is listed
                parent, _, _ = folder.rpartition("/")
                children.setdefault(parent, {})
                folder = parent
        # Deepest folders first, so each folder's subtrees exist before the folder itself.
        for folder in sorted(children, key=lambda f: -f.count("/") - bool(f)):
            if folder:
                parent, _, name = folder.rpartition("/")
                children[parent][name] = Entry(TREE_MODE, "tree", self.put_tree(children[folder]))
        return self.put_tree(children[""])

    def lookup(self, tree: str, path: str) -> Entry | None:
        """The entry at `path` (file or folder) below `tree`; the root itself for ""."""
        entry = Entry(TREE_MODE, "tree", tree)
        for name in filter(None, path.split("/")):
            if entry.type != "tree":
                return None
            entry_or_none = self.tree(entry.sha).get(name)
            if entry_or_none is None:
                return None
            entry = entry_or_none
        return entry

    # -- history -------------------------------------------------------------------------------

    def ancestors(self, sha: str) -> Iterator[str]:
        """`sha` and every commit reachable from it, nearest first."""
        seen, queue = {sha}, deque([sha])
        while queue:
            current = queue.popleft()
            yield current
            for parent in self.commit(current).parents:
                if parent not in seen:
                    seen.add(parent)
                    queue.append(parent)

    def is_ancestor(self, ancestor: str, descendant: str) -> bool:
        return any(sha == ancestor for sha in self.ancestors(descendant))

    def merge_base(self, one: str, other: str) -> str | None:
        reachable = set(self.ancestors(one))
        return next((sha for sha in self.ancestors(other) if sha in reachable), None)
