"""The plan screen and the nesting count look only at the lines that can matter; these tests
hold them to the answers of looking at every line."""

from __future__ import annotations

import tracemalloc
from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from rapidvet.checks import labels, page
from rapidvet.checks.nesting import line_depth, nesting_depth
from rapidvet.checks.options import DEFAULT_KINDS, CheckOptions, Kind

OPTIONS = CheckOptions(today=date(2021, 6, 1))
# A kind whose words are not ASCII, so its screen cannot search the page's lower case.
EQUIPE = Kind("ÉQUIPE", ("vision", "résultats"))


def every_line_screen(text: str, options: CheckOptions) -> bool:
    """The screen as it was: every line tried as a title, then as a label."""
    screen = page._screen(tuple(options.kinds))
    lines = text.split("\n")
    if any(page._titled(lines, number, screen.names) for number in range(len(lines))):
        return True
    return any(page._labelled(line, screen.firsts) for line in lines) and any(
        page._labelled(line, screen.lasts) for line in lines
    )


def test_the_screen_answers_as_every_line_would_on_the_corpus(corpus):
    pages = [p for p in sorted(corpus.rglob("*")) if p.suffix == ".md"]
    passed = 0
    for path in pages:
        text = path.read_text(encoding="utf-8", errors="replace")
        assert page.may_hold_plan(text, OPTIONS) == every_line_screen(text, OPTIONS), path
        passed += page.may_hold_plan(text, OPTIONS)
    assert 0 < passed < len(pages)


# Words of titles and labels in every case, the characters that fold to ASCII letters
# (dotted and dotless i, long s, the Kelvin sign) and the marks titles and labels start with.
PIECE = st.sampled_from(
    [
        "VPMOM",
        "vpmom",
        "V2mom",
        "Vision",
        "VISION",
        "visions",
        "Measures",
        "measuresx",
        "Values",
        "ÉQUIPE",
        "équipe",
        "résultats",
        "RÉSULTATS",
        "v\u0131sion",
        "VİSION",
        "mea\u017fures",
        "\u212a",
        "# ",
        "## ",
        "**",
        "__",
        "- ",
        "> ",
        "| ",
        "<h2>",
        "===",
        "---",
        " ",
        "\n",
        "text",
    ]
)
TEXT = st.lists(PIECE, max_size=30).map("".join)
KINDS = st.sampled_from([DEFAULT_KINDS, (*DEFAULT_KINDS, EQUIPE)])


@settings(max_examples=1000, deadline=None)
@given(TEXT, KINDS)
def test_the_screen_answers_as_every_line_would(text, kinds):
    options = CheckOptions(today=date(2021, 6, 1), kinds=kinds)
    assert page.may_hold_plan(text, options) == every_line_screen(text, options)


def every_line_depth(text: str) -> int:
    """The nesting count as it was: every line outside fences measured."""
    deepest, fence = 0, ""
    for line in text.splitlines():
        stripped = line.lstrip(" ")
        if fence:
            fence = "" if stripped.startswith(fence) else fence
        elif stripped.startswith(("```", "~~~")):
            fence = stripped[:3]
        else:
            deepest = max(deepest, line_depth(line))
    return deepest


LINE = st.lists(st.sampled_from([" ", "\t", ">", "-", "*", "+", "1.", "12)", "a", "`", "~"]))


@settings(max_examples=1000, deadline=None)
@given(st.lists(LINE.map("".join), max_size=12).map("\n".join), st.integers(0, 24))
def test_the_nesting_count_is_that_of_every_line_above_its_floor(text, floor):
    assert nesting_depth(text, floor) == max(floor, every_line_depth(text))


def every_line_labels(lines: list[str], kinds: tuple[Kind, ...]) -> list[tuple[int, str]]:
    """The label index as it was: every line short enough bared and named."""
    found = []
    for number, line in enumerate(lines):
        bare = labels.LabelIndex._bare(line) if len(line) <= 2 * labels.LABEL_MAX else ""
        name = labels.label_name(labels._LABEL_END.split(bare, maxsplit=1)[0], kinds)
        if bare and name:
            found.append((number, name))
    return found


# Labels in every case and markup, split by the marks `plain` takes out of a line's middle.
LABEL_PIECE = st.sampled_from(
    [
        "Vision",
        "MEASURES",
        "metrics",
        "Methods & Measures",
        "methods &amp; measures",
        "Vis",
        "ion",
        "[Vis](x)ion",
        "[",
        "](u)",
        "<b>",
        "</b>",
        "\\",
        "&amp;",
        "&",
        "mea\u017fures",
        "résultats",
        "**",
        "_",
        "- ",
        "1. ",
        "> ",
        "| ",
        "# ",
        ":",
        " ",
        "\n",
        "x" * 50,
        "R&amp;D",
        "r&d",
        "Key\\-Results",
        "Vis<i></i>ion",
    ]
)
# A kind with sections an entity or an escape can spell.
LAB = Kind("LAB", ("goals", "r&d", "key-results"))


@settings(max_examples=1500, deadline=None)
@given(st.lists(LABEL_PIECE, max_size=30).map("".join), st.sampled_from([DEFAULT_KINDS, (LAB,)]))
def test_the_label_index_holds_what_every_line_would(text, kinds):
    lines = text.split("\n")
    index = labels.LabelIndex(lines, kinds)
    assert list(zip(index.lines, index.names, strict=True)) == every_line_labels(lines, kinds)


def test_the_label_index_holds_what_every_line_would_on_the_corpus(corpus):
    for path in sorted(corpus.rglob("*.md")):
        lines = path.read_text(encoding="utf-8", errors="replace").split("\n")
        index = labels.LabelIndex(lines, DEFAULT_KINDS)
        found = list(zip(index.lines, index.names, strict=True))
        assert found == every_line_labels(lines, DEFAULT_KINDS), path


def test_the_label_index_holds_no_more_than_a_few_copies_of_a_page_of_markup():
    """A page of a million `[` holds a million places of markup, but only 1 000 lines."""
    lines = ["[" * 999] * 1_000
    tracemalloc.start()
    try:
        index = labels.LabelIndex(lines, DEFAULT_KINDS)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert index.lines == []
    assert peak < 4 * len("\n".join(lines)), peak  # the page joined, in lower case, and sets
