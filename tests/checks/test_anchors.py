"""GitHub's heading anchors: one heading per case, then duplicates on one page."""

from __future__ import annotations

import gc
import time

import pytest

from rapidvet.checks.anchors import github_anchor, heading_anchors
from tests.test_linear_patterns import RATIO


@pytest.mark.parametrize(
    ("heading", "anchor"),
    [
        ("# FY27 Legal VPMOM", "fy27-legal-vpmom"),
        ("## FY20 Sales VPMOM (TBA)", "fy20-sales-vpmom-tba"),
        ("## R&D: plans, 2027!", "rd-plans-2027"),
        ("## snake_case and kebab-case", "snake_case-and-kebab-case"),
        ("## Two  spaces", "two--spaces"),  # each space is a hyphen, runs are not merged
        ("## Café déjà vu", "café-déjà-vu"),
        ("## Ünïcödé ÄÖÜ", "ünïcödé-äöü"),
        ("## Cafe\u0301 combining", "cafe\u0301-combining"),  # a mark stays
        ("## 日本語の計画", "日本語の計画"),
        ("## Ⅻ roman ² squared", "ⅻ-roman--squared"),  # Nl stays, No goes
        ("## “Quotes” — dashes \u2013 too", "quotes--dashes--too"),
        ("## Launch 🚀 plan", "launch--plan"),
        ("## 🚀 Launch", "-launch"),
        ("## [Ops team](https://example.com/ops) VPMOM", "ops-team-vpmom"),
        ("## `rapid.yml` owners", "rapidyml-owners"),
        ("## *Emphasis* and **strong** and ~~gone~~", "emphasis-and-strong-and-gone"),
        ("## ![logo](logo.png) Ops", "-ops"),  # an image shows no text
        ("## <span>Tagged</span> title", "tagged-title"),
        ("## AT&amp;T &lt;3", "att-3"),
        ("## Escaped \\*stars\\* and \\#hash", "escaped-stars-and-hash"),
        ("## Closing hashes ##", "closing-hashes"),
        ("Setext title\n============", "setext-title"),
        ("> ## Quoted heading", "quoted-heading"),
        ("- ## Heading in a list", "heading-in-a-list"),
    ],
)
def test_heading_anchor(heading, anchor):
    assert list(heading_anchors(heading + "\n").values()) == [anchor]


def test_duplicates_take_the_first_free_suffix_in_page_order():
    page = "# Plan\n\n## Plan\n\n### Plan-1\n\n## plan\n\n## \n\n## Other\n"
    assert heading_anchors(page) == {
        1: "plan",
        3: "plan-1",
        5: "plan-1-1",
        7: "plan-2",
        11: "other",
    }


def test_lines_count_front_matter_and_crlf_as_the_parser_does():
    page = "---\ntitle: # Not a heading\n---\r\n\r\n## FY27 Ops VPMOM\r\n"
    assert heading_anchors(page) == {5: "fy27-ops-vpmom"}


def test_github_anchor_on_rendered_text():
    assert github_anchor("Ops: FY27 / Legal") == "ops-fy27--legal"
    assert github_anchor("") == ""


def _cpu_seconds(page: str) -> float:
    """Best of three, garbage collection off: its passes over the growing token list add
    a superlinear share that is not the code's."""
    times = []
    gc.disable()
    try:
        for _ in range(3):
            start = time.process_time()
            heading_anchors(page)
            times.append(time.process_time() - start)
    finally:
        gc.enable()
    return min(times)


def test_a_page_of_equal_headings_costs_linear_time():
    # Each equal heading takes the next suffix: searching from -1 each time is quadratic.
    small, large = _cpu_seconds("# a\n" * 10_000), _cpu_seconds("# a\n" * 20_000)
    assert large <= RATIO * small, (small, large)
    assert heading_anchors("# a\n" * 3 + "# a-1\n")[4] == "a-1-1"
