"""Each structural rule on a page made to break it, and the grading switches."""

from __future__ import annotations

from datetime import date

import pytest

from rapidvet.checks.model import Severity
from rapidvet.checks.options import CheckOptions
from rapidvet.checks.page import check_page
from rapidvet.checks.rules import RULES
from rapidvet.workflows.config_loader import load_config

TODAY = date(2020, 6, 1)
TABLE = (
    "|Period| {period} |\n|:---|:---|\n| RAPID | {rapid} |\n| Vetted date | {vetted} |\n"
    "| Previous versions | [May 1, 2019](https://example.com/v1) |\n"
)
SECTIONS = (
    "Vision\n- Be the best at one thing.\n\nPriorities\n- Focus\n\nMethods\n- Do it\n\n"
    "Obstacles\n- Time\n\nMeasures\n- 3 launches\n"
)


def page(
    *,
    title="FY20 Ops VPMOM",
    period="May 1, 2020 to Jan 31, 2021",
    rapid="IJT(D), MLT(R, A, P & I)",
    vetted="May 3, 2020",
    sections=SECTIONS,
    table=True,
):
    head = f"## {title}\n\n"
    meta = TABLE.format(period=period, rapid=rapid, vetted=vetted) + "\n" if table else ""
    return head + meta + sections


def rules(text, **opts):
    report = check_page(text, "ops.md", CheckOptions(today=TODAY, **opts))
    return [f.rule for f in report.findings]


def findings(text, rule_id, **opts):
    report = check_page(text, "ops.md", CheckOptions(today=TODAY, **opts))
    return [f for f in report.findings if f.rule == rule_id]


def test_clean_plan_has_no_findings():
    assert rules(page()) == []


def test_every_rule_has_an_id_severity_and_summary():
    assert len(RULES) >= 20
    for rule_id, rule in RULES.items():
        assert rule.id == rule_id and rule.summary and isinstance(rule.severity, Severity)


def test_section_missing_names_the_section_and_where_it_goes():
    text = page(sections="Vision\n- One.\n\nPriorities\n- p\n\nMethods\n- m\n\nMeasures\n- 1\n")
    (f,) = findings(text, "section-missing")
    assert f.severity == Severity.ERROR
    assert "Obstacles" in f.message and f.fix == "Add the Obstacles section after Methods"
    assert f.line == 1


def test_section_order():
    text = page(sections=SECTIONS.replace("Obstacles\n- Time\n\n", "") + "\nObstacles\n- t\n")
    (f,) = findings(text, "section-order")
    assert "Obstacles comes after Measures" in f.message
    assert text.split("\n")[f.line - 1] == "Obstacles"


def test_values_for_priorities_has_a_fix_on_the_label_line():
    text = page(sections=SECTIONS.replace("Priorities", "Values"))
    (f,) = findings(text, "values-for-priorities")
    assert f.fix == 'Rename "Values" to "Priorities"'
    assert text.split("\n")[f.line - 1] == "Values"
    assert (
        findings(
            page(title="FY20 Ops V2MOM", sections=SECTIONS.replace("Priorities", "Values")),
            "values-for-priorities",
        )
        == []
    )


def test_metadata_missing_and_rows_missing():
    (f,) = findings(page(table=False), "metadata-missing")
    assert "| RAPID |" in f.fix
    text = page().replace("| Vetted date | May 3, 2020 |\n", "")
    (row,) = findings(text, "metadata-row-missing")
    assert '"Vetted date"' in row.message and row.line == 3


def test_dates_unparseable_outside_period_stale_and_future():
    assert [f.line for f in findings(page(period="sometime"), "date-unparseable")] == [3]
    assert [f.line for f in findings(page(vetted="Mayday"), "date-unparseable")] == [6]
    assert findings(page(vetted="TBD"), "date-unparseable") == []
    assert len(findings(page(vetted="Apr 1, 2020"), "vetted-outside-period")) == 1
    stale = findings(page(vetted="May 3, 2019", period="May 1, 2019 to Jan 31, 2020"), "plan-stale")
    assert "vetted 395 days ago" in stale[0].message
    assert findings(page(vetted="May 3, 2019"), "plan-stale", stale_after_days=400) == []
    assert len(findings(page(vetted="Jul 1, 2020"), "vetted-in-future")) == 1


@pytest.mark.parametrize(
    ("rapid", "rule_id"),
    [
        ("IJT, MLT", "rapid-unparseable"),
        ("IJT(R), MLT(A)", "rapid-no-decider"),
        ("IJT(D), MLT(D, A)", "rapid-two-deciders"),
        ("IJT(D), MLT(X)", "rapid-unknown-role"),
        ("IJT(D), IJT(A)", "rapid-duplicate-holder"),
    ],
)
def test_rapid_line_problems(rapid, rule_id):
    (f,) = findings(page(rapid=rapid), rule_id)
    assert f.line == 5 and f.message.startswith("RAPID: ")


