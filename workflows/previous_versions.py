"""The Previous versions cell: its entries, newest first, and the cell with one more.

An entry is a markdown link (`[May 1, 2019](url)`, brackets and escapes allowed in its
text), an autolink (`<url>`), a bare URL, or plain text. Entries are separated by commas,
semicolons, `<br>` or spaces; plain text is only split at `<br>`, since a date such as
"May 1, 2019" holds a comma of its own. Adding a version writes the new link and cuts the
cell after the last entry kept, so the kept entries and the separators between them stay
byte for byte as they were.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rapidvet.checks.dates import is_unset

DEFAULT_SEPARATOR = ", "
_BR = re.compile(r"<br\s*/?>", re.IGNORECASE)
_AUTOLINK = re.compile(r"<([A-Za-z][A-Za-z0-9+.-]{1,31}:[^\s<>]*)>")
_BARE_URL = re.compile(r"https?://[^\s<>]+")
_TEXT_EDGE = " \t,;"
_LABEL_SPECIALS = re.compile(r"(?<!\\)([\[\]|])")


@dataclass(frozen=True)
class Entry:
    """An entry's span in the cell and, for a link or URL, where it points."""

    start: int
    end: int
    target: str | None


def entries(cell: str) -> tuple[Entry, ...]:
    """The cell's entries in order; none for an unset cell ("", "TBD", "N/A", "-")."""
    if is_unset(cell):
        return ()
    found: list[Entry] = []
    closings = _closings(cell)
    gap = i = 0
    while i < len(cell):
        link = _link_at(cell, i, closings)
        if link is None:
            i += 2 if cell[i] == "\\" else 1
            continue
        found += _text_entries(cell, gap, i)
        found.append(link)
        gap = i = link.end
    found += _text_entries(cell, gap, len(cell))
    return tuple(found)


def with_newest(cell: str, link: str, limit: int) -> str:
    """`link` first, then the cell's entries that fit within `limit`, oldest dropped."""
    existing = entries(cell)
    kept = existing[: limit - 1]
    if not kept:
        return link
    return link + _separator(cell, existing) + cell[kept[0].start : kept[-1].end]


def link_label(text: str) -> str:
    """Cell text made safe as link text: brackets and table pipes escaped."""
    return _LABEL_SPECIALS.sub(r"\\\1", text)


def _separator(cell: str, found: tuple[Entry, ...]) -> str:
    """How the cell separates its entries: the text between its first two."""
    if len(found) < 2:
        return DEFAULT_SEPARATOR
    return cell[found[0].end : found[1].start] or DEFAULT_SEPARATOR


def _link_at(cell: str, i: int, closings: dict[int, int]) -> Entry | None:
    if cell.startswith(("[", "!["), i):
        return _markdown_link(cell, i, closings)
    if cell[i] == "<":
        match = _AUTOLINK.match(cell, i)
        return Entry(i, match.end(), match[1]) if match else None
    # A URL inside a word is not one ("xhttp://"), nor is one inside a link, read before.
    if i > 0 and cell[i - 1].isalnum():
        return None
    match = _BARE_URL.match(cell, i)
    return Entry(i, i + len(_url(match[0])), _url(match[0])) if match else None


def _markdown_link(cell: str, start: int, closings: dict[int, int]) -> Entry | None:
    """`[text](destination "title")` at `start`, optionally an image `![...]`."""
    close = closings.get(cell.index("[", start))
    if close is None or not cell.startswith("(", close + 1):
        return None
    end = closings.get(close + 1)
    if end is None:
        return None
    destination = cell[close + 2 : end].strip()
    if destination.startswith("<") and ">" in destination:
        target = destination[1 : destination.index(">")]
    else:
        target = destination.split()[0] if destination else ""
    return Entry(start, end + 1, target)


def _closings(text: str) -> dict[int, int]:
    """Index of the bracket closing each `[` and `(` that is closed, nesting and escapes
    respected: one pass for the cell, where looking for the close from every `[` of a run
    of unclosed ones read the rest of the cell again each time. Square brackets and
    parentheses nest independently."""
    closings: dict[int, int] = {}
    open_at: dict[str, list[int]] = {"]": [], ")": []}
    i = 0
    while i < len(text):
        char = text[i]
        if char == "\\":
            i += 2
            continue
        if char in "[(":
            open_at["]" if char == "[" else ")"].append(i)
        elif char in "])" and open_at[char]:
            closings[open_at[char].pop()] = i
        i += 1
    return closings


def _url(text: str) -> str:
    """A bare URL without the punctuation that ends the sentence around it; a closing
    parenthesis stays when the URL opened one (wiki links hold them)."""
    end, opened, closed = len(text), text.count("("), text.count(")")
    while end and (text[end - 1] in ".,;:!?" or (text[end - 1] == ")" and closed > opened)):
        closed -= text[end - 1] == ")"
        end -= 1
    return text[:end]


def _text_entries(cell: str, start: int, end: int) -> list[Entry]:
    """Plain-text entries in cell[start:end]: split at `<br>`, separators trimmed."""
    bounds = [start]
    for br in _BR.finditer(cell, start, end):
        bounds += [br.start(), br.end()]
    bounds.append(end)
    found = []
    for left, right in zip(bounds[::2], bounds[1::2], strict=True):
        while left < right and cell[left] in _TEXT_EDGE:
            left += 1
        while right > left and cell[right - 1] in _TEXT_EDGE:
            right -= 1
        if left < right:
            found.append(Entry(left, right, None))
    return found
