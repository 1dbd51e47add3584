"""The single-pass readers that replaced backtracking regexes read exactly what the regexes
read: each is checked against the regex it replaced (kept here as the reference) on short
inputs drawn from the characters that matter to it."""

from __future__ import annotations

import re
from datetime import date

from hypothesis import example, given, settings
from hypothesis import strategies as st

from rapidvet.checks import dates, labels, parse, rapid_line, toc
from rapidvet.checks.options import DEFAULT_KINDS, CheckOptions
from rapidvet.checks.page import may_hold_plan
from rapidvet.workflows import previous_versions
from rapidvet.workflows.codeowners import _name
from rapidvet.workflows.roles import title_matches

EXAMPLES = settings(max_examples=300, deadline=None, derandomize=True)


def texts(pieces: list[str], max_size: int = 14) -> st.SearchStrategy[str]:
    return st.lists(st.sampled_from(pieces), max_size=max_size).map("".join)


def old_screens() -> tuple[re.Pattern[str], re.Pattern[str], re.Pattern[str]]:
    names = "|".join(re.escape(kind.name) for kind in DEFAULT_KINDS)
    firsts = "|".join(re.escape(kind.sections[0]) for kind in DEFAULT_KINDS)
    lasts = "|".join(re.escape(kind.sections[-1]) for kind in DEFAULT_KINDS)
    flags = re.IGNORECASE | re.MULTILINE
    titled = re.compile(
        rf"^[ \t]*(?:#{{1,6}}[ \t]|\*\*|__|\||<h[1-6]).*?(?:{names})"
        rf"|^[^\n]*(?:{names})[^\n]*\n[ \t]*(?:=+|-+)[ \t]*$",
        flags,
    )
    label = r"^[ \t]*(?:#{{1,6}}[ \t]+|[-*+>|][ \t]*|\*\*|__)*(?:{})\b"
    return titled, re.compile(label.format(firsts), flags), re.compile(label.format(lasts), flags)


MARKS = ["#", "###", "####", "# ", "*", "_", "-", "|", ">", " ", "\t", "<h2", "<H9", "=", "+"]
WORDS = ["VPMOM", "v2mom", "Vision", "Measures", "Visions", "x", "\r", ""]
LINES = st.tuples(texts(MARKS, 10), st.sampled_from(WORDS), texts(WORDS + MARKS, 4)).map("".join)


@EXAMPLES
@given(st.lists(LINES, max_size=5).map("\n".join))
@example("####### VPMOM")
@example("###### VPMOM")
@example("VPMOM\n \t===  ")
@example("x\n<H3 VPMOM")
@example("###### \t Vision\n####### Measures")
@example("#######  Vision\n* Measures")
@example("__ Vision\n- __Measures")
@example("-\t**_ Vision\n>|Measures")
def test_the_plan_screen_reads_as_its_regexes_did(text: str) -> None:
    titled, first, last = old_screens()
    old = bool(titled.search(text) or (first.search(text) and last.search(text)))
    assert may_hold_plan(text, CheckOptions(today=date(2020, 1, 1))) == old


TITLE_PIECES = [
    "(tba)",
    "(TBD)",
    "(wip)",
    "(draft)",
    "(fy 20)",
    "(12 %)",
    "(5%)",
    "fy2020",
    "FY 21",
]
TITLE_PIECES += ["plan", "Plans", "2021", "202", "1", " ", "\t", "VPMOM", "(", ")", "fy"]


@EXAMPLES
@given(texts(TITLE_PIECES))
def test_title_trailers_come_off_as_the_regex_took_them(text: str) -> None:
    old = re.compile(
        r"(\s*(\((tba|tbd|wip|draft|fy\s?\d{2,4}|\d{1,3}\s?%)\)|fy\s?\d{2,4}|plans?|\d{4}))+$",
        re.IGNORECASE,
    )
    assert labels._without_trailers(text) == old.sub("", text)