def test_unknown_alias_only_when_aliases_are_known():
    assert findings(page(), "rapid-unknown-alias") == []
    (f,) = findings(page(), "rapid-unknown-alias", aliases=frozenset({"IJT"}))
    assert '"MLT"' in f.message
    assert (
        findings(page(rapid="@jane(D), @org/team(A)"), "rapid-unknown-alias", aliases=frozenset())
        == []
    )


def test_placeholders_and_tba_titles():
    (f,) = findings("### FY20 R&D VPMOM (TBA)\n\nNew VPMOM to be added.\n", "placeholder")
    assert f.severity == Severity.WARNING and "placeholder" in f.message
    (g,) = findings(page(title="FY20 Ops VPMOM (TBA)"), "placeholder")
    assert g.fix == "Retitle it: FY20 Ops VPMOM"


def test_too_long_excludes_commentary():
    long_methods = "".join(f"- step {n}\n" for n in range(30))
    text = page(sections=SECTIONS.replace("- Do it\n", long_methods))
    assert findings(text, "too-long", one_page_lines=40)
    commentary = "\nCommentary\n" + "".join(f"- note {n}\n" for n in range(60))
    assert findings(page(sections=SECTIONS + commentary), "too-long", one_page_lines=40) == []


def test_commentary_not_last():
    text = page(sections="Commentary\n- c\n\n" + SECTIONS)
    assert len(findings(text, "commentary-not-last")) == 1


def test_vision_one_sentence_measures_numeric_and_empty_sections():
    two = page(sections=SECTIONS.replace("Be the best at one thing.", "Be best. Be kind."))
    assert len(findings(two, "vision-one-sentence")) == 1
    vague = page(sections=SECTIONS.replace("3 launches", "many launches"))
    assert len(findings(vague, "measures-numeric")) == 1
    empty = page(sections=SECTIONS.replace("Obstacles\n- Time\n", "Obstacles\n"))
    (f,) = findings(empty, "section-empty")
    assert f.message == "Obstacles section is empty"


def test_page_not_in_toc():
    assert rules(page()) == []
    assert rules(page(), toc=frozenset({"other.md"})) == ["page-not-in-toc"]
    assert rules(page(), toc=frozenset({"ops.md"})) == []
    assert rules("# Plain page\n", toc=frozenset()) == []


def test_a_page_over_the_size_limit_is_reported_not_parsed():
    text = page() + "é" * 300  # counted in UTF-8 bytes, not characters
    limit = len(text.encode()) - 1
    assert len(text) < limit
    report = check_page(text, "ops.md", CheckOptions(today=TODAY, max_page_bytes=limit))
    assert report.blocks == ()
    (f,) = report.findings
    assert (f.rule, f.severity, f.line) == ("page-too-large", Severity.ERROR, 1)
    assert f"{limit + 1:,} bytes" in f.message and f"{limit:,} bytes" in f.message
    assert "checks.max_page_bytes" in f.fix
    assert rules(text, max_page_bytes=limit + 1) == []


def nested(depth, marker="- "):
    return "".join(f"{'  ' * level}{marker}Priority {level}\n" for level in range(depth))


def test_a_page_nested_deeper_than_the_parser_reads_is_reported_not_parsed():
    deep = page(sections=SECTIONS.replace("- Focus\n", nested(10)))
    report = check_page(deep, "ops.md", CheckOptions(today=TODAY))
    assert report.blocks == ()
    (f,) = report.findings
    assert (f.rule, f.line) == ("page-too-large", 1)
    assert "nested 20 levels deep, deeper than the 19 levels" in f.message
    assert rules("> " * 21 + "x\n" + page()) == ["page-too-large"]
    assert rules("> " * 19 + "x\n\n" + page()) == []
    assert rules(page(sections=SECTIONS.replace("- Focus\n", nested(9)))) == []


def test_nesting_in_fenced_code_does_not_count():
    fenced = "```\n" + nested(30) + "```\n"
    assert rules(page(sections=SECTIONS + "\nCommentary\n\nAn example:\n\n" + fenced)) == []


def test_max_page_bytes_comes_from_rapid_yml():
    config = load_config("version: 1\nchecks:\n  max_page_bytes: 2000\n")
    assert config.check_options(TODAY).max_page_bytes == 2000
    assert load_config("version: 1\n").check_options(TODAY).max_page_bytes == 1_000_000


def test_rules_can_be_switched_off_and_regraded():
    text = page(sections=SECTIONS.replace("3 launches", "many launches"))
    assert findings(text, "measures-numeric", rules={"measures-numeric": "off"}) == []
    (f,) = findings(text, "measures-numeric", rules={"measures-numeric": "error"})
    assert f.severity == Severity.ERROR


def test_findings_carry_the_block_title():
    (f,) = findings(page(table=False), "metadata-missing")
    assert f.block == "FY20 Ops VPMOM"
