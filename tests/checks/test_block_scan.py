"""The block scanner against markdown-it-py, the reference: wherever the scanner reads a page,
its blocks, and the plans, sections, metadata cells and findings made from them, are those
of markdown-it-py's parse. On every corpus page, two synthetic handbooks and generated
plan-shaped pages."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rapidvet.checks import parse
from rapidvet.checks.block_scan import RawBlock, scan_blocks
from rapidvet.checks.options import CheckOptions
from rapidvet.checks.page import PageReport, check_page
from rapidvet.checks.parse import blank_front_matter
from rapidvet.checks.reference_blocks import reference_blocks
from tests.support.bench_scripts import load_bench_script

OPTIONS = CheckOptions(today=date(2021, 6, 1))
SYNTH = load_bench_script("synth_handbook")


def source_of(text: str) -> str:
    """The text both parsers are given, as parse_blocks prepares it."""
    return blank_front_matter(text.replace("\r\n", "\n").replace("\r", "\n"))


def reference_report(text: str, monkeypatch: pytest.MonkeyPatch) -> PageReport:
    """check_page with every page parsed by markdown-it-py."""
    with monkeypatch.context() as patched:
        patched.setattr(parse, "scan_blocks", lambda source: None)
        return check_page(text, "page.md", OPTIONS)


def assert_same_as_reference(text: str, monkeypatch: pytest.MonkeyPatch) -> bool:
    """Whether the scanner read the page; where it did, its blocks and the report made from
    them are markdown-it-py's."""
    source = source_of(text)
    scanned = scan_blocks(source)
    if scanned is not None:
        assert scanned == reference_blocks(source)
    assert check_page(text, "page.md", OPTIONS) == reference_report(text, monkeypatch)
    return scanned is not None


def pages_under(root: Path) -> Iterator[Path]:
    return (path for path in sorted(root.rglob("*")) if path.suffix in (".md", ".rst"))


def test_every_corpus_page_scans_as_markdown_it_parses_it(corpus, monkeypatch):
    read = total = 0
    for path in pages_under(corpus):
        text = path.read_text(encoding="utf-8", errors="replace")
        read += assert_same_as_reference(text, monkeypatch)
        total += 1
    assert total > 500
    assert read >= 0.8 * total  # the scanner reads most pages, or it is not worth its code


@pytest.mark.parametrize(
    "mix",
    [SYNTH.Mix(), SYNTH.Mix(plan=0.25, near_miss=0.75)],
    ids=["default-mix", "plan-heavy"],
)
def test_every_synthetic_page_scans_as_markdown_it_parses_it(tmp_path, monkeypatch, mix):
    SYNTH.write_handbook(tmp_path, 160, seed=18, mix=mix)
    pages = list(pages_under(tmp_path))
    read = sum(assert_same_as_reference(p.read_text(encoding="utf-8"), monkeypatch) for p in pages)
    assert read >= 0.9 * len(pages)


