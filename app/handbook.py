"""A handbook on disk: its markdown pages and its table of contents."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from rapidvet.app.commands import UsageError
from rapidvet.checks.layout import GITBOOK_CONFIG, SKIPPED_DIRS, is_page, toc_sources
from rapidvet.checks.toc import gitbook_summary_location


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


def _files(root: Path) -> Iterator[str]:
    """Every file below `root` outside the skipped folders, root-relative with `/`, in the
    order of `checks.layout.walk_order`."""
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in SKIPPED_DIRS)
        prefix = os.path.relpath(folder, root).replace(os.sep, "/")
        for file in sorted(files):
            yield file if prefix == "." else f"{prefix}/{file}"


def _walk(root: Path) -> Iterator[Page]:
    for rel in _files(root):
        if is_page(rel):
            yield Page(os.path.join(root, rel), rel, str(root))


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
    files = set(_files(base))
    gitbook = None
    if GITBOOK_CONFIG in files:
        gitbook = gitbook_summary_location(read_page(str(base / GITBOOK_CONFIG)))
    sources = toc_sources(files, gitbook)
    return sources.toc({path: read_page(str(base / path)) for path in sources.files})