@EXAMPLES
@given(texts(["*", "_", "~", " ", "\n", "x", "\u00a0"]))
def test_emphasis_and_blanks_strip_as_the_layer_loop_did(text: str) -> None:
    previous, old = None, text.strip()
    while previous != old:
        previous = old
        old = old.lstrip("*_~").rstrip("*_~").strip()
    assert labels.plain(text) == old


@EXAMPLES
@given(texts(["tbd", "TBA", "to be added", "coming soon", " ", "\n", "\t", "x", "\u2028"]))
def test_placeholder_text_is_found_as_before(text: str) -> None:
    old = re.compile(
        r"\bto be added\b|^\s*(tbd|tba)\b|\bcoming soon\b", re.IGNORECASE | re.MULTILINE
    ).search(text)
    new = parse._PLACEHOLDER_BODY.search(text)
    assert (new and labels.plain(new[0])) == (old and labels.plain(old[0]))


@EXAMPLES
@given(texts(["*", "**", "_", "__", " ", "x", "\n"]))
def test_rapid_emphasis_peels_as_the_regex_did(text: str) -> None:
    old, emphasis = text.strip(), re.compile(r"(\*{1,3}|_{1,3})(?P<inner>.*)\1", re.DOTALL)
    while match := emphasis.fullmatch(old):
        old = match["inner"].strip()
    assert rapid_line._plain(text) == old


@EXAMPLES
@given(texts(["IJT", "@a", " ", "\t", "(", ")", "D, R", ".", "&", "é", "-", ",", "_"]))
@example("IJT x \t(D) ")
@example(" @ (D)")
@example("@a  (D, R)(")
def test_rapid_holders_read_as_the_regex_did(text: str) -> None:
    old = re.compile(r"\s*(?P<name>@?\w[\w .'/&+-]*?)\s*\((?P<roles>[^()]*)\)\s*").match(text)
    expected = (old["name"], old["roles"], old.end()) if old else None
    assert rapid_line._holder_at(text, 0) == expected


OLD_SEPARATOR = re.compile(
    r"\s+(?:to|through|thru|until|[-\u2013\u2014])\s+|\s*[\u2013\u2014]\s*", re.IGNORECASE
)
DATE_PIECES = ["May 1, 2020", "2020-01-31", "1 June 2021", " ", "\t", "to", "THRU", "through"]
DATE_PIECES += ["until", "-", "\u2013", "\u2014", "x", "Sept. 3rd 2020"]


@EXAMPLES
@given(texts(DATE_PIECES))
def test_period_separators_are_found_as_the_regex_found_them(text: str) -> None:
    assert list(dates._separators(text)) == [m.span() for m in OLD_SEPARATOR.finditer(text)]


@EXAMPLES
@given(texts(DATE_PIECES, 8), st.integers(0, 60), st.integers(0, 60))
def test_periods_parse_as_before_whatever_the_blanks(text: str, left: int, right: int) -> None:
    text = " " * left + text.replace(" ", " " * (left % 7 + 1)) + " " * right
    stripped = text.strip()
    old = None
    for separator in OLD_SEPARATOR.finditer(stripped):
        start = dates.parse_date(stripped[: separator.start()])
        end = dates.parse_date(stripped[separator.end() :])
        if start and end:
            old = dates.Period(start, end, stripped)
            break
    assert dates.parse_period(text) == old


def test_no_date_is_longer_than_the_period_reader_looks() -> None:
    longest = max(
        len(dates.format_date(date(2020, month, 28), style))
        for month in range(1, 13)
        for style in (dates.DateStyle(ordinal=True, pad_day=True), dates.DateStyle(order="dmy"))
    )
    assert longest < dates._DATE_MAX


@EXAMPLES
@given(texts(["*", "_", "`", "(", ")", "[", "]", ".", " ", "\\", "tbd", "N/A", "x", "\n"]))
def test_unset_values_are_told_as_before(text: str) -> None:
    decoration = re.compile(r"^[\s*_`(\[]+|[\s*_`)\].]+$")
    old = decoration.sub("", text.replace("\\", "")).casefold() in dates.UNSET_WORDS
    assert dates.is_unset(text) == old