# Plan-shaped markdown: plan titles, labels, metadata rows, list items at every indent,
# tables, fences, rules and setext underlines, HTML and quotes, lazy lines, with the
# markers and blanks that decide where markdown blocks begin and end.
TEXT = st.sampled_from(
    [
        "FY21 MLT VPMOM",
        "V2MOM (TBA)",
        "Vision",
        "**Vision**",
        "Vision:",
        "Priorities",
        "Values",
        "Methods: ship it",
        "Obstacles",
        "Measures",
        "Commentary",
        "Period",
        "RAPID",
        "Vetted date",
        "TBD",
        "text and more text.",
        "[a link](x.md)",
        "a | b",
        r"a \| b",
        "`x | y`",
        "#",
        "*",
        "-",
        "1.",
        "===",
        "<b>",
        "x\u00a0",
    ]
)
MARK = st.sampled_from(
    [
        "",
        "# ",
        "## ",
        "#### ",
        "####### ",
        "#x ",
        "- ",
        "* ",
        "+ ",
        "-",
        "1. ",
        "2) ",
        "10. ",
        "> ",
        ">",
        "| ",
        "**",
        "__",
        "[x]: ",
        "<details>",
        "</summary> ",
        "<div ",
        "<p>",
        "<!-- ",
        "<pre>",
        "<span> ",
    ]
)
INDENT = st.sampled_from(["", "", "", " ", "  ", "   ", "    ", "     ", "      ", "\t"])
WHOLE_LINE = st.sampled_from(
    [
        "",
        "",
        "   ",
        "---",
        "***",
        "- - -",
        "___",
        "===",
        "--",
        "|---|---|",
        "| --- | :-: |",
        "---|---",
        ":-|-:",
        "|-",
        "- |",
        "```",
        "```py",
        "``` x`y",
        "~~~",
        "````",
        "    ```",
        "-",
        "1.",
        "2.",
        "*",
        "| Period | FY21 |",
        "| RAPID | AB(D), CD(R, A) |",
        "| Vetted date | 2021-01-01 |",
    ]
)
LINE = st.one_of(
    WHOLE_LINE,
    st.builds(
        lambda indent, mark, words: indent + mark + " ".join(words),
        INDENT,
        MARK,
        st.lists(TEXT, max_size=3),
    ),
)
PAGE = st.builds(
    lambda lines, newline: "\n".join(lines) + newline,
    st.lists(LINE, max_size=40),
    st.sampled_from(["", "\n", "\n\n", "  "]),
)


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(PAGE)
def test_generated_plan_pages_scan_as_markdown_it_parses_them(page):
    with pytest.MonkeyPatch.context() as monkeypatch:
        assert_same_as_reference(page, monkeypatch)


@pytest.mark.parametrize(
    "page",
    [
        "- a\nlazy\n- b\n\n  c\n",  # a lazy line, then an item's second paragraph
        "Vision\n1. one\n2. two\n",  # an ordered list from 1 ends a paragraph
        "Vision\n2. two\n",  # one from 2 does not
        "text\n---\n",  # a setext heading, not a rule
        "text\n***\n",  # a rule ends the paragraph
        "text\n| a | b |\n|---|---|\n| c |\n",  # a table ends a paragraph
        "| a | b |\n|---|\n",  # header and delimiter disagree: a paragraph
        "- # Vision\n  - item\n",  # an item opening with a heading, nested list
        "-\n\n  foo\n",  # an empty item, then a blank: the list ends
        "```\ncode\n   ",  # an unclosed fence at a source end without a newline
        "- ```\n  x\n```\n",  # a fence in an item, closed past the item
        "<details>\n<summary>Vision</summary>\n\n- a\n",  # a block tag: HTML to the blank
        "> **Note:** text\n\nafter\n",  # a quote of its own
        "1. a\n   1. b\n      1. c\n         1. d\n",  # lists four deep
        "Title\n===\n\n## FY21 VPMOM\n\n| Period | x |\n|:-|:-|\n| RAPID | A(D) |\n",
    ],
)
def test_the_scanner_reads_these_pages_as_markdown_it_does(page, monkeypatch):
    assert assert_same_as_reference(page, monkeypatch)


@pytest.mark.parametrize(
    "page",
    [
        "a\tb\n",  # a tab
        "    indented code\n",
        "> quote\nlazy\n",  # a quote's lazy line
        "<pre>\nx\n",  # HTML that ends at its closing tag
        "[x]: /url\n",  # a link reference definition
        "- a\n  - b\n    - c\n      - d\n        - e\n",  # lists five deep
        "- > quote in a list\n",
    ],
)
def test_the_scanner_hands_these_pages_to_markdown_it(page, monkeypatch):
    assert scan_blocks(source_of(page)) is None
    assert_same_as_reference(page, monkeypatch)


def test_list_items_carry_their_first_paragraph_at_every_depth():
    assert scan_blocks("- Vision: see\n  more\n  - nested\n- # Heading\n-\n") == [
        RawBlock(
            "list",
            0,
            5,
            items=((0, "Vision: see\nmore"), (2, "nested"), (3, "Heading"), (4, "")),
        )
    ]
