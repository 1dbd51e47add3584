"""A handbook's files: which are its pages, in what order they are read, and which files its
table of contents comes from.

Pure, over repository-relative paths, so a folder on disk (app/checkout/handbook.py) and a tree
listed from GitHub (app/handbook/snapshots.py) are read the same way and give the same measures.
"""

from __future__ import annotations

import posixpath
from collections.abc import Collection, Mapping
from dataclasses import dataclass

from rapidvet.checks.toc import DEFAULT_SUMMARY, summary_paths, toctree_paths

SKIPPED_DIRS = frozenset({".git", "node_modules", ".venv", "_build", "__pycache__"})
GITBOOK_CONFIG = ".gitbook.yaml"
SPHINX_CONFIG = "conf.py"


def kept(path: str) -> bool:
    """Whether a file lies outside the folders a handbook walk skips."""
    return SKIPPED_DIRS.isdisjoint(path.split("/")[:-1])


def is_page(path: str) -> bool:
    return path.endswith(".md") and kept(path)


def walk_order(path: str) -> tuple[tuple[int, str], ...]:
    """Sort key for the order of a top-down walk with sorted names: a folder's own files
    first, then its subfolders, each by name."""
    *folders, name = path.split("/")
    return (*((1, folder) for folder in folders), (0, name))


@dataclass(frozen=True)
class TocSources:
    """Where the table of contents is read from: a GitBook summary (its links resolve
    against `book_root`), else Sphinx .rst files (`/` entries resolve against the folder
    holding conf.py)."""

    summary: str | None
    book_root: str = ""
    rst: tuple[str, ...] = ()
    source_root: str = ""

    @property
    def files(self) -> tuple[str, ...]:
        return (self.summary,) if self.summary is not None else self.rst

    def toc(self, texts: Mapping[str, str]) -> frozenset[str] | None:
        """The listed paths, given the text of each of `files`; None when nothing lists any."""
        if self.summary is not None:
            folder = posixpath.dirname(self.summary)
            return summary_paths(texts[self.summary], folder, root=self.book_root)
        listed: set[str] = set()
        for rst in self.rst:
            folder = posixpath.dirname(rst)
            listed |= toctree_paths(texts[rst], folder, source_root=self.source_root)
        return frozenset(listed) if listed else None


def toc_sources(files: Collection[str], gitbook: tuple[str, str] | None) -> TocSources:
    """The sources among a handbook's `files` (all kept files, repository-relative).
    `gitbook`: (root, summary) from its .gitbook.yaml, None when it has none."""
    book_root, summary = gitbook or ("", DEFAULT_SUMMARY)
    if summary in files:
        return TocSources(summary, book_root)
    confs = sorted((f for f in files if posixpath.basename(f) == SPHINX_CONFIG), key=_depth)
    source_root = posixpath.dirname(confs[0]) if confs else ""
    rst = tuple(sorted(f for f in files if f.endswith(".rst")))
    return TocSources(None, rst=rst, source_root=source_root)


def _depth(path: str) -> tuple[int, str]:
    return path.count("/"), path


def is_source(path: str) -> bool:
    """Whether changing this file can change the handbook's pages or table of contents."""
    name = posixpath.basename(path)
    return kept(path) and (
        path.endswith((".md", ".rst")) or name in (GITBOOK_CONFIG, SPHINX_CONFIG)
    )
