"""Date parsing with style kept: corpus values, written forms, round trips, properties."""

from __future__ import annotations

import calendar
import re
from datetime import date
from itertools import product
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rapidvet.checks.dates import (
    DEFAULT_STYLE,
    DateStyle,
    ParsedDate,
    format_date,
    is_unset,
    parse_date,
    parse_period,
)
from tests.support.strategies import STYLES

_NAMES = [*calendar.month_name[1:], *calendar.month_abbr[1:], "Sept"]
_MONTH = "(?:" + "|".join(sorted(_NAMES, key=len, reverse=True)) + r")\.?"
_DAY = r"\d{1,2}(?:st|nd|rd|th)?"
# Month-name dates as people write them in prose, found independently of the parser's own regex.
PROSE_DATE = re.compile(rf"\b(?:{_MONTH} {_DAY},? \d{{4}}|{_DAY} {_MONTH},? \d{{4}})\b")


def table_cells(corpus: Path, key: str) -> list[str]:
    row = re.compile(rf"^\s*\|\s*{key}\s*\|(?P<value>.*?)\|\s*$", re.MULTILINE | re.IGNORECASE)
    return [
        m["value"].strip()
        for path in sorted((corpus / "vpmom").rglob("*.md"))
        for m in row.finditer(path.read_text(encoding="utf-8"))
    ]


def round_trips(parsed: ParsedDate | None) -> bool:
    return parsed is not None and format_date(parsed.value, parsed.style) == parsed.text


def test_corpus_periods(corpus: Path) -> None:
    cells = table_cells(corpus, "Period")
    assert len(cells) == 28
    expected = {
        "May 1, 2019 to Jan 31, 2020": (date(2019, 5, 1), date(2020, 1, 31)),
        "August 1, 2019 to Jan 31, 2020": (date(2019, 8, 1), date(2020, 1, 31)),
    }
    assert set(cells) == set(expected)
    for cell in cells:
        period = parse_period(cell)
        assert period is not None
        assert (period.start.value, period.end.value) == expected[cell]
        assert round_trips(period.start) and round_trips(period.end)


def test_corpus_vetted_dates(corpus: Path) -> None:
    cells = table_cells(corpus, "Vetted date")
    assert sorted(set(cells)) == ["May 1, 2019", "TBD"]
    assert len(cells) == 28
    for cell in cells:
        parsed = parse_date(cell)
        assert (parsed is None) == is_unset(cell)
        assert parsed is None or (parsed.value == date(2019, 5, 1) and round_trips(parsed))


def test_corpus_previous_version_link_texts(corpus: Path) -> None:
    texts = [
        m[1]
        for cell in table_cells(corpus, "Previous versions")
        for m in re.finditer(r"\[([^\]]*)\]", cell)
    ]
    assert len(texts) == 20
    assert all(
        parse_date(t) == ParsedDate(date(2019, 5, 1), DEFAULT_STYLE, "May 1, 2019") for t in texts
    )


def test_every_month_name_date_in_the_corpus(corpus: Path) -> None:
    texts = {
        m[0]
        for folder in ("vpmom", "handbook-head", "mentions-only")
        for path in (corpus / folder).rglob("*.md")
        for m in PROSE_DATE.finditer(path.read_text(encoding="utf-8"))
    }
    assert (
        len(texts) == 50
    )  # distinct forms, e.g. "16 April 2019", "July 14th, 2024", "Sept 1, 2020"
    unparsed = sorted(t for t in texts if not round_trips(parse_date(t)))
    assert unparsed == []


@pytest.mark.parametrize(
    ("text", "value", "style"),
    [
        ("May 1, 2019", date(2019, 5, 1), DEFAULT_STYLE),
        ("Jan 31, 2020", date(2020, 1, 31), DateStyle(month="abbr")),
        ("Jan. 31, 2020", date(2020, 1, 31), DateStyle(month="abbr", dot=True)),
        ("Sept 1, 2019", date(2019, 9, 1), DateStyle(month="abbr", sept=True)),
        ("Sep. 1, 2019", date(2019, 9, 1), DateStyle(month="abbr", dot=True)),
        ("Sept. 1, 2019", date(2019, 9, 1), DateStyle(month="abbr", sept=True, dot=True)),
        ("May 01, 2019", date(2019, 5, 1), DateStyle(pad_day=True)),
        ("May 1 2019", date(2019, 5, 1), DateStyle(comma=False)),
        ("July 14th, 2024", date(2024, 7, 14), DateStyle(ordinal=True)),
        ("August 6th 2021", date(2021, 8, 6), DateStyle(ordinal=True, comma=False)),
        ("1 May 2019", date(2019, 5, 1), DateStyle(order="dmy", comma=False)),
        ("16 April 2019", date(2019, 4, 16), DateStyle(order="dmy", comma=False)),
        ("1st May, 2019", date(2019, 5, 1), DateStyle(order="dmy", ordinal=True)),
        ("22nd Feb 2020", date(2020, 2, 22), DateStyle("dmy", "abbr", ordinal=True, comma=False)),
        ("2019-05-01", date(2019, 5, 1), DateStyle(order="iso")),
        ("AUGUST 1, 2019", date(2019, 8, 1), DateStyle(case="upper")),
        ("aug 1, 2019", date(2019, 8, 1), DateStyle(month="abbr", case="lower")),
        ("Feb 29, 2020", date(2020, 2, 29), DateStyle(month="abbr")),
        ("  May 1, 2019 ", date(2019, 5, 1), DEFAULT_STYLE),
    ],
)
def test_written_forms(text: str, value: date, style: DateStyle) -> None:
    assert parse_date(text) == ParsedDate(value, style, text.strip())
    assert format_date(value, style) == text.strip()


