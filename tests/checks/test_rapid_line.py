"""RAPID line parser: corpus lines, written variants, every problem code, properties."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rapidvet.checks.rapid_line import (
    PROBLEM_CODES,
    ROLE_ORDER,
    RapidHolder,
    RapidLine,
    format_rapid_line,
    parse_rapid_line,
)

H = RapidHolder
RAPID_ROW = re.compile(r"^\s*\|\s*RAPID\s*\|(?P<value>.*)\|\s*$", re.MULTILINE)

# The three RAPID lines the corpus holds (README "RAPID values"), with what they mean.
CORPUS_LINES = {
    "IJT(D), MLT(R, A, P & I)": (H("IJT", ("D",)), H("MLT", ("R", "A", "P", "I"))),
    "AS(D), MLT(R, A, P & I)": (H("AS", ("D",)), H("MLT", ("R", "A", "P", "I"))),
    "IJT(R, D), MLT (A, P & I)": (H("IJT", ("R", "D")), H("MLT", ("A", "P", "I"))),
}


def codes(line: RapidLine) -> list[str]:
    return [p.code for p in line.problems]


def corpus_rapid_cells(corpus: Path) -> list[str]:
    return [
        m["value"].strip()
        for path in sorted((corpus / "vpmom").rglob("*.md"))
        for m in RAPID_ROW.finditer(path.read_text(encoding="utf-8"))
    ]


def test_every_corpus_rapid_cell_parses_to_its_holders(corpus: Path) -> None:
    cells = corpus_rapid_cells(corpus)
    assert len(cells) == 28  # 11 + 9 + 8 rows: grep -rhE "^\s*\|\s*RAPID\s*\|" vpmom
    assert set(cells) == set(CORPUS_LINES)
    for cell in cells:
        line = parse_rapid_line(cell)
        assert line.errors == ()
        assert line.holders == CORPUS_LINES[cell]
        assert line.decider in {"IJT", "AS"}


@pytest.mark.parametrize(("text", "holders"), CORPUS_LINES.items())
def test_corpus_forms(text: str, holders: tuple[RapidHolder, ...]) -> None:
    line = parse_rapid_line(text)
    assert (line.holders, line.errors, line.problems) == (holders, (), ())
    assert line.text == text


@pytest.mark.parametrize(
    ("text", "holders"),
    [
        ("@jane(D), @org/team(A & I)", (H("@jane", ("D",)), H("@org/team", ("A", "I")))),
        (r"IJT\(D\), MLT\(R, A, P &amp; I\)", CORPUS_LINES["IJT(D), MLT(R, A, P & I)"]),
        ("**IJT(D), MLT(R, A, P & I)**", CORPUS_LINES["IJT(D), MLT(R, A, P & I)"]),
        ("_IJT(D), MLT(R, A, P & I)_", CORPUS_LINES["IJT(D), MLT(R, A, P & I)"]),
        ("  IJT ( D ) ,MLT( R,A,P&I )  ", CORPUS_LINES["IJT(D), MLT(R, A, P & I)"]),
        ("IJT(R and D) and MLT(A P I)", (H("IJT", ("R", "D")), H("MLT", ("A", "P", "I")))),
        ("IJT(D); MLT(I/P)", (H("IJT", ("D",)), H("MLT", ("P", "I")))),
        ("IJT(d) & MLT(r, a)", (H("IJT", ("D",)), H("MLT", ("R", "A")))),
        ("IJT(Decide), MLT(Agree, Input)", (H("IJT", ("D",)), H("MLT", ("A", "I")))),
        (
            "Sales Ops(A), M&M(I), J.R.(D)",
            (H("Sales Ops", ("A",)), H("M&M", ("I",)), H("J.R.", ("D",))),
        ),
        ("IJT(D, R, D)", (H("IJT", ("R", "D")),)),
    ],
)
def test_written_variants(text: str, holders: tuple[RapidHolder, ...]) -> None:
    line = parse_rapid_line(text)
    assert line.errors == ()
    assert line.holders == holders


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "the RAPID line is empty: expected HOLDER(ROLES)"),
        ("TBD", 'cannot read "TBD": expected HOLDER(ROLES)'),
        ("IJT(D), MLT(R, A", 'cannot read "MLT(R, A": expected HOLDER(ROLES)'),
        ("IJT D", 'cannot read "IJT D"'),
        ("(D), MLT(A)", 'cannot read "(D), MLT(A)"'),
        ("IJT(D), , MLT(A)", 'cannot read ", MLT(A)"'),
    ],
)
def test_unparseable_names_the_unread_part(text: str, message: str) -> None:
    line = parse_rapid_line(text)
    assert codes(line) == ["unparseable"]
    assert message in line.errors[0]
    assert "<Decider>(D), <team>(R, A, P & I)" in line.errors[0]  # the form, no real names
    assert line.holders == ()


def test_no_decider() -> None:
    line = parse_rapid_line("IJT(R), MLT(A, P & I)")
    assert codes(line) == ["no-decider"]
    assert line.errors == ("no holder has D (Decide); exactly one must",)
    assert line.decider is None


def test_two_deciders_are_named() -> None:
    line = parse_rapid_line("IJT(D), AS(D, A)")
    assert codes(line) == ["two-deciders"]
    assert line.errors == ("IJT and AS both have D (Decide); exactly one holder may decide",)
    assert line.decider is None
    assert line.holders_with("D") == ("IJT", "AS")


def test_three_deciders_are_named() -> None:
    line = parse_rapid_line("IJT(D), AS(D), MLT(D)")
    assert line.errors == ("IJT, AS and MLT all have D (Decide); exactly one holder may decide",)


def test_unknown_role_names_letter_holder_and_allowed_roles() -> None:
    line = parse_rapid_line("IJT(D), MLT(R, X)")
    assert codes(line) == ["unknown-role"]
    assert line.errors == ('"X" given to MLT is not a RAPID role; use R, A, P, I or D',)
    assert line.holders == (H("IJT", ("D",)), H("MLT", ("R",)))


def test_letters_run_together_are_one_unknown_role() -> None:
    line = parse_rapid_line("IJT(D), MLT(RAPI)")
    assert codes(line) == ["unknown-role"]
    assert '"RAPI" given to MLT' in line.errors[0]


def test_empty_roles() -> None:
    line = parse_rapid_line("IJT(D), MLT( )")
    assert codes(line) == ["empty-roles"]
    assert line.errors == (
        "MLT has no roles between the parentheses; give at least one of R, A, P, I or D",
    )
    assert line.holders == (H("IJT", ("D",)), H("MLT", ()))


def test_duplicate_holder_roles_are_merged_and_reported() -> None:
    line = parse_rapid_line("IJT(D), MLT(A), ijt(R)")
    assert codes(line) == ["duplicate-holder"]
    assert line.errors == (
        "ijt is listed more than once; list each holder once with all its roles",
    )
    assert line.holders == (H("IJT", ("R", "D")), H("MLT", ("A",)))
    assert line.decider == "IJT"


def test_problems_accumulate_in_reading_order() -> None:
    line = parse_rapid_line("A(X), B(), A(R)")
    assert codes(line) == ["unknown-role", "empty-roles", "duplicate-holder", "no-decider"]
    assert line.errors == tuple(p.message for p in line.problems)


def test_every_problem_code_is_produced() -> None:
    texts = ["?", "A(R)", "A(D), B(D)", "A(D, Q)", "A(D), B()", "A(D), a(R)"]
    produced = {p.code for text in texts for p in parse_rapid_line(text).problems}
    assert produced == set(PROBLEM_CODES)


def test_decider_and_holders_with() -> None:
    line = parse_rapid_line("IJT(R, D), MLT (A, P & I), @cfo(I)")
    assert line.decider == "IJT"
    assert line.holders_with("I") == ("MLT", "@cfo")
    assert line.holders_with("a") == ("MLT",)
    assert line.holders_with("R") == ("IJT",)


@pytest.mark.parametrize(
    ("holders", "text"),
    [
        (CORPUS_LINES["IJT(D), MLT(R, A, P & I)"], "IJT(D), MLT(R, A, P & I)"),
        (CORPUS_LINES["IJT(R, D), MLT (A, P & I)"], "IJT(R, D), MLT(A, P & I)"),
        ((H("@org/team", ("R", "A", "P", "I", "D")),), "@org/team(R, A, P, I & D)"),
        ((), ""),
    ],
)
def test_format_is_canonical(holders: tuple[RapidHolder, ...], text: str) -> None:
    assert format_rapid_line(holders) == text


NAMES = st.from_regex(r"@?[A-Za-z][A-Za-z0-9]{0,5}(/[a-z][a-z-]{0,5})?", fullmatch=True)
ROLES = st.sets(st.sampled_from(ROLE_ORDER), min_size=1).map(
    lambda roles: tuple(r for r in ROLE_ORDER if r in roles)
)
HOLDERS = st.lists(
    st.builds(RapidHolder, NAMES, ROLES), max_size=6, unique_by=lambda h: h.name.casefold()
)


@given(HOLDERS.filter(bool))
def test_formatted_holders_parse_back(holders: list[RapidHolder]) -> None:
    line = parse_rapid_line(format_rapid_line(holders))
    assert line.holders == tuple(holders)
    assert {p.code for p in line.problems} <= {"no-decider", "two-deciders"}
    assert (line.decider is not None) == (len(line.holders_with("D")) == 1)


@given(st.text())
def test_never_raises_on_any_text(text: str) -> None:
    line = parse_rapid_line(text)
    assert len(line.errors) == len(line.problems)
    assert {p.code for p in line.problems} <= set(PROBLEM_CODES)


@given(st.text(alphabet="IJTMLRAPD@/()\\,&;* _x and", max_size=40))
def test_never_raises_on_near_grammar_text(text: str) -> None:
    line = parse_rapid_line(text)
    assert bool(line.problems) or line.decider is not None
