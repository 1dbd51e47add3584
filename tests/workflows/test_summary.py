"""The "RAPID review" check run output."""

from __future__ import annotations

import pytest

from rapidvet.workflows.decision import decide
from rapidvet.workflows.summary import LIMIT, STATE_SYMBOLS, fit
from tests.support.review_builders import AUTHOR, changed, config, request, review, rule

PAIR = config(rule(D="@dee", A="@amy"))


def table_rows(summary):
    return [line for line in summary.splitlines() if line.startswith("| ") and ":--" not in line][
        1:
    ]


@pytest.mark.parametrize(
    ("cfg", "reviews", "block", "title"),
    [
        (PAIR, ["dee", "amy"], changed(), "All 2 required RAPID approvals are in"),
        (PAIR, ["dee"], changed(), "1 of 2 required RAPID approvals"),
        (PAIR, [("amy", "CHANGES_REQUESTED")], changed(), "Vetoed by @amy"),
        (PAIR, [], changed(rapid="@x(D), @amy(A)"), "1 finding to fix before approvals can count"),
        (config(), [], changed(), "No RAPID approvals required"),
    ],
    ids=["success", "pending", "vetoed", "finding", "neutral"],
)
def test_title(cfg, reviews, block, title):
    given = [review(*r) if isinstance(r, tuple) else review(r) for r in reviews]
    assert decide(request(cfg, [block], given)).title == title


def test_role_table_shows_holder_state_and_the_deciding_review():
    cfg = config(rule(D="IJT", A="@amy", I="@ivy"), aliases={"IJT": "@ianjt"})
    approval = review("ianjt", minute=5)
    summary = decide(request(cfg, [changed()], [approval])).summary
    assert "| Block | Role | Holder | State | By |" in summary
    d_row, a_row, i_row = table_rows(summary)
    assert d_row == (
        "| FY21 Ops VPMOM (`ops/plan.md:1`, modified) | D | IJT (@ianjt) | "
        f"{STATE_SYMBOLS['approved']} approved | @ianjt (approved), 2024-05-01 09:05 UTC, "
        f"review {approval.id} on `c-head` |"
    )
    assert a_row.startswith("|  | A | @amy | ⏳ waiting |")  # the block is named once
    assert "⚪ not required" in i_row
    assert "**Review requested from:** @amy" in summary
    assert "**Input requested from (not blocking):** @ivy" in summary


def test_table_cells_escape_pipes_and_team_rows_name_who_is_missing():
    cfg = config(rule(D="@dee", A="@acme/mlt"), team_approval="all")
    block = changed("FY21 Ops | Infra VPMOM")
    decision = decide(request(cfg, [block], [review("mo")], teams={"mlt": ["mo", "max"]}))
    d_row, a_row = table_rows(decision.summary)
    assert d_row.startswith("| FY21 Ops \\| Infra VPMOM")
    assert a_row.endswith("| ⏳ waiting | waiting on @max |")
    assert "**Review requested from:** @dee, team mlt" in decision.summary


def test_an_authorship_approval_says_so():
    cfg = config(rule(D=f"@{AUTHOR}"), author_can_satisfy=True)
    [row] = table_rows(decide(request(cfg, [changed()])).summary)
    assert row.endswith("| the author (policy.author_can_satisfy) |")


def test_text_lists_findings_unblocks_and_sources():
    block = changed(rapid="@dee(D), IJT(I)")
    text = decide(request(config(), [block])).text
    assert "### Findings" in text
    assert "- ⚠️ warning: " in text and "IJT (I) is not a handle" in text
    assert "(`ops/plan.md:4`)" in text  # where to fix it: the RAPID row
    assert (
        "- **@dee**: D on FY21 Ops VPMOM (`ops/plan.md:1`, modified) — and would complete" in text
    )
    assert "D, I from the RAPID line at `ops/plan.md:4`" in text


def test_sources_name_the_config_entry():
    text = decide(request(PAIR, [changed()])).text
    assert "D, A from the `paths:` entry at `.github/rapid.yml:5`" in text


def test_fit_keeps_short_output_whole():
    assert fit(["a", "b"]) == "a\nb"


def test_fit_cuts_at_a_line_and_says_how_much_was_left_out():
    lines = [f"| row {n} | {'é' * 50} |" for n in range(100)]
    text = fit(lines, limit=2_000)
    assert len(text.encode()) <= 2_000
    kept, note = text.split("\n\n_… ")
    assert kept.splitlines() == lines[: len(kept.splitlines())]
    assert (
        note == f"{100 - len(kept.splitlines())} more lines not shown: GitHub limits this output._"
    )


def test_a_huge_decision_stays_within_the_limit():
    blocks = [changed(f"FY21 Team {n} {'x' * 200} VPMOM", path=f"ops/{n}.md") for n in range(400)]
    decision = decide(request(PAIR, blocks))
    for output in (decision.summary, decision.text):
        assert len(output.encode()) <= LIMIT
        assert output.endswith("more lines not shown: GitHub limits this output._")
