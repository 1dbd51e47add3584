"""Scanners for the bits of HTML and link syntax a page's text is read through.

Each one does what a short regex would (quoted in its docstring) in one left-to-right pass:
the regexes chain unbounded quantifiers that backtrack quadratically or cubically on unclosed
tags, cells or brackets, and a page is a stranger's text.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

# Literal tag names: no quantifier, so searching with them is linear.
_CELL_OPEN = re.compile("<t[dh]", re.IGNORECASE)
_CELL_CLOSE = re.compile("</t[dh]>", re.IGNORECASE)
_ITEM_OPEN = re.compile("<li", re.IGNORECASE)
_ITEM_CLOSE = re.compile("</li>", re.IGNORECASE)


@dataclass(frozen=True)
class Cell:
    """An HTML table cell: its stripped text and the span of the whole cell."""

    text: str
    start: int
    end: int


def links_as_text(text: str) -> str:
    """Markdown links and images replaced by their text: `!?\\[([^\\]]*)\\]\\([^)]*\\)` -> `\\1`."""
    out: list[str] = []
    done = 0
    opening = text.find("[")
    while opening >= 0:
        close = text.find("]", opening)
        if close < 0:
            break  # no later `[` can close either
        if not text.startswith("(", close + 1):
            opening = text.find("[", close + 1)  # every `[` before `close` ends there too
            continue
        end = text.find(")", close + 2)
        if end < 0:
            break
        start = opening - 1 if opening > done and text[opening - 1] == "!" else opening
        out += [text[done:start], text[opening + 1 : close]]
        done = end + 1
        opening = text.find("[", done)
    out.append(text[done:])
    return "".join(out)


def tag_end(text: str, start: int) -> int:
    """The end of the tag `<[^>]+>` at `start`, -1 when there is none at all after it, or
    `start` when this `<` opens no tag (`<>`)."""
    close = text.find(">", start + 1)
    if close < 0:
        return -1
    return start if close == start + 1 else close + 1


def without_tags(text: str) -> str:
    """`text` with every tag removed: `<[^>]+>` -> ``."""
    out: list[str] = []
    done = 0
    start = text.find("<")
    while start >= 0:
        end = tag_end(text, start)
        if end < 0:
            break
        if end > start:
            out.append(text[done:start])
            done = end
        start = text.find("<", max(end, start + 1))
    out.append(text[done:])
    return "".join(out)


def html_items(row: str) -> Iterator[tuple[int, str]]:
    """(start, inner text) of each `<li[^>]*>(.*?)</li>` (any case, across lines)."""
    position = 0
    while opening := _ITEM_OPEN.search(row, position):
        tag_end = row.find(">", opening.end())
        if tag_end < 0:
            return
        close = _ITEM_CLOSE.search(row, tag_end + 1)
        if close is None:
            return
        yield opening.start(), row[tag_end + 1 : close.start()]
        position = close.end()


def html_cells(text: str) -> Iterator[Cell]:
    """Every cell `<t[dh][^>]*>\\s*(?:<[^>]+>\\s*)*([^<]*?)\\s*(?:<[^>]+>\\s*)*</t[dh]>` (any
    case), found as that regex finds them: the cell's text is the one run of text between
    its tags, and the cell ends at the last closing tag before the next run of text."""
    position = 0
    while opening := _CELL_OPEN.search(text, position):
        tag_end = text.find(">", opening.end())
        if tag_end < 0:
            return
        cell, position = _cell(text, opening.start(), tag_end + 1)
        if cell is not None:
            yield cell


def _cell(text: str, start: int, body: int) -> tuple[Cell | None, int]:
    """The cell opened at `start` whose tags end at `body`, and where to look for the next.

    The tags after the opening one form a chain: runs of text without `<` between tags. The
    regex takes as many leading tags as it can, so its text is the first run that is not
    blank (or an empty text), then as many tags as it can up to a closing one."""
    closings_before: list[int] = []  # ends of closing tags before the first text
    closings_after: list[int] = []  # ends of closing tags after it, up to the second
    text_run: tuple[int, int] | None = None
    last_tag = body
    position = body
    while True:
        opening = text.find("<", position)
        run_end = len(text) if opening < 0 else opening
        if text[position:run_end].strip():
            if text_run is not None:
                break
            text_run = (position, run_end)
        if opening < 0:
            break
        end = tag_end(text, opening)
        if end <= opening:
            break
        if _CELL_CLOSE.fullmatch(text, opening, end):
            (closings_before if text_run is None else closings_after).append(end)
        last_tag = position = end
    if text_run is not None and closings_after:
        run = text[text_run[0] : text_run[1]]
        return Cell(run.strip(), start, closings_after[-1]), closings_after[-1]
    if closings_before:
        return Cell("", start, closings_before[-1]), closings_before[-1]
    # No cell opens here, nor at an opening tag in the chain before its first text: their
    # chains are the rest of this one. Reading on from there keeps the whole scan linear.
    return None, text_run[0] if text_run is not None else last_tag
