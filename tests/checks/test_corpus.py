"""The parser and rules on every page of the real handbook corpus (read in place)."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pytest

from rapidvet.checks.dates import is_unset, parse_date, parse_period
from rapidvet.checks.model import Severity
from rapidvet.checks.options import CheckOptions
from rapidvet.checks.page import check_page
from rapidvet.checks.parse import parse_blocks
from rapidvet.checks.rapid_line import parse_rapid_line

OPTIONS = CheckOptions(today=date(2020, 1, 1))


def manifest(corpus: Path) -> list[dict[str, str]]:
    with open(corpus / "MANIFEST.tsv", encoding="utf-8") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def test_blocks_agree_with_the_manifest(corpus):
    rows = manifest(corpus)
    assert len(rows) == 166
    wrong = []
    for row in rows:
        blocks = parse_blocks((corpus / row["file"]).read_text(encoding="utf-8"))
        low = int(row["plans"]) + int(row["placeholders"])
        high = low + int(row["examples"]) + int(row["headless_plan"])
        with_sections = sum(1 for b in blocks if len({s.name for s in b.sections}) >= 3)
        if not low <= len(blocks) <= high or with_sections < int(row["plans"]):
            wrong.append(f"{row['file']}: {len(blocks)} blocks, expected {low}..{high}")
    assert wrong == []


def test_mentions_and_negatives_hold_no_block_and_no_error(corpus):
    files = sorted((corpus / "mentions-only").rglob("*")) + sorted(
        (corpus / "negatives").rglob("*")
    )
    files = [f for f in files if f.is_file()]
    assert len(files) == 45
    for file in files:
        report = check_page(file.read_text(encoding="utf-8"), file.name, OPTIONS)
        assert report.blocks == (), file
        assert [f for f in report.findings if f.severity == Severity.ERROR] == [], file


def test_metadata_and_rapid_parse_for_every_real_plan(corpus):
    tables = 0
    for file in sorted((corpus / "vpmom").rglob("*.md")):
        for block in parse_blocks(file.read_text(encoding="utf-8")):
            if not block.metadata:
                continue
            tables += 1
            period, rapid, vetted = (
                block.row("period"),
                block.row("rapid"),
                block.row("vetted date"),
            )
            assert period and parse_period(period.value), (file, block.title)
            assert rapid and parse_rapid_line(rapid.value).errors == (), (file, rapid.value)
            assert parse_rapid_line(rapid.value).decider in ("IJT", "AS")
            assert vetted and (parse_date(vetted.value) or is_unset(vetted.value)), file
    assert tables >= 14


def test_plans_with_tables_are_clean_of_metadata_errors(corpus):
    file = next((corpus / "vpmom" / "handbook-1").glob("source__sop__operations.md@b077a14d.md"))
    report = check_page(file.read_text(encoding="utf-8"), "source/sop/operations.md", OPTIONS)
    mlt = next(b for b in report.blocks if b.title == "FY20 MLT VPMOM")
    assert mlt.row("rapid").value == "IJT(D), MLT(R, A, P & I)"
    rules = {f.rule for f in report.findings if f.block == "FY20 MLT VPMOM"}
    assert not rules & {
        "metadata-missing",
        "metadata-row-missing",
        "date-unparseable",
        "rapid-unparseable",
        "rapid-no-decider",
        "section-missing",
    }
    sales = {f.rule for f in report.findings if f.block == "FY20 Sales VPMOM (TBA)"}
    assert "values-for-priorities" in sales


@pytest.mark.parametrize("today", [date(2019, 6, 1), date(2026, 11, 23)])
def test_every_corpus_page_checks_without_raising(corpus, today):
    options = CheckOptions(today=today)
    for file in sorted(corpus.rglob("*.md")):
        check_page(file.read_text(encoding="utf-8", errors="replace"), file.name, options)


def test_the_cheap_screen_never_drops_a_page_with_a_plan(corpus):
    from rapidvet.checks.page import may_hold_plan

    screened = 0
    for file in sorted(corpus.rglob("*.md")):
        text = file.read_text(encoding="utf-8")
        if parse_blocks(text):
            assert may_hold_plan(text, OPTIONS), file
        screened += not may_hold_plan(text, OPTIONS)
    assert screened > 250  # most ordinary pages are skipped without a parse
