"""A handbook on disk: its markdown pages and its table of contents."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path

from rapidvet.app.errors import UsageError
from rapidvet.checks.layout import (
    GITBOOK_CONFIG,
    SKIPPED_DIRS,
    SPHINX_CONFIG,
    is_page,
    toc_sources,
)
from rapidvet.checks.toc import DEFAULT_SUMMARY, gitbook_summary_location

# What marks the folder a table of contents is read from, besides the repository root.
TOC_MARKERS = (DEFAULT_SUMMARY, GITBOOK_CONFIG, SPHINX_CONFIG)


@dataclass(frozen=True)
class Page:
    """A markdown file: `display` as the user named it, `rel` relative to its handbook root."""

    display: str
    rel: str
    root: str


def pages(paths: Iterable[str], exclude: Sequence[str] = ()) -> list[Page]:
    """Every .md file named or found below the named folders, in a stable order, but those
    an `exclude` glob matches (see `excluded`; relative to the current folder)."""
    found: list[Page] = []
    for name in paths:
        path = Path(name)
        if path.is_dir():
            found.extend(_walk(path))
        elif path.is_file():
            found.append(Page(name, path.name, str(path.parent)))
        else:
            raise UsageError(f"{name}: no such file or folder")
    return [page for page in found if not excluded(page.display, exclude)]


def excluded(path: str, globs: Sequence[str], base: str = ".") -> bool:
    """Whether a glob matches the path relative to `base`, a folder it lies in (`drafts/*`,
    `ops/drafts`), or one of its names (`drafts`, `*.draft.md`), as ruff's excludes do."""
    if not globs:  # the common case, for every page of every run
        return False
    relative = os.path.relpath(os.path.abspath(path), absolute(base))
    parts = relative.replace(os.sep, "/").split("/")
    candidates = ["/".join(parts[:end]) for end in range(1, len(parts) + 1)] + parts
    return any(fnmatchcase(name, glob.rstrip("/")) for glob in globs for name in candidates)


class Nearest:
    """The nearest folder, at or above a start folder, that `holds` says yes to; the search
    stops at the repository root (a folder with a `.git` folder or file) or the filesystem
    root, as ruff and markdownlint look for their configuration. Remembered per folder:
    a handbook's pages share their folders."""

    def __init__(self, holds: Callable[[Path], bool]) -> None:
        self._holds = holds
        self._found: dict[Path, Path | None] = {}

    def __call__(self, folder: Path) -> Path | None:
        if folder not in self._found:
            if self._holds(folder):
                self._found[folder] = folder
            elif (folder / ".git").exists() or folder.parent == folder:
                self._found[folder] = None
            else:
                self._found[folder] = self(folder.parent)
        return self._found[folder]


def holds_toc(folder: Path) -> bool:
    """Whether the table of contents is read from here: its markers, or the repository root,
    where `table_of_contents` looks further down for Sphinx sources."""
    return (folder / ".git").exists() or any((folder / name).is_file() for name in TOC_MARKERS)


def _raise(error: OSError) -> None:
    raise UsageError(f"{error.filename}: {error.strerror}")


@functools.cache
def absolute(path: str) -> str:
    """os.path.abspath, once per path: a run asks it of the same few folders for every page."""
    return os.path.abspath(path)


def _files(root: Path) -> tuple[str, ...]:
    """Every file below `root` outside the skipped folders, root-relative with `/`, in the
    order of `checks.layout.walk_order`; listed once per run, for the pages and the table of
    contents. A folder that cannot be read is a usage error: skipping it would pass its pages
    unchecked."""
    return _listing(absolute(str(root)))


@functools.cache
def _listing(root: str) -> tuple[str, ...]:
    found: list[str] = []
    for folder, dirs, files in os.walk(root, onerror=_raise):
        dirs[:] = sorted(d for d in dirs if d not in SKIPPED_DIRS)
        prefix = os.path.relpath(folder, root).replace(os.sep, "/")
        found += (file if prefix == "." else f"{prefix}/{file}" for file in sorted(files))
    return tuple(found)


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
