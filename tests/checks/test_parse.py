"""The block parser on small hand-written pages, one shape per test, plus fuzzing."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rapidvet.checks.options import DEFAULT_KINDS, Kind
from rapidvet.checks.parse import parse_blocks, split_cells, title_kind

PLAN = """\
# Team page

## FY21 Support VPMOM

|Period| May 1, 2020 to Jan 31, 2021|
|:---|:---|
| RAPID | AB(D), SLT(R, A, P & I) |
| Vetted date | May 3, 2020|
|Previous versions | [May 1, 2019](https://example.com/old) |
| Internal version | https://example.com/internal |

#### Vision
- Answer every customer within a day

#### Priorities
- Speed
- Accuracy

#### Methods
- Staff a rota

#### Obstacles
- Time zones

#### Measures
- 95% of tickets answered in 24h

## Next topic
Text.
"""


def names(block):
    return [s.name for s in block.sections]


def test_heading_plan_with_metadata_table():
    (block,) = parse_blocks(PLAN)
    assert block.title == "FY21 Support VPMOM"
    assert block.kind == "VPMOM"
    assert (block.line, block.end_line, block.heading_level) == (3, 26, 2)
    assert names(block) == ["vision", "priorities", "methods", "obstacles", "measures"]
    assert [r.key for r in block.metadata] == [
        "Period",
        "RAPID",
        "Vetted date",
        "Previous versions",
        "Internal version",
    ]
    assert block.row("rapid").value == "AB(D), SLT(R, A, P & I)"
    assert block.row("RAPID").line == 7
    priorities = block.section("priorities")
    assert [(i.text, i.line) for i in priorities.items] == [("Speed", 16), ("Accuracy", 17)]
    assert block.table_line == 5
    assert block.placeholder is None


def test_metadata_offsets_point_at_the_value_in_the_source_line():
    (block,) = parse_blocks(PLAN)
    lines = PLAN.split("\n")
    for row in block.metadata:
        assert lines[row.line - 1][row.value_start : row.value_end] == row.value


def test_plain_bold_and_colon_labels():
    page = (
        "### Ops V2MOM\n\n**Vision**\n\nOne line.\n\nValues:\n* Care\n* Speed\n\n"
        "Methods\n1. First\n1. Second\n\nObstacles: budget\n\n__Measures__\n- 3 launches\n"
    )
    (block,) = parse_blocks(page)
    assert block.kind == "V2MOM"
    assert names(block) == ["vision", "values", "methods", "obstacles", "measures"]
    assert [i.text for i in block.section("methods").items] == ["First", "Second"]
    assert [i.text for i in block.section("obstacles").items] == ["budget"]
    assert block.section("vision").items[0].line == 5


def test_sections_as_pipe_table_rows_with_br_items():
    page = (
        "## Content V2MOM\n\n|   | Content V2MOM |\n|---|---|\n| Vision | Tell stories |\n"
        "| Values | Care |\n| Methods | * one<br>* two |\n| Obstacles | * x |\n"
        "| Metrics | * 6 posts |\n"
    )
    (block,) = parse_blocks(page)
    assert names(block) == ["vision", "values", "methods", "obstacles", "measures"]
    assert [i.text for i in block.section("methods").items] == ["one", "two"]
    assert block.section("measures").label == "Metrics"


def test_sections_in_an_html_table():
    rows = "".join(
        f'<tr>\n<td style="text-align:left">{n}</td>\n<td>\n<ul>\n<li>{n} item</li>\n</ul>\n'
        "</td>\n</tr>\n"
        for n in ("Vision", "Priorities", "Methods", "Obstacles", "Measures")
    )
    page = f"#### FY20 X VPMOM\n\nIntro.\n\n<table>\n<tbody>\n{rows}</tbody>\n</table>\n"
    (block,) = parse_blocks(page)
    assert names(block) == ["vision", "priorities", "methods", "obstacles", "measures"]
    vision = block.section("vision")
    assert vision.items[0].text == "Vision item"
    assert page.split("\n")[vision.items[0].line - 1] == "<li>Vision item</li>"


def test_front_matter_is_not_a_heading_and_keeps_line_numbers():
    page = "---\ndescription: VPMOM 10% complete\n---\n\n# VPMOM\n\nVision\n- v\n\nMethods\n- m\n"
    (block,) = parse_blocks(page)
    assert block.line == 5
    assert names(block) == ["vision", "methods"]


def test_placeholders():
    page = (
        "### FY20 R&D VPMOM (TBA)\n\nNew VPMOM to be added. See [doc](x).\n\n"
        "## FY20 Finance VPMOM \\(TBA\\)\n\n- [a link](y)\n\n"
        "**FY20 Staff VPMOM \\(TBA\\)**\n\n#### QBR VPMOM\n\nTBD\n\n# V2MOMs\n"
    )
    blocks = parse_blocks(page)
    assert [(b.title, b.placeholder) for b in blocks] == [
        ("FY20 R&D VPMOM (TBA)", "to be added"),
        ("FY20 Finance VPMOM (TBA)", "(TBA)"),
        ("FY20 Staff VPMOM (TBA)", "(TBA)"),
        ("QBR VPMOM", "TBD"),
        ("V2MOMs", "empty"),
    ]
    assert blocks[2].heading_level == 7


def test_tba_title_with_a_filled_plan_is_a_plan():
    page = "### FY20 Sales VPMOM (TBA)\n\nVision\n- v\n\nValues\n- a\n\nMethods\n- m\n"
    (block,) = parse_blocks(page)
    assert block.placeholder is None
    assert names(block) == ["vision", "values", "methods"]


def test_mentions_review_orders_teaching_and_templates_are_not_blocks():
    page = (
        "# How to VPMOM\n\nVPMOMs align teams.\n\n### MLT VPMOM Review Process\n\n"
        "Use the following order to review VPMOMs:\n\n- Measures\n- Priorities\n- Vision\n"
        "- Obstacles\n- Methods\n\n## Company V2MOM Metrics\n\nSee the board.\n\n"
        "# VPMOM Template\n\n```\n# [TITLE] VPMOM Plan ([INITIALS OF DRI])\n\nVision\n- x\n"
        "Priorities\n- y\n```\n\n# VPMOM\n\nVPMOM is an exercise in alignment.\n\n"
        "- Vision: one sentence\n- Priorities: ranked list\n- Methods: actions\n"
    )
    assert parse_blocks(page) == ()


def test_a_draft_with_one_section_is_a_plan_of_any_kind():
    okr = Kind("OKR", ("objective", "key results"))
    page = (
        "## FY27 Legal VPMOM\n\n#### Vision\n\nShip without surprises.\n\n"
        "## Q3 OKR\n\nObjective\n- grow\n\n## FY27 Notes VPMOM\n\nCommentary\n- later\n"
    )
    blocks = parse_blocks(page, (*DEFAULT_KINDS, okr))
    assert [(b.title, b.kind, names(b), b.placeholder) for b in blocks] == [
        ("FY27 Legal VPMOM", "VPMOM", ["vision"], None),
        ("Q3 OKR", "OKR", ["objective"], None),
    ]


def test_kind_heading_followed_by_prose_only_is_not_a_block():
    assert parse_blocks("### Draft Company and Department V2MOMs\n\n- CEO meets heads\n") == ()


def test_several_blocks_and_nesting_end_spans():
    page = (
        "# FY20 VPMOMs\n\nAll plans.\n\n## FY20 A VPMOM\n\nVision\n- a\n\nMethods\n- b\n\n"
        "## FY20 B VPMOM (TBA)\n\nTBD\n\n## Other\n\ntext\n"
    )
    blocks = parse_blocks(page)
    assert [(b.title, b.line, b.end_line) for b in blocks] == [
        ("FY20 A VPMOM", 5, 11),
        ("FY20 B VPMOM (TBA)", 13, 15),
    ]


def test_headless_plan_under_another_heading():
    page = (
        "# Hiring\n\n## Vision\n\nHire well.\n\n## Values\n\n1. Bar\n\n## Methods\n\n1. Train\n\n"
        "## Obstacles\n\n1. Time\n\n## Measures\n\n1. 90 days\n\n# Other\n"
    )
    (block,) = parse_blocks(page)
    assert block.title == "Hiring"
    assert block.kind == "V2MOM"
    assert block.end_line == 21


def test_merged_methods_and_measures_and_commentary():
    page = "## X VPMOM\n\nVision\n- v\n\nMethods & Measures\n- 3 things\n\nCommentary\n- c\n"
    (block,) = parse_blocks(page)
    assert names(block) == ["vision", "methods & measures", "commentary"]


def test_configured_kind():
    okr = Kind("OKR", ("objective", "key results"))
    page = "## Q3 OKR\n\nObjective\n- grow\n\nKey results\n- 10 deals\n"
    (block,) = parse_blocks(page, (*DEFAULT_KINDS, okr))
    assert block.kind == "OKR"
    assert names(block) == ["objective", "key results"]


def test_title_kinds():
    for title in (
        "FY20 MLT VPMOM",
        "V2MOM FY 2021",
        "FY20 VPMOMs",
        "Business Operations VPMOM (FY20)",
        "How to VPMOM (90%)",
        "VPMOM Example",
        "MLT VPMOM Review Process",
    ):
        found = title_kind(title, DEFAULT_KINDS)
        expected = not title.startswith(("How", "VPMOM Example", "MLT VPMOM Review"))
        assert (found is not None) == expected, title


def test_split_cells_keeps_escaped_pipes_and_code():
    line = "| a \\| b | `x|y` |  |"
    assert [c[1] for c in split_cells(line)] == ["a \\| b", "`x|y`", ""]


def test_crlf_input():
    (block,) = parse_blocks(PLAN.replace("\n", "\r\n"))
    assert block.line == 3


MARKDOWN_LINE = st.one_of(
    st.builds(lambda n, t: "#" * n + " " + t, st.integers(1, 7), st.text(max_size=30)),
    st.builds(lambda a, b: f"| {a} | {b} |", st.text(max_size=20), st.text(max_size=20)),
    st.just("|:---|:---|"),
    st.builds(
        lambda m, t: f"{m} {t}", st.sampled_from(["-", "*", "1.", "  -", ">"]), st.text(max_size=30)
    ),
    st.sampled_from(
        [
            "Vision",
            "**Priorities**",
            "Methods:",
            "Obstacles",
            "Measures",
            "## FY20 X VPMOM",
            "V2MOM (TBA)",
            "```",
            "<table><tr><td>Vision</td>",
            "---",
            "",
            "TBD",
            "RAPID",
        ]
    ),
    st.text(max_size=40),
)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(MARKDOWN_LINE, max_size=40))
def test_parser_never_raises_on_generated_markdown(lines):
    for block in parse_blocks("\n".join(lines)):
        assert 1 <= block.line <= block.end_line


@settings(max_examples=300)
@given(st.text())
def test_parser_never_raises_on_arbitrary_text(text):
    parse_blocks(text)


def test_a_metadata_row_of_a_lone_pipe_is_skipped():
    page = "## FY20 Ops VPMOM\n\n| Period | x |\n|:---|:---|\n| RAPID | **Measures**\n |\n"
    (block,) = parse_blocks(page)
    assert [row.key for row in block.metadata] == ["Period", "RAPID"]
