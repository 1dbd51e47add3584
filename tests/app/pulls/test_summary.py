"""The evaluation summary's codec: what the writer stores reads back equal, in the JSON shape
stored summaries have, and summaries stored by the first releases still read."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from rapidvet.app.pulls.inputs import PullInfo
from rapidvet.app.pulls.summary import Summary, SummaryFinding, SummaryRow, stored
from rapidvet.app.store.records import EVALUATION, pull_key
from rapidvet.app.store.sqlite import SqliteStore
from rapidvet.checks.model import Finding, Severity
from rapidvet.workflows.decision import decide
from tests.support.review_builders import (
    AUTHOR,
    BASE,
    HEAD,
    PATH,
    changed,
    config,
    request,
    review,
    rule,
)

REPO = "acme/handbook"
PULL = PullInfo(
    REPO, 7, AUTHOR, HEAD, BASE, "main", f"https://github.example/{REPO}/pull/7", False, None, None
)
# Every key summary_json wrote when the summary was last an untyped dict, a list's items
# under the list's key: the shape stored summaries have and earlier releases read.
STORED_KEYS = {
    "head_sha",
    "conclusion",
    "title",
    "pull",
    *(f"pull.{k}" for k in ("number", "url", "author", "base_sha", "base_ref")),
    "blocks",
    *(f"blocks.{k}" for k in ("path", "title", "line", "end_line", "change")),
    "rows",
    *(
        f"rows.{k}"
        for k in (
            "path",
            "block",
            "line",
            "role",
            "holder",
            "handle",
            "required",
            "state",
            "reviewer",
            "review",
            "by_author",
            "waiting_on",
        )
    ),
    *(f"rows.review.{k}" for k in ("id", "user", "state", "submitted_at", "commit")),
    "unblocks",
    *(f"unblocks.{k}" for k in ("reviewer", "handle", "completes", "rows")),
    *(f"unblocks.rows.{k}" for k in ("path", "block", "role")),
    "findings",
    *(f"findings.{k}" for k in ("path", "line", "end_line", "rule", "severity", "message", "fix")),
    "notes",
    *(f"notes.{k}" for k in ("code", "severity", "message", "path", "line")),
}
# A summary as the first release stored it: no pull request, title, blocks, unblocks or
# notes; rows without handle, review, required, by_author, waiting_on; findings without
# end_line and fix.
FIRST_RELEASE = {
    "head_sha": HEAD,
    "conclusion": "pending",
    "rows": [
        {
            "path": PATH,
            "block": "FY21 Ops VPMOM",
            "line": 1,
            "role": "D",
            "holder": "@dee",
            "state": "waiting",
            "reviewer": None,
        }
    ],
    "findings": [
        {
            "path": PATH,
            "line": 4,
            "rule": "section-missing",
            "severity": "error",
            "message": "VPMOM plan has no Obstacles section",
        }
    ],
}


def judged_summary() -> Summary:
    """A summary with every part filled: a review, a team member still to approve, an
    approval that unblocks, a note (the unowned sales plan) and a finding."""
    cfg = config(rule("ops/**", D="@dee", A="@acme/leads"), team_approval="all")
    blocks = [changed(), changed("FY21 Sales VPMOM", path="sales/plan.md")]
    decision = decide(
        request(cfg, blocks, [review("dee"), review("lee")], teams={"leads": ["lee", "lou"]})
    )
    finding = Finding("section-missing", Severity.ERROR, "no Obstacles", 4, 9, "Add it")
    return Summary.of(PULL, decision, blocks, [(PATH, finding)])


def key_paths(value: Any, prefix: str = "") -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield f"{prefix}{key}"
            yield from key_paths(item, f"{prefix}{key}.")
    elif isinstance(value, list):
        for item in value:
            yield from key_paths(item, prefix)


def test_every_part_of_the_summary_is_filled() -> None:
    summary = judged_summary()
    assert summary.pull is not None and summary.title
    assert summary.blocks and summary.unblocks and summary.notes and summary.findings
    assert any(row.review for row in summary.rows)
    assert any(row.waiting_on == ("lou",) for row in summary.rows)


def test_a_summary_reads_back_equal_from_the_store() -> None:
    summary = judged_summary()
    store = SqliteStore(":memory:")
    store.migrate()
    EVALUATION.put(store, pull_key(REPO, 7), summary.to_json())
    assert stored(store, REPO, 7) == summary
    assert stored(store, REPO, 8) is None
    store.close()


def test_the_stored_json_keeps_the_keys_stored_summaries_have() -> None:
    assert set(key_paths(judged_summary().to_json())) == STORED_KEYS


def test_a_summary_of_the_first_release_reads_with_the_defaults() -> None:
    summary = Summary.from_json(FIRST_RELEASE)
    assert summary == Summary(
        head_sha=HEAD,
        conclusion="pending",
        rows=(SummaryRow(PATH, "FY21 Ops VPMOM", 1, "D", "@dee", "waiting", None),),
        findings=(
            SummaryFinding(
                PATH, 4, "section-missing", "error", "VPMOM plan has no Obstacles section"
            ),
        ),
    )
    [row] = summary.rows
    assert (row.handle, row.required, row.review, row.by_author, row.waiting_on) == (
        None,
        True,
        None,
        False,
        (),
    )
    assert (summary.title, summary.pull, summary.blocks, summary.unblocks, summary.notes) == (
        "",
        None,
        (),
        (),
        (),
    )
    # Written again, it has no pull request rather than a null one, and reads back the same.
    assert "pull" not in summary.to_json()
    assert Summary.from_json(summary.to_json()) == summary
