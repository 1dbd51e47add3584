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
from collections.abc import Iterator
from functools import lru_cache
from typing import Any
from urllib.parse import unquote

from rapidvet.checks.gitbook_config import plain_settings
from rapidvet.checks.glob import Glob, Step, literal

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
_GLOB_CHARS = re.compile(r"[*?\[]")
_LINK_END = re.compile(r"[#?]")  # where a link's path ends and its anchor or query begins


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
    return _resolved(unquote(_LINK_END.split(href, maxsplit=1)[0]), base, root)


def gitbook_summary_location(yaml_text: str) -> tuple[str, str]:
    """(root, summary path) from a .gitbook.yaml, both repository-relative.

    Per GitBook, `structure.summary` is relative to `root`; both default to the repository
    root and SUMMARY.md. Invalid YAML or values fall back to the defaults.
    """
    config: Any = plain_settings(yaml_text)
    if config is None:
        import yaml  # here: most handbooks never pay its ~10 ms import

        try:
            config = yaml.safe_load(yaml_text)
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
        explicit = _explicit_target(entry)
        target = entry if explicit is None else explicit
        if target == "self" or _SCHEME.match(target):
            continue
        if (
            not glob or explicit is not None
        ):  # a literal name: bracket its glob characters for `listed`
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
def _entries(toc: frozenset[str]) -> tuple[frozenset[str], tuple[Glob, ...]]:
    """Every entry as a key, and those with glob characters also as compiled patterns (cached:
    one TOC, many pages). A glob entry names its literal path too: SUMMARY.md's links are
    never globs, however their names read (`[x].md`)."""
    patterns = tuple(_glob(e) for e in toc if _GLOB_CHARS.search(e))
    return frozenset(map(_key, toc)), patterns


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


def _glob(pattern: str) -> Glob:
    """Sphinx glob semantics; `[*]` (an escaped literal from a non-glob entry) stays literal.
    A set is literal characters, no ranges; `*`, `?` and `[!...]` never take a `/`, and `**`
    takes anything but a newline (as `.*` did)."""
    steps = []
    for part in _glob_parts(pattern):
        if part == "**":
            steps.append(Step(lambda char: char != "\n", star=True))
        elif part == "*":
            steps.append(Step(_in_folder, star=True))
        elif part == "?":
            steps.append(Step(_in_folder))
        elif part.startswith("[") and len(part) > 2:
            steps.append(_set_step(part))
        else:
            steps.extend(literal(char) for char in part)
    return Glob(tuple(steps))


def _in_folder(char: str) -> bool:
    return char != "/"


def _set_step(part: str) -> Step:
    """`[abc]` or `[!abc]` as one step."""
    if part.startswith("[!"):
        excluded = frozenset(part[2:-1]) | {"/"}
        return Step(lambda char: char not in excluded)
    members = frozenset(part[1:-1])
    return Step(lambda char: char in members)


def _glob_parts(pattern: str) -> Iterator[str]:
    """`**`, `*`, `?`, a `[set]`, a lone `[`, or a run of other characters, in one pass."""
    i, close = 0, None  # `close`: the next `]`, or len(pattern) once none is left
    while i < len(pattern):
        char = pattern[i]
        if pattern.startswith("**", i):
            end = i + 2
        elif char in "*?":
            end = i + 1
        elif char == "[":
            if close is None or close <= i:  # found once, not again for every `[`
                found = pattern.find("]", i + 1)
                close = found if found != -1 else len(pattern)
            end = close + 1 if i + 1 < close < len(pattern) else i + 1
        else:
            end = next((j for j in range(i + 1, len(pattern)) if pattern[j] in "*?["), len(pattern))
        yield pattern[i:end]
        i = end


def _explicit_target(entry: str) -> str | None:
    r"""The target of a `Title <target>` entry, else None. A stripped entry with a title
    before its first `<` and `>` last, as the regex `^(.+?)\s*<(.*?)>$` read it."""
    opening = entry.find("<", 1)
    if opening == -1 or not entry.endswith(">"):
        return None
    return entry[opening + 1 : -1]


def _toctree_entries(lines: list[str]) -> list[tuple[str, bool]]:
    """(entry, glob flag) for every entry of every toctree directive in `lines`."""
    entries: list[tuple[str, bool]] = []
    for number, line in enumerate(lines):
        directive = _TOCTREE.match(line)
        if directive is None:
            continue
        body = _directive_body(lines, number + 1, len(directive["indent"]))
        options = [o["name"] for o in map(_OPTION.match, body) if o]
        entries.extend((entry, "glob" in options) for entry in body if not _OPTION.match(entry))
    return entries


def _directive_body(lines: list[str], start: int, indent: int) -> list[str]:
    """The stripped, non-blank lines from `start` on indented deeper than the directive
    (read in place: a copy of the rest of the file per directive is quadratic)."""
    body = []
    for index in range(start, len(lines)):  # by index: islice would step over the start
        line = lines[index]
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
