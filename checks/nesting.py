"""How deeply a page nests lists and block quotes, read in one pass before any parse.

markdown-it-py's commonmark preset stops at 20 levels of its tokens (`maxNesting`), where a
list takes two (list and item) and a quote one. Measured: it reads 9 nested lists or 19
nested quotes and drops deeper content, and what follows it, without a word. A page nested
deeper is reported instead of checked with parts of it missing. The depth is an estimate
from each line's markers and indentation, so it costs one pass over the text.
"""

from __future__ import annotations

NESTING_LIMIT = 19  # the deepest line the parser reads in full
_FENCES = ("```", "~~~")
_BULLETS = "-*+"
# The first characters of a line that opens a fence or a container, or is indented
_OPENERS = frozenset(" \t>`~" + _BULLETS + "0123456789")
_MARKS = " \t>.)" + _BULLETS + "0123456789"  # the characters of blanks and markers


def _marker_end(line: str, start: int) -> int:
    """The end of the container marker (`>`, `-`, `1.` ...) at `start`, or -1."""
    if start >= len(line):
        return -1
    if line[start] == ">":
        return start + 1
    end = start
    if line[start] in _BULLETS:
        end = start + 1
    else:
        while end < len(line) and end - start < 9 and line[end].isascii() and line[end].isdigit():
            end += 1
        if end == start or end >= len(line) or line[end] not in ".)":
            return -1
        end += 1
    return end if end == len(line) or line[end] in " \t" else -1


def line_depth(line: str) -> int:
    """Parser levels of the containers a line opens or sits in: its chained markers (a list
    two, a quote one), plus, when it opens one, a list for every two columns of indentation
    (as nested list items are indented)."""
    position = len(line) - len(line.lstrip(" \t"))
    indent = len(line[:position].expandtabs(4))
    depth = 0
    while (end := _marker_end(line, position)) >= 0:
        depth += 1 if line[position] == ">" else 2
        position = end
        while position < len(line) and line[position] in " \t":
            position += 1
    return depth + 2 * (indent // 2) if depth else 0


def _most(line: str, stripped: str) -> int:
    """At least `line_depth(line)`, cheaply: each marker character adds at most 2 and each
    column of indentation 1, a tab 4 columns (`stripped` is the line without leading spaces)."""
    if stripped.startswith("\t"):
        return 4 * (len(line) - len(line.lstrip(_MARKS)))
    return 2 * (len(stripped) - len(stripped.lstrip(_MARKS))) + len(line) - len(stripped)


def nesting_depth(text: str, floor: int = 0) -> int:
    """The depth of the deepest line of the page outside fenced code, or `floor` when none
    is deeper: a line is measured only when its markers and indentation could be."""
    deepest = floor
    fence = ""
    for line in text.splitlines():
        if fence:
            fence = "" if line.lstrip(" ").startswith(fence) else fence
            continue
        if line[:1] not in _OPENERS:
            continue  # opens no fence and no container: most lines, skipped cheaply
        stripped = line.lstrip(" ")
        if stripped.startswith(_FENCES):
            fence = stripped[:3]
            continue
        if _most(line, stripped) > deepest:
            deepest = max(deepest, line_depth(line))
    return deepest
