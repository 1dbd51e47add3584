"""Fixes suggest the page's own values or <placeholders>, never a real-looking example."""

from __future__ import annotations

import re

import pytest

from rapidvet.checks.fix_templates import title_fiscal_year
from tests.checks.test_rules import findings, page, rules

# What a pasted example would bring in that the page does not hold: numbers (dates),
# upper-case initials (IJT, MLT) and @handles; `<...>` placeholders are none of these.
_INVENTED = re.compile(r"\d+|\b[A-Z]{2,}\b|@\w+")
_FIX_WORDS = {"RAPID", "HOLDER", "ROLES", "TBD"}
HANDLES = "@ops-lead(D), @acme/ops(R, A, P & I)"


@pytest.mark.parametrize(
    ("rule_id", "text"),
    [
        ("metadata-missing", page(title="Legal VPMOM", table=False)),
        (
            "metadata-row-missing",
            page(title="Legal VPMOM", rapid=HANDLES).replace("|Period|", "|Start|"),
        ),
        ("metadata-row-missing", page(title="Legal VPMOM", rapid=HANDLES).replace("RAPID", "Who")),
        ("date-unparseable", page(title="Legal VPMOM", period="soon", vetted="Mayday")),
        ("rapid-unparseable", page(title="Legal VPMOM", rapid="ops lead decides")),
        ("rapid-unknown-alias", page(title="Legal VPMOM", rapid="Ops(D), @acme/ops(A)")),
    ],
)
def test_fixes_invent_no_dates_initials_or_handles(rule_id, text):
    fixes = [f.fix or "" for f in findings(text, rule_id, aliases=frozenset())]
    assert fixes
    on_page = set(_INVENTED.findall(text)) | _FIX_WORDS
    for fix in fixes:
        assert set(_INVENTED.findall(fix)) - on_page == set(), fix


def test_a_missing_table_gets_the_period_of_the_title_fiscal_year_and_placeholders():
    (f,) = findings(page(title="FY27 Legal VPMOM", table=False), "metadata-missing")
    assert f.fix == (
        "Add under the title, filling in each <...>:\n"
        "| Period | Feb 1, 2026 to Jan 31, 2027 |\n"
        "|:---|:---|\n"
        "| RAPID | <Decider>(D), <team>(R, A, P & I) |\n"
        "| Vetted date | TBD |\n"
        "| Previous versions | |"
    )
    (g,) = findings(page(title="Legal VPMOM", table=False), "metadata-missing")
    assert "| Period | <start date> to <end date> |" in (g.fix or "")


@pytest.mark.parametrize(
    ("title", "failing"),
    [
        ("FY27 Legal VPMOM", {"rapid-unparseable"}),
        ("Legal VPMOM", {"rapid-unparseable", "date-unparseable"}),
    ],
)
def test_the_suggested_table_pasted_as_it_is_fails_until_filled_in(title, failing):
    bare = page(title=title, table=False)
    (f,) = findings(bare, "metadata-missing")
    table = (f.fix or "").split("\n", 1)[1]
    pasted = bare.replace(f"## {title}\n\n", f"## {title}\n\n{table}\n\n")
    assert set(rules(pasted)) == failing


@pytest.mark.parametrize(
    ("title", "year"),
    [
        ("FY27 Legal VPMOM", 2027),
        ("V2MOM FY 2021", 2021),
        ("FY20 MLT VPMOM (TBA)", 2020),
        ("Ops VPMOM (FY2027)", 2027),
        ("**fy19** Sales VPMOM", 2019),
        ("Legal VPMOM 2027", None),
        ("FYI VPMOM", None),
        ("FY VPMOM", None),
        ("FY202 VPMOM", None),
        ("FY\u0662\u0667 VPMOM", None),  # Arabic-Indic digits: digits, not a year to print
        ("Fy27 🚀 Legal VPMOM", 2027),
    ],
)
def test_title_fiscal_year(title, year):
    assert title_fiscal_year(title) == year
