"""Dates as handbook pages write them, kept with their style so they can be written back alike.

Accepted forms (one space between parts; a comma is followed by one space):
`May 1, 2019`, `May 1 2019`, `Jan 31, 2020`, `Jan. 31, 2020`, `Sept 1, 2019`, `May 01, 2019`,
`July 14th, 2024`, `1 May 2019`, `16 April 2019`, `1st May, 2019`, `2019-05-01`, with month names
in title, upper or lower case. Not accepted: numeric `5/27/2024` (month and day order is
ambiguous), two-digit years, month-year only, and surrounding markdown. Ordinal suffixes must be
the right one (`1st`, not `1th`), so that `format_date` reproduces the text exactly.

"May" is both the full and the short name; it parses as the full style.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Literal

Order = Literal["mdy", "dmy", "iso"]
MonthForm = Literal["full", "abbr"]
Case = Literal["title", "upper", "lower"]


@dataclass(frozen=True)
class DateStyle:
    """How a date is written. Fields that do not apply to `order`/`month` keep their defaults."""

    order: Order = "mdy"
    month: MonthForm = "full"
    sept: bool = False  # abbr: "Sept" rather than "Sep"
    dot: bool = False  # abbr: "Jan." (May, having no short form, never takes one)
    case: Case = "title"
    pad_day: bool = False  # "May 01"
    ordinal: bool = False  # "May 1st"
    comma: bool = True  # "May 1, 2019" / "1 May, 2019"


@dataclass(frozen=True)
class ParsedDate:
    value: date
    style: DateStyle
    text: str


@dataclass(frozen=True)
class Period:
    start: ParsedDate
    end: ParsedDate
    text: str


DEFAULT_STYLE = DateStyle()
ISO_STYLE = DateStyle(order="iso")
_DASHES = "-\u2013\u2014"  # hyphen, en dash, em dash
UNSET_WORDS = frozenset({"", "tbd", "tba", "tbc", "n/a", "na", "none", "--", "?", *_DASHES})

_FULL = tuple(calendar.month_name)[1:]
_MONTHS: dict[str, tuple[int, MonthForm]] = {
    **{name[:3].casefold(): (number, "abbr") for number, name in enumerate(_FULL, 1)},
    **{name.casefold(): (number, "full") for number, name in enumerate(_FULL, 1)},
    "sept": (9, "abbr"),
}
_DAY = r"(?P<day>\d{1,2})(?P<suffix>st|nd|rd|th)?"
_MONTH = r"(?P<month>[A-Za-z]+)(?P<dot>\.)?"
_YEAR = r"(?P<year>\d{4})"
_FORMS: tuple[tuple[Order, re.Pattern[str]], ...] = (
    ("iso", re.compile(r"(?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2})")),
    ("mdy", re.compile(rf"{_MONTH} {_DAY}(?P<comma>,)? {_YEAR}")),
    ("dmy", re.compile(rf"{_DAY} {_MONTH}(?P<comma>,)? {_YEAR}")),
)
# A hyphen needs spaces around it (ISO dates hold hyphens); en and em dashes do not.
# Separators are found by `_separators`: a regex over blanks, a word and blanks again
# rescanned a run of blanks from each of its characters.
_SEPARATOR_WORD = re.compile(rf"to|through|thru|until|[{_DASHES}]", re.IGNORECASE)
_DATE_MAX = 40  # characters: "September 30th, 2020" is the longest date read, at 20
_UNSET_OPENING = "*_`(["
_UNSET_CLOSING = "*_`)]."


def parse_date(text: str) -> ParsedDate | None:
    """The date written in `text` (surrounding whitespace ignored), or None. Never raises."""
    stripped = text.strip()
    for order, pattern in _FORMS:
        match = pattern.fullmatch(stripped)
        parsed = _parsed(order, match, stripped) if match else None
        # Refusing what would not be written back as read ("1th", "May.", "mAy") is what
        # guarantees format_date(p.value, p.style) == p.text.
        if parsed and format_date(parsed.value, parsed.style) == stripped:
            return parsed
    return None


def parse_period(text: str) -> Period | None:
    """`start to end` (also through, thru, until, or a dash), each end in its own style.

    The order of the ends is not checked: that is a rule's business, not the parser's.
    """
    stripped = text.strip()
    # A date is at most _DATE_MAX characters: only separators that leave no more than that
    # before and after them (blanks aside) are tried, so no end is cut out of a long text
    # again and again.
    last_head = _blank_end(stripped, _DATE_MAX)
    first_tail = len(stripped) - _DATE_MAX
    while first_tail > 0 and stripped[first_tail - 1].isspace():
        first_tail -= 1
    for left, right in _separators(stripped):
        if left > last_head:
            break
        if right < first_tail:
            continue
        start = parse_date(stripped[:left])
        end = parse_date(stripped[right:])
        if start and end:
            return Period(start, end, stripped)
    return None


def _separators(text: str) -> Iterator[tuple[int, int]]:
    """Spans of the range separators in `text`, left to right, as `re.finditer` found them:
    blanks, a separator word or any dash, blanks; or an en or em dash, blanks optional."""
    position = 0
    while position < len(text):
        blanks = _blank_end(text, position)
        word = _SEPARATOR_WORD.match(text, blanks) if blanks > position else None
        after = _blank_end(text, word.end()) if word else position
        if word and after > word.end():
            yield position, after
            position = after
        elif blanks < len(text) and text[blanks] in _DASHES[1:]:
            yield position, _blank_end(text, blanks + 1)
            position = _blank_end(text, blanks + 1)
        else:
            # No separator starts anywhere in these blanks: each sees the same text after them.
            position = max(blanks, position + 1)


def _blank_end(text: str, position: int) -> int:
    """The first index from `position` on (capped at the end) that is not whitespace."""
    position = min(position, len(text))
    while position < len(text) and text[position].isspace():
        position += 1
    return position


def is_unset(text: str) -> bool:
    """True for a deliberately empty value: TBD, TBA, TBC, N/A, none, a dash, ? or nothing,
    also when wrapped in parentheses, brackets, emphasis or markdown escapes: `**(TBD)**`."""
    bare = text.replace("\\", "")
    start, end = 0, len(bare)
    while start < end and (bare[start].isspace() or bare[start] in _UNSET_OPENING):
        start += 1
    while end > start and (bare[end - 1].isspace() or bare[end - 1] in _UNSET_CLOSING):
        end -= 1
    return bare[start:end].casefold() in UNSET_WORDS


def format_date(value: date, style: DateStyle) -> str:
    if style.order == "iso":
        return f"{value.year:04d}-{value.month:02d}-{value.day:02d}"
    day = f"{value.day:02d}" if style.pad_day else str(value.day)
    if style.ordinal:
        day += _ordinal_suffix(value.day)
    comma = "," if style.comma else ""
    if style.order == "mdy":
        return f"{_month_name(value.month, style)} {day}{comma} {value.year:04d}"
    return f"{day} {_month_name(value.month, style)}{comma} {value.year:04d}"


def _parsed(order: Order, match: re.Match[str], text: str) -> ParsedDate | None:
    if order == "iso":
        value = _date(int(match["year"]), int(match["month"]), int(match["day"]))
        return ParsedDate(value, ISO_STYLE, text) if value else None
    month = _MONTHS.get(match["month"].casefold())
    if month is None:
        return None
    number, form = month
    value = _date(int(match["year"]), number, int(match["day"]))
    if value is None:
        return None
    abbreviated = form == "abbr"
    style = DateStyle(
        order=order,
        month=form,
        sept=abbreviated and match["month"].casefold() == "sept",
        dot=abbreviated and match["dot"] is not None,
        case=_case(match["month"]),
        pad_day=match["day"].startswith("0"),
        ordinal=match["suffix"] is not None,
        comma=match["comma"] is not None,
    )
    return ParsedDate(value, style, text)


def _month_name(month: int, style: DateStyle) -> str:
    full = _FULL[month - 1]
    if style.month == "full" or full == "May":
        name = full
    else:
        name = "Sept" if style.sept and month == 9 else full[:3]
        name += "." if style.dot else ""
    if style.case == "upper":
        return name.upper()
    return name.lower() if style.case == "lower" else name


def _case(word: str) -> Case:
    if word.isupper():
        return "upper"
    return "lower" if word.islower() else "title"


def _ordinal_suffix(day: int) -> str:
    if day in (11, 12, 13):
        return "th"
    return {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")


def _date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None
