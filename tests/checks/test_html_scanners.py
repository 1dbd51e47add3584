"""The linear scanners of checks.html give what the regexes they replace gave.

The regexes are the oracle here only: on short texts their backtracking is harmless.
"""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from rapidvet.checks.html import html_cells, html_items, links_as_text, without_tags
from rapidvet.checks.parse import bold_line

CELL = re.compile(r"<t[dh][^>]*>\s*(?:<[^>]+>\s*)*([^<]*?)\s*(?:<[^>]+>\s*)*</t[dh]>", re.I)
ITEM = re.compile(r"<li[^>]*>(.*?)</li>", re.IGNORECASE | re.DOTALL)
TAG = re.compile(r"<[^>]+>")
LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
BOLD = re.compile(r"^\s*(\*\*|__)(?P<t>.+?)\1\s*:?\s*$")

# Whole tags and single characters, so the generated texts hit every branch of the regexes.
PIECES = [
    "<td>",
    "<TH x>",
    "</td>",
    "</th>",
    "<li>",
    "</LI>",
    "<b>",
    "</b>",
    "<>",
    "<",
    ">",
    "[",
    "]",
    "(",
    ")",
    "!",
    "**",
    "__",
    "*",
    "_",
    ":",
    " ",
    "\n",
    "\t",
    "a",
    "é",
    "\u00a0",
]
texts = st.lists(st.sampled_from(PIECES), max_size=30).map("".join)


@settings(max_examples=1000)
@given(texts)
def test_cells_are_the_regex_matches(text: str) -> None:
    expected = [(m.group(1), m.start(), m.end()) for m in CELL.finditer(text)]
    assert [(c.text, c.start, c.end) for c in html_cells(text)] == expected


@settings(max_examples=1000)
@given(texts)
def test_items_tags_and_links_are_the_regex_results(text: str) -> None:
    assert list(html_items(text)) == [(m.start(), m.group(1)) for m in ITEM.finditer(text)]
    assert without_tags(text) == TAG.sub("", text)
    assert links_as_text(text) == LINK.sub(r"\1", text)


@settings(max_examples=1000)
@given(texts.map(lambda text: text.replace("\n", "")))
def test_bold_line_is_the_regex_match(text: str) -> None:
    match = BOLD.match(text)
    assert bold_line(text) == (match.group("t") if match else None)