def old_toc_glob(pattern: str) -> re.Pattern[str]:
    parts = []
    for part in re.findall(r"\*\*|\*|\?|\[!?[^\]]+\]|[^*?\[]+|\[", pattern):
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


@EXAMPLES
@given(texts(["*", "**", "?", "[", "]", "!", "a", "/", "b"], 8), texts(["a", "/", "b", "\n"], 8))
def test_toctree_globs_match_as_their_regexes_did(pattern: str, name: str) -> None:
    old = old_toc_glob(pattern).fullmatch(name) is not None
    assert toc._glob(pattern).fullmatch(name) == old


@EXAMPLES
@given(texts(["a", " ", "<", ">", "x y"]))
def test_explicit_toctree_titles_read_as_before(text: str) -> None:
    entry = text.strip()
    old = re.match(r"^(?P<title>.+?)\s*<(?P<target>.*?)>$", entry)
    assert toc._explicit_target(entry) == (old["target"] if old else None)


def old_codeowners_name(name: str) -> re.Pattern[str]:
    """The regex CODEOWNERS segments compiled to before."""
    chunks, previous, chars = [""], "", iter(name)
    for char in chars:
        if char == "*":
            if previous != "*":
                chunks.append("")
        elif char == "?":
            chunks[-1] += "."
        else:
            chunks[-1] += re.escape(next(chars) if char == "\\" else char)
        previous = char
    if len(chunks) == 1:
        return re.compile(chunks[0], re.DOTALL)
    first, *middle, last = chunks
    middles = "".join(f"(?>.*?{chunk})" for chunk in middle)
    return re.compile(f"{first}{middles}.*{last}", re.DOTALL)


@EXAMPLES
@given(texts(["*", "?", "a", "b", "\\*", "."], 8), texts(["a", "b", "*", ".", "\n"], 10))
def test_codeowners_names_match_as_their_regexes_did(pattern: str, name: str) -> None:
    if pattern == "*":  # a lone star is a whole segment, handled before any regex
        return
    assert _name(pattern).fullmatch(name) == bool(old_codeowners_name(pattern).fullmatch(name))


@EXAMPLES
@given(texts(["*", "?", "a", "b", " "], 8), texts(["a", "b", " "], 10))
def test_block_titles_match_as_their_regexes_did(pattern: str, title: str) -> None:
    from rapidvet.workflows.changes import normalized_title

    wanted, text = normalized_title(pattern), normalized_title(title)
    if any(char in wanted for char in "*?"):
        regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in wanted)
        assert title_matches(pattern, title) == bool(re.fullmatch(regex, text, re.DOTALL))


def old_closing(text: str, i: int, opening: str, closing: str) -> int | None:
    depth = 0
    while i < len(text):
        if text[i] == "\\":
            i += 2
            continue
        depth += text[i] == opening
        if text[i] == closing:
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return None


@EXAMPLES
@given(texts(["[", "]", "(", ")", "\\", "x", "!"], 16))
def test_brackets_close_where_the_rescan_closed_them(text: str) -> None:
    closings, i = previous_versions._closings(text), 0
    while i < len(text):  # every place the entries scan can stand, as it steps
        pair = {"[": "]", "(": ")"}.get(text[i])
        if pair:
            assert closings.get(i) == old_closing(text, i, text[i], pair)
        i += 2 if text[i] == "\\" else 1


@EXAMPLES
@given(texts(["http://x", "(", ")", ".", ",", "!", "y"]))
def test_urls_lose_the_same_trailing_punctuation(text: str) -> None:
    old = text
    while old and (old[-1] in ".,;:!?" or (old[-1] == ")" and old.count(")") > old.count("("))):
        old = old[:-1]
    assert previous_versions._url(text) == old
