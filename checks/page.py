"""One page checked: its blocks and every finding on it, page-level rules included."""

from __future__ import annotations

import heapq
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

from rapidvet.checks.model import Block, Finding
from rapidvet.checks.nesting import NESTING_LIMIT, nesting_depth
from rapidvet.checks.occurrences import line_numbers, places
from rapidvet.checks.options import CheckOptions, Kind
from rapidvet.checks.parse import parse_blocks
from rapidvet.checks.rules import NOT_IN_TOC, TOO_LARGE, run_rules, severity_for
from rapidvet.checks.toc import listed


@dataclass(frozen=True)
class PageReport:
    path: str
    blocks: tuple[Block, ...]
    findings: tuple[Finding, ...]


@dataclass(frozen=True)
class _Screen:
    """The kinds' names, first and last section labels, each as an alternation of literals
    (no quantifier, so no backtracking) and as the lower-case words themselves; the line
    structure around them is read by hand."""

    names: re.Pattern[str]
    firsts: re.Pattern[str]
    lasts: re.Pattern[str]
    name_words: tuple[str, ...]
    first_words: tuple[str, ...]
    last_words: tuple[str, ...]


@lru_cache(maxsize=8)
def _screen(kinds: tuple[Kind, ...]) -> _Screen:
    names = [kind.name for kind in kinds]
    firsts = [kind.sections[0] for kind in kinds]
    lasts = [kind.sections[-1] for kind in kinds]
    return _Screen(
        _alternation(names, ""),
        _alternation(firsts, r"\b"),
        _alternation(lasts, r"\b"),
        tuple(word.lower() for word in names),
        tuple(word.lower() for word in firsts),
        tuple(word.lower() for word in lasts),
    )


def _alternation(texts: list[str], boundary: str) -> re.Pattern[str]:
    """Any of `texts`, case ignored, then `boundary`."""
    return re.compile(f"(?:{'|'.join(map(re.escape, texts))}){boundary}", re.IGNORECASE)


# The only characters beyond ASCII that a case-ignoring regex matches with ASCII letters
# (capital I with dot, dotless i, long s, the Kelvin sign); the first and the last are also
# the only ones whose lower case is longer than one character or holds an ASCII letter.
_FOLDING_TO_ASCII = ("\u0130", "\u0131", "\u017f", "\u212a")


def may_hold_plan(text: str, options: CheckOptions) -> bool:
    """Cheap screen before a full parse: a plan's page names its kind where a title can
    stand, or, for a plan under another heading, starts lines with its first and last
    section labels. Only lines holding a name or label are looked at: most hold none."""
    screen = _screen(tuple(options.kinds))
    lines = text.split("\n")
    lower = _lower_aligned(text, screen)
    named = _lines_with(text, lower, screen.names, screen.name_words)
    if any(_titled(lines, number, screen.names) for number in named):
        return True
    firsts = _lines_with(text, lower, screen.firsts, screen.first_words)
    lasts = _lines_with(text, lower, screen.lasts, screen.last_words)
    return any(_labelled(lines[number], screen.firsts) for number in firsts) and any(
        _labelled(lines[number], screen.lasts) for number in lasts
    )


def _lower_aligned(text: str, screen: _Screen) -> str | None:
    """`text` in lower case, character for character, where finding the screen's words in
    it finds every place its case-ignoring patterns match (and maybe more); else None."""
    words = (*screen.name_words, *screen.first_words, *screen.last_words)
    if not all(word.isascii() for word in words) or any(c in text for c in _FOLDING_TO_ASCII):
        return None
    return text.lower()


def _lines_with(
    text: str, lower: str | None, pattern: re.Pattern[str], words: tuple[str, ...]
) -> Iterator[int]:
    """The 0-based numbers, each once and in order, of the lines where `pattern` matches
    and, when `lower` is given, of others holding one of its `words`: a `find` of each in
    `lower` is many times quicker than the case-ignoring regex."""
    if lower is None:
        return line_numbers(text, (found.start() for found in pattern.finditer(text)))
    return line_numbers(text, heapq.merge(*(places(lower, word) for word in words)))


def _titled(lines: list[str], number: int, names: re.Pattern[str]) -> bool:
    """Whether a kind is named on a line that can be a title: a heading, bold line, table row
    or HTML heading, or a line underlined as a setext heading."""
    line = lines[number]
    below = lines[number + 1].strip(" \t") if number + 1 < len(lines) else ""
    if below and below.count(below[0]) == len(below) and below[0] in "=-":
        return names.search(line) is not None
    start = _title_text_start(line)
    return start is not None and names.search(line, start) is not None


