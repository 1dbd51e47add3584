"""What a line names: its plain text, the plan kind a title names and the section a label
names, and the index of a page's section labels.

Labels and titles are read from markdown source with its markup taken off (`plain`): links
reduced to their text, escapes, entities and the emphasis and blanks at either end.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache
from itertools import takewhile

from rapidvet.checks.html import links_as_text, tag_end, without_tags
from rapidvet.checks.occurrences import line_numbers, places
from rapidvet.checks.options import Kind

# Section labels that are not a kind's own section names but mean one of them.
SYNONYMS = {
    "metrics": "measures",
    "methods & measures": "methods & measures",
    "methods and measures": "methods & measures",
    "commentary": "commentary",
}
LABEL_MAX = 60  # characters: a section label with its markup is never longer
# One trailer a plan title may end with ("(TBA)", "FY20", "Plans", "2021"), at most
# _TRAILER_MAX characters long; titles lose a run of them, blanks between, from their end.
_TITLE_TRAILER = re.compile(
    r"\((tba|tbd|wip|draft|fy\s?\d{2,4}|\d{1,3}\s?%)\)|fy\s?\d{2,4}|plans?|\d{4}", re.IGNORECASE
)
_TRAILER_MAX = len("(fy 2020)")
# The last characters of a trailer but digits (any decimal digit, as the regex's `\d` reads
# them), in any case (the long s is an s to a case-ignoring regex).
_TRAILER_ENDS = frozenset(")nNsS\u017f")
_EMPHASIS = "*_~"
_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!|&<>])")
_LABEL_END = re.compile(r"[:|]")
_MARKUP = "[<\\&"  # links, tags, escapes and entities: `plain` may take them off inside a line
_ENTITIES = {"&amp;": "&", "&lt;": "<", "&gt;": ">", "&quot;": '"', "&#39;": "'", "&nbsp;": " "}


def plain(text: str) -> str:
    """Markdown-ish source text reduced to what a reader sees: escapes, entities,
    emphasis markers and surrounding whitespace removed."""
    # Each step only where its mark occurs: most lines hold none, and this runs on most.
    if "[" in text:
        text = links_as_text(text)
    if "\\" in text:
        text = _ESCAPE.sub(r"\1", text)
    if "&" in text:
        for entity, char in _ENTITIES.items():
            text = text.replace(entity, char)
    if not text:
        return text
    first, last = text[0], text[-1]
    if not (first in _EMPHASIS or last in _EMPHASIS or first.isspace() or last.isspace()):
        return text
    return _stripped(text, _decoration)


def _decoration(char: str) -> bool:
    return char in _EMPHASIS or char.isspace()


def _stripped(text: str, strip: Callable[[str], bool]) -> str:
    """`text` without the characters `strip` picks at either end, in one pass (stripping
    one kind at a time until nothing changed copied the text once per layer)."""
    start, end = 0, len(text)
    while start < end and strip(text[start]):
        start += 1
    while end > start and strip(text[end - 1]):
        end -= 1
    return text[start:end]


def _without_trailers(text: str) -> str:
    """`text` without the longest run of title trailers (blanks before each) ending it.

    Read from the end: `ends` holds the places, leftmost last, where such a run may start
    or the text ends; a trailer is only tried where it would end at one of them."""
    if not text or not (text[-1] in _TRAILER_ENDS or text[-1].isdecimal()):
        return text  # no trailer ends here: most titles
    ends = [len(text)]
    word = len(text)  # where the text from `start` on, blanks skipped, begins
    for start in range(len(text) - 1, -1, -1):
        word = word if text[start].isspace() else start
        if word + _TRAILER_MAX < ends[-1]:
            break  # no trailer reaches a run from here, nor from anywhere further left
        reach = takewhile((word + _TRAILER_MAX).__ge__, reversed(ends))
        if any(_TITLE_TRAILER.fullmatch(text, word, end) for end in reach):
            ends.append(start)
    return text[: ends[-1]]


def label_name(text: str, kinds: Sequence[Kind]) -> str | None:
    """The canonical section name if `text` is a section label ("Vision", "**Vision**",
    "Vision:"), else None."""
    if len(text) > LABEL_MAX:  # most lines are prose: skip them before any regex work
        return None
    name = plain(text).rstrip(":").strip().casefold()
    name = plain(name).casefold()
    if name in SYNONYMS:
        return SYNONYMS[name]
    if any(name in kind.sections for kind in kinds):
        return name
    return None


def title_kind(title: str, kinds: Sequence[Kind]) -> Kind | None:
    """The kind a heading title names when it is a plan title ("FY20 MLT VPMOM (TBA)",
    "V2MOM FY 2021", "FY20 VPMOMs"), not a mere mention ("How to VPMOM")."""
    text = plain(title)
    if text.casefold().startswith("how to"):
        return None
    text = _without_trailers(text).strip()
    for kind in kinds:
        name = kind.name.casefold()
        tail = text.casefold()
        if tail.endswith(name + "s"):
            tail = tail[:-1]
        if tail.endswith(name) and (len(tail) == len(name) or not tail[-len(name) - 1].isalnum()):
            return kind
    return None


def mentions_kind(title: str, kinds: Sequence[Kind]) -> bool:
    folded = plain(title).casefold()
    return any(kind.name.casefold() in folded for kind in kinds)


def _maybe_labels(lines: list[str], kinds: Sequence[Kind]) -> Iterable[int]:
    """The lines that may hold a section label, in order: on an ASCII page, those holding a
    label's name in any case or markup (`_MARKUP`), since on a line without links, tags,
    escapes or entities the name is a part of the line (`LabelIndex._bare` and `plain`
    take markup off its ends only). A few searches of the page, not a look at each line."""
    text = "\n".join(lines)
    if not text.isascii():
        return range(len(lines))
    # ASCII: the lower case holds the markup where the text does, and is as long.
    words = (*_label_names(tuple(kinds)), *_MARKUP)
    lower = text.lower()
    # Line numbers word by word, not all offsets at once: a page of a million `[` holds a
    # million offsets, but no more line numbers than lines.
    return sorted(set().union(*(line_numbers(text, places(lower, word)) for word in words)))


@lru_cache(maxsize=8)
def _label_names(kinds: tuple[Kind, ...]) -> tuple[str, ...]:
    """The names `label_name` gives, but those holding another: a line holds one of the
    names if, and only if, it holds one of these."""
    names = {*SYNONYMS, *(section for kind in kinds for section in kind.sections)}
    return tuple(sorted(n for n in names if not any(o != n and o in n for o in names)))


class LabelIndex:
    """The source lines where a section label could stand, with its name, so the labels in
    a heading's span are found by bisection before its sections are read."""

    _DECORATION = re.compile(r"\s*(?:[-*+>|#]+|\d+[.)])\s*")

    def __init__(self, lines: list[str], kinds: Sequence[Kind]) -> None:
        self.size = len(lines)
        self.lines: list[int] = []  # 0-based, in order
        self.names: list[str] = []  # the label's name on each of them
        for number in _maybe_labels(lines, kinds):
            line = lines[number]
            if len(line) > 2 * LABEL_MAX:
                continue
            bare = self._bare(line)
            name = label_name(_LABEL_END.split(bare, maxsplit=1)[0], kinds) if bare else None
            if name:
                self.lines.append(number)
                self.names.append(name)

    @classmethod
    def _bare(cls, line: str) -> str:
        """The line without tags and, unless a tag opens it, without the list, quote, table
        or heading marker before its text."""
        tagged = line.startswith("<") and tag_end(line, 0) > 0
        decoration = None if tagged else cls._DECORATION.match(line)
        return without_tags(line[decoration.end() :] if decoration else line)

    def names_between(self, start: int, end: int) -> set[str]:
        """The labels' names on lines `start` to `end` (exclusive). A heading's span holds
        those of its subheadings, at most six levels deep, so each line is read at most
        six times over all the headings of a page."""
        low = bisect_left(self.lines, start)
        return set(self.names[low : bisect_left(self.lines, min(end, self.size))])
