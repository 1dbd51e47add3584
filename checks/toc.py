"""Tables of contents: which repository paths a handbook lists.

Two formats: a GitBook SUMMARY.md (markdown links) and Sphinx `.. toctree::` directives in
.rst files. Both produce repository-relative paths without a leading `/`; Sphinx entries are
docnames (no extension) and, under `:glob:`, may be glob patterns (`source/sop/operations*`).

`listed` treats these as the same entry (so one TOC set can mix both formats):
- `x.md`, `x.rst` and `x` (a Sphinx docname);
- `dir/README.md` (any case), `dir/` and `dir` (GitBook shows a folder by its README).
Glob entries match docnames the Sphinx way: `*` and `?` stay inside one folder, `**` crosses.
"""

from __future__ import annotations

import posixpath
import re
from functools import lru_cache
from typing import Any
from urllib.parse import unquote

import yaml

DEFAULT_SUMMARY = "SUMMARY.md"
PAGE_SUFFIXES = (".md", ".rst")

_FENCED = re.compile(r"^ {0,3}(```|~~~).*?^ {0,3}\1", re.MULTILINE | re.DOTALL)
_INLINE_LINK = re.compile(
    r"(?<!!)\[(?:\\.|[^\[\]\\])*\]\(\s*(?:<(?P<angle>[^>\n]*)>|(?P<href>[^\s)]*))"
    r"|^ {0,3}\[[^\]\n]+\]:\s*(?:<(?P<ref_angle>[^>\n]*)>|(?P<ref>\S+))",
    re.MULTILINE,
)
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:|^//")
_TOCTREE = re.compile(r"^(?P<indent>[ \t]*)\.\.[ \t]+toctree::[ \t]*$")
_OPTION = re.compile(r"^:(?P<name>[\w-]+):")
_EXPLICIT_TITLE = re.compile(r"^(?P<title>.+?)\s*<(?P<target>.*?)>$")
_GLOB_CHARS = re.compile(r"[*?\[]")
_GLOB_PART = re.compile(r"\*\*|\*|\?|\[!?[^\]]+\]|[^*?\[]+|\[")


def summary_paths(text: str, base: str = "", *, root: str | None = None) -> frozenset[str]:
    """Pages linked from a GitBook SUMMARY.md whose folder is `base`.

    Relative links resolve against `base`, links starting with `/` against `root` (the GitBook
    root; defaults to `base`). Anchors, queries, external URLs and links leaving the
    repository are ignored.
    """
    # A link scan, not a markdown parse: a table of contents is a list of links, and a
    # large SUMMARY.md took a second to parse in full. Fenced code is skipped.
    prose = _FENCED.sub("", text)
    hrefs = (
        next(group for group in match.groups() if group is not None)
        for match in _INLINE_LINK.finditer(prose)
    )
    return frozenset(path for href in hrefs if (path := _link_target(href, base, root)))


def _link_target(href: str, base: str, root: str | None) -> str | None:
    """The repository path a SUMMARY link points at, or None for external links."""
    if _SCHEME.match(href):
        return None
    return _resolved(unquote(re.split(r"[#?]", href)[0]), base, root)


def gitbook_summary_location(yaml_text: str) -> tuple[str, str]:
    """(root, summary path) from a .gitbook.yaml, both repository-relative.

    Per GitBook, `structure.summary` is relative to `root`; both default to the repository
    root and SUMMARY.md. Invalid YAML or values fall back to the defaults.
    """
    try:
        config: Any = yaml.safe_load(yaml_text)
    except yaml.YAMLError:
        config = None
    config = config if isinstance(config, dict) else {}
    root = _resolved(_string(config.get("root")), "", "") or ""
    structure = config.get("structure")
    summary = _string(structure.get("summary")) if isinstance(structure, dict) else ""
    return root, _resolved(summary or DEFAULT_SUMMARY, root, root) or DEFAULT_SUMMARY