def _title_text_start(line: str) -> int | None:
    """Where the text after a title's opening mark starts (`# `, `**`, `__`, `|`, `<hN`)."""
    indent = len(line) - len(line.lstrip(" \t"))
    rest = line[indent:]
    hashes = len(rest) - len(rest.lstrip("#"))
    if 1 <= hashes <= 6 and rest[hashes : hashes + 1] in (" ", "\t"):
        return indent + hashes + 1
    if rest.startswith(("**", "__")):
        return indent + 2
    if rest.startswith("|"):
        return indent + 1
    if rest[:2] in ("<h", "<H") and rest[2:3] in tuple("123456"):
        return indent + 3
    return None


def _labelled(line: str, labels: re.Pattern[str]) -> bool:
    """Whether a label starts `line` after heading, list, quote, table or emphasis marks.

    The marks are `#`{1,6} and blanks, one of `-*+>|` and optional blanks, or `__`, repeated;
    each place where such a run can end is tried (a regex over the repetition backtracked
    exponentially on a run of `*`)."""
    position, hashes, state = 0, 0, _MARKED
    while True:
        if state != _IN_MARK and labels.match(line, position):
            return True
        if position == len(line):
            return False
        state, hashes = _next_mark_state(state, hashes, line[position])
        if state == _DEAD:
            return False
        position += 1


# States of the mark scanner: after marks that blanks may follow, after `__` (no blank
# may follow), inside a `#` run or after one `_` (a mark not finished), or no marks at all.
_MARKED, _AFTER_UNDERSCORES, _IN_MARK, _DEAD = range(4)


def _next_mark_state(state: int, hashes: int, char: str) -> tuple[int, int]:
    """(state, `#` count) after `char`; `hashes` counts a `#` run, -1 after a single `_`."""
    if state == _IN_MARK:
        if hashes == -1:
            return (_AFTER_UNDERSCORES, 0) if char == "_" else (_DEAD, 0)
        if char == "#":
            return (_IN_MARK, hashes + 1) if hashes < 6 else (_DEAD, 0)
        return (_MARKED, 0) if char in " \t" else (_DEAD, 0)
    if char in " \t":
        return (_MARKED, 0) if state == _MARKED else (_DEAD, 0)
    if char in "-*+>|":
        return _MARKED, 0
    if char == "#":
        return _IN_MARK, 1
    if char == "_":
        return _IN_MARK, -1
    return _DEAD, 0


def _unchecked(path: str, why: str, fix: str, options: CheckOptions) -> PageReport:
    """The report for a page not parsed: no blocks, one page-too-large finding at line 1."""
    severity = severity_for(TOO_LARGE, options)
    if severity is None:
        return PageReport(path, (), ())
    return PageReport(path, (), (Finding(TOO_LARGE, severity, f"{path} {why}", 1, fix=fix),))


def oversized_page(path: str, size: int, options: CheckOptions) -> PageReport:
    """The report for a page over `max_page_bytes`."""
    return _unchecked(
        path,
        f"is {size:,} bytes, more than the {options.max_page_bytes:,} bytes"
        " a page may have to be checked",
        "Split the page into smaller pages, or raise checks.max_page_bytes in rapid.yml",
        options,
    )


def too_deep_page(path: str, depth: int, options: CheckOptions) -> PageReport:
    """The report for a page whose lists or quotes nest deeper than the parser reads."""
    return _unchecked(
        path,
        f"has lists or quotes nested {depth} levels deep, deeper than the {NESTING_LIMIT}"
        " levels the parser reads (a list counts two, a quote one): it would skip the rest",
        "Nest lists at most 9 deep and quotes at most 19, or split the page",
        options,
    )


def check_page(text: str, path: str, options: CheckOptions) -> PageReport:
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > options.max_page_bytes:
        return oversized_page(path, size, options)
    depth = nesting_depth(text, NESTING_LIMIT)
    if depth > NESTING_LIMIT:
        return too_deep_page(path, depth, options)
    blocks = parse_blocks(text, options.kinds) if may_hold_plan(text, options) else ()
    findings = [f for block in blocks for f in run_rules(block, options)]
    severity = severity_for(NOT_IN_TOC, options)
    if blocks and options.toc is not None and severity and not listed(path, options.toc):
        findings.append(
            Finding(
                NOT_IN_TOC,
                severity,
                f"{path} holds a plan but is not listed in the table of contents",
                1,
                fix="Link the page from SUMMARY.md (or the Sphinx toctree)",
            )
        )
    findings.sort(key=lambda f: (f.line, f.rule))
    return PageReport(path, blocks, tuple(findings))
