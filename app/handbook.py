"""A handbook on disk: its markdown pages and its table of contents."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from rapidvet.app.commands import UsageError
from rapidvet.checks.toc import (
    DEFAULT_SUMMARY,
    gitbook_summary_location,
    summary_paths,
    toctree_paths,
)

SKIPPED_DIRS = frozenset({".git", "node_modules", ".venv", "_build", "__pycache__"})


@dataclass(frozen=True)
class Page:
    """A markdown file: `display` as the user named it, `rel` relative to its handbook root."""

    display: str
    rel: str
    root: str


def pages(paths: Iterable[str]) -> list[Page]:
    """Every .md file named or found below the named folders, in a stable order."""
    found: list[Page] = []
    for name in paths:
        path = Path(name)
        if path.is_dir():
            found.extend(_walk(path))
        elif path.is_file():
            found.append(Page(name, path.name, str(path.parent)))
        else:
            raise UsageError(f"{name}: no such file or folder")
    return found


def _walk(root: Path) -> Iterator[Page]:
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in SKIPPED_DIRS)
        for file in sorted(files):
            if file.endswith(".md"):
                full = os.path.join(folder, file)
                yield Page(full, os.path.relpath(full, root).replace(os.sep, "/"), str(root))


def read_page(path: str) -> str:
    """The text of a page; unreadable or non-UTF-8 input is a usage error naming the file."""
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except UnicodeDecodeError as err:
        raise UsageError(f"{path}: not UTF-8 text (byte {err.start})") from None
    except OSError as err:
        raise UsageError(f"{path}: {err.strerror}") from None


def table_of_contents(root: str) -> frozenset[str] | None:
    """Paths the handbook's table of contents lists: GitBook's SUMMARY.md (located through
    .gitbook.yaml when present), else Sphinx toctrees; None when the handbook has neither."""
    base = Path(root)
    gitbook = base / ".gitbook.yaml"
    book_root, summary = "", DEFAULT_SUMMARY
    if gitbook.is_file():
        book_root, summary = gitbook_summary_location(read_page(str(gitbook)))
    summary_file = base / summary
    if summary_file.is_file():
        folder = os.path.dirname(summary)
        return summary_paths(read_page(str(summary_file)), folder, root=book_root)
    # Sphinx: toctree entries starting with "/" are relative to the folder holding conf.py.
    conf = next(iter(sorted(base.rglob("conf.py"), key=lambda p: len(p.parts))), None)
    source_root = conf.parent.relative_to(base).as_posix() if conf else ""
    source_root = "" if source_root == "." else source_root
    listed: set[str] = set()
    for rst in sorted(base.rglob("*.rst")):
        if SKIPPED_DIRS.isdisjoint(rst.relative_to(base).parts):
            rel = rst.relative_to(base).as_posix()
            text = read_page(str(rst))
            listed |= toctree_paths(text, os.path.dirname(rel), source_root=source_root)
    return frozenset(listed) if listed else None