@pytest.mark.parametrize(
    "text",
    [
        "Feb 30, 2020",  # not in the calendar
        "Feb 29, 2019",
        "May 32, 2019",
        "0000-01-01",
        "2019-5-1",
        "May. 1, 2019",  # May has no short form to end with a dot
        "June. 1, 2019",
        "Octt 1, 2019",
        "mAy 1, 2019",
        "1th May 2019",  # wrong ordinal: could not be written back as read
        "May 1,2019",
        "May  1, 2019",
        "May 1, 19",
        "May 2019",
        "5/27/2024",  # month/day order is ambiguous
        "TBD",
        "",
        "**May 1, 2019**",
        "May 1, 2019 to Jan 31, 2020",
        "Mayday 1, 2019",
    ],
)
def test_not_dates(text: str) -> None:
    assert parse_date(text) is None


@pytest.mark.parametrize(
    "text",
    [
        "TBD",
        "tba",
        "TBC",
        "N/A",
        "none",
        "-",
        "--",
        "\u2013",
        "\u2014",
        "?",
        "",
        "  ",
        "(TBD)",
        "**TBA**",
        "_TBD_",
        "TBD.",
        r"\-",
        "[TBD]",
    ],
)
def test_unset(text: str) -> None:
    assert is_unset(text)
    assert parse_date(text) is None


@pytest.mark.parametrize("text", ["May 1, 2019", "TBD - owner updates this", "soon", "0"])
def test_set(text: str) -> None:
    assert not is_unset(text)


@pytest.mark.parametrize(
    "separator",
    [
        " to ",
        " TO ",
        " through ",
        " thru ",
        " until ",
        " - ",
        " \u2013 ",
        "\u2013",
        " \u2014 ",
        "\u2014",
    ],
)
def test_period_separators(separator: str) -> None:
    text = f"August 1, 2019{separator}2020-01-31"
    period = parse_period(text)
    assert period is not None
    assert period.text == text
    assert period.start == ParsedDate(date(2019, 8, 1), DEFAULT_STYLE, "August 1, 2019")
    assert period.end == ParsedDate(date(2020, 1, 31), DateStyle(order="iso"), "2020-01-31")


def test_iso_period_with_spaced_hyphen() -> None:
    period = parse_period("2019-05-01 - 2020-01-31")
    assert period is not None
    assert (period.start.text, period.end.text) == ("2019-05-01", "2020-01-31")


@pytest.mark.parametrize(
    "text",
    [
        "TBD",
        "May 1, 2019",
        "May 1, 2019 to TBD",
        "2019-05-01-2020-01-31",  # a hyphen separates only with spaces around it
        "May 1 to Jan 31, 2020",  # the start needs its own year
        "May 1, 2019 and Jan 31, 2020",
        "",
    ],
)
def test_not_periods(text: str) -> None:
    assert parse_period(text) is None


def test_period_ends_are_not_ordered_by_the_parser() -> None:
    period = parse_period("Jan 31, 2020 to May 1, 2019")
    assert period is not None and period.start.value > period.end.value


@given(st.dates(), STYLES)
def test_round_trip(value: date, style: DateStyle) -> None:
    text = format_date(value, style)
    parsed = parse_date(text)
    assert parsed is not None
    assert parsed.value == value
    assert parsed.text == text
    assert format_date(parsed.value, parsed.style) == text


@given(st.dates().map(lambda d: d.replace(month=9, day=d.day % 9 + 1)), STYLES)
def test_september_recovers_the_whole_style(value: date, style: DateStyle) -> None:
    # Every style writes September 1-9 differently, so parsing loses nothing.
    parsed = parse_date(format_date(value, style))
    assert parsed is not None and parsed.style == style


def test_may_reads_as_full_style() -> None:
    parsed = parse_date(format_date(date(2019, 5, 1), DateStyle(month="abbr", dot=True)))
    assert parsed == ParsedDate(date(2019, 5, 1), DEFAULT_STYLE, "May 1, 2019")


@pytest.mark.parametrize(
    "style", [DateStyle(o, m) for o, m in product(["mdy", "dmy"], ["full", "abbr"])]
)
def test_format_uses_style_for_another_date(style: DateStyle) -> None:
    assert parse_date(format_date(date(2024, 12, 3), style)) == ParsedDate(
        date(2024, 12, 3), style, format_date(date(2024, 12, 3), style)
    )


@given(
    st.dates(),
    STYLES,
    st.dates(),
    STYLES,
    st.sampled_from([" to ", " - ", " \u2013 ", " through "]),
)
def test_period_of_any_two_dates(
    start: date, first: DateStyle, end: date, second: DateStyle, sep: str
) -> None:
    period = parse_period(format_date(start, first) + sep + format_date(end, second))
    assert period is not None
    assert (period.start.value, period.end.value) == (start, end)


@given(st.text())
def test_never_raises(text: str) -> None:
    parsed = parse_date(text)
    assert parsed is None or format_date(parsed.value, parsed.style) == parsed.text
    parse_period(text)
    is_unset(text)


@given(st.text(alphabet="MayJnuSept.0123456789 ,-stndrh", max_size=24))
def test_never_raises_on_date_like_text(text: str) -> None:
    parsed = parse_date(text)
    assert parsed is None or format_date(parsed.value, parsed.style) == parsed.text
    parse_period(text)