def toctree_paths(text: str, base: str, *, source_root: str = "") -> frozenset[str]:
    """Docnames listed by the `.. toctree::` directives of an .rst file in folder `base`.

    Relative entries resolve against `base`; entries starting with `/` against
    `source_root` (the Sphinx source folder). `self` and URLs are skipped; options such as
    `:maxdepth:` are read only for `:glob:`, which keeps entries with `*`, `?` or `[` as
    patterns (explicit `Title <target>` entries are never globbed, as in Sphinx).
    """
    paths: set[str] = set()
    for entry, glob in _toctree_entries(text.splitlines()):
        explicit = _EXPLICIT_TITLE.match(entry)
        target = explicit["target"] if explicit else entry
        if target == "self" or _SCHEME.match(target):
            continue
        if not glob or explicit:  # a literal name: bracket its glob characters for `listed`
            target = _GLOB_CHARS.sub(lambda m: f"[{m[0]}]", target)
        path = _resolved(_without_suffix(target), base, source_root)
        if path:
            paths.add(path)
    return frozenset(paths)


def listed(path: str, toc: frozenset[str]) -> bool:
    """Whether repository path `path` is an entry of `toc`, under the equivalences above."""
    page = _resolved(path, "", "")
    if page is None:
        return False
    exact, patterns = _entries(toc)
    docname = _without_suffix(page)
    return _key(page) in exact or any(p.fullmatch(docname) for p in patterns)


@lru_cache(maxsize=16)
def _entries(toc: frozenset[str]) -> tuple[frozenset[str], tuple[re.Pattern[str], ...]]:
    """Literal entries as keys, glob entries as compiled patterns (cached: one TOC, many pages)."""
    patterns = tuple(_glob(e) for e in toc if _GLOB_CHARS.search(e))
    exact = frozenset(_key(e) for e in toc if not _GLOB_CHARS.search(e))
    return exact, patterns


def _key(path: str) -> str:
    """The form shared by all spellings of one entry: no suffix, no trailing README."""
    docname = _without_suffix(path.strip("/"))
    folder, name = posixpath.split(docname)
    return folder if name.casefold() == "readme" else docname


def _without_suffix(path: str) -> str:
    for suffix in PAGE_SUFFIXES:
        if path.endswith(suffix):
            return path.removesuffix(suffix)
    return path


def _glob(pattern: str) -> re.Pattern[str]:
    """Sphinx glob semantics; `[*]` (an escaped literal from a non-glob entry) stays literal."""
    parts = []
    for part in _GLOB_PART.findall(pattern):
        if part == "**":
            parts.append(".*")
        elif part == "*":
            parts.append("[^/]*")
        elif part == "?":
            parts.append("[^/]")
        elif part.startswith("[") and len(part) > 2:
            negated = part.startswith("[!")
            body = re.escape(part[2 if negated else 1 : -1])
            parts.append(f"[^/{body}]" if negated else f"[{body}]")
        else:
            parts.append(re.escape(part))
    return re.compile("".join(parts))


def _toctree_entries(lines: list[str]) -> list[tuple[str, bool]]:
    """(entry, glob flag) for every entry of every toctree directive in `lines`."""
    entries: list[tuple[str, bool]] = []
    for number, line in enumerate(lines):
        directive = _TOCTREE.match(line)
        if directive is None:
            continue
        body = _directive_body(lines[number + 1 :], len(directive["indent"]))
        options = [o["name"] for o in map(_OPTION.match, body) if o]
        entries.extend((entry, "glob" in options) for entry in body if not _OPTION.match(entry))
    return entries


def _directive_body(lines: list[str], indent: int) -> list[str]:
    """The stripped, non-blank lines indented deeper than the directive."""
    body = []
    for line in lines:
        if line.strip() and len(line) - len(line.lstrip()) <= indent:
            break
        if line.strip():
            body.append(line.strip())
    return body


def _resolved(link: str, base: str, root: str | None) -> str | None:
    """`link` as a normalized repository path, or None when empty or outside the repository."""
    if not link:
        return None
    folder = root if link.startswith("/") and root is not None else base
    path = posixpath.normpath(posixpath.join(folder, link.lstrip("/")).lstrip("/"))
    if path == "." or path == ".." or path.startswith("../"):
        return None
    return path


def _string(value: object) -> str:
    return value if isinstance(value, str) else ""
