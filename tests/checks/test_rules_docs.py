"""Every rule is documented, its examples do what they say, and docs/rules.md is generated
from the same text; `rapidvet rules` prints it, through the real process."""

from __future__ import annotations

from datetime import date

import pytest

from rapidvet.checks.options import CheckOptions
from rapidvet.checks.page import check_page
from rapidvet.checks.rule_docs import RULE_DOCS
from rapidvet.checks.rules import RULES
from tests.support import ROOT
from tests.support.service import run_rapidvet as rapidvet

# Aliases known, so rapid-unknown-alias is checked.
OPTIONS = CheckOptions(today=date(2026, 6, 1), aliases=frozenset({"OPS"}))
BLOCK_RULES = [rule_id for rule_id, rule in RULES.items() if rule.check is not None]


def test_every_rule_has_docs() -> None:
    assert set(RULE_DOCS) == set(RULES)


@pytest.mark.parametrize("rule_id", BLOCK_RULES)
def test_the_bad_example_breaks_the_rule_and_the_good_one_passes(rule_id: str) -> None:
    doc = RULE_DOCS[rule_id]
    assert rule_id in {f.rule for f in check_page(doc.bad, "page.md", OPTIONS).findings}
    assert check_page(doc.good, "page.md", OPTIONS).findings == ()


def test_docs_rules_md_is_up_to_date() -> None:
    generated = rapidvet("rules", "--format", "markdown")
    assert generated.returncode == 0
    assert (ROOT / "docs" / "rules.md").read_text() == generated.stdout, (
        "regenerate it: rapidvet rules --format markdown > docs/rules.md"
    )


def test_rules_lists_every_rule_with_its_default_severity() -> None:
    proc = rapidvet("rules")
    rows = [line.split(maxsplit=2) for line in proc.stdout.splitlines()]
    assert [(rule_id, severity) for rule_id, severity, _ in rows] == [
        (rule.id, str(rule.severity)) for rule in RULES.values()
    ]
    assert all(why == RULE_DOCS[rule_id].why for rule_id, _, why in rows)


def test_rules_id_explains_one_with_examples() -> None:
    proc = rapidvet("rules", "measures-numeric")
    assert proc.returncode == 0
    assert proc.stdout.startswith("measures-numeric (warning by default): No measure has a num")
    assert "    - More plans vetted\n" in proc.stdout  # the bad example, indented
    assert proc.stdout.rstrip().endswith("docs/rules.md#measures-numeric")


def test_an_unknown_rule_is_one_line_exit_2() -> None:
    proc = rapidvet("rules", "measure-numeric")
    assert (proc.returncode, proc.stdout) == (2, "")
    assert proc.stderr == (
        "rapidvet: error: unknown rule 'measure-numeric'; did you mean 'measures-numeric'?\n"
    )
