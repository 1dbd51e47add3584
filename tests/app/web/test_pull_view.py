"""The view model of the pull request details page: blocks, roles, unblocks and findings with
their links on GitHub, the timeline as lines, and summaries stored by earlier releases."""

from __future__ import annotations

from datetime import UTC, date, datetime

from rapidvet.app.handbook.rapid_yml import ConfigRead
from rapidvet.app.pulls.evaluation import judge, summary
from rapidvet.app.pulls.inputs import PullInfo, PullInputs
from rapidvet.app.pulls.summary import Summary
from rapidvet.app.web.pages.pull_view import pull_details
from rapidvet.workflows.config_loader import load_config
from rapidvet.workflows.reviews import Review
from tests.support.e2e import CONFIG, PLAN, PLAN_PATH

WEB = "https://github.example"
REPO = "acme/handbook"
TODAY = date(2026, 11, 23)
HEAD, BASE = "a" * 40, "b" * 40


def evaluated_summary() -> Summary:
    """The stored summary of a pull request that drops the plan's Obstacles, approved by its D."""
    edited = PLAN.replace("#### Obstacles\n- Procedures that live only in people's heads\n\n", "")
    pull = PullInfo(
        REPO, 12, "author", HEAD, BASE, "main", f"{WEB}/{REPO}/pull/12", False, None, None
    )
    reviewed = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
    snapshot = PullInputs(
        pull=pull,
        config=ConfigRead(".github/rapid.yml", load_config(CONFIG)),
        head_config=None,
        files={PLAN_PATH: (PLAN, edited)},
        reviews=[Review(77, "dee", "APPROVED", reviewed, HEAD)],
        texts_at={HEAD: {PLAN_PATH: edited}},
        teams={"leads": frozenset({"lee", "lou"})},
    )
    return summary(judge(snapshot, TODAY, datetime.now(UTC)))


def test_pull_details_show_blocks_roles_unblocks_findings_and_the_timeline():
    events = [
        {
            "at": "1",
            "kind": "delivery",
            "event": "pull_request",
            "action": "opened",
            "delivery": "g",
        },
        {
            "at": "2",
            "kind": "evaluation",
            "head_sha": HEAD,
            "conclusion": "pending",
            "title": "1 of 2 required RAPID approvals",
        },
        {
            "at": "3",
            "kind": "check_run",
            "name": "RAPID review",
            "id": 5,
            "conclusion": "action_required",
            "url": f"{WEB}/{REPO}/runs/5",
            "action": "created",
        },
        {"at": "4", "kind": "reviewers_requested", "users": ["dee"], "teams": ["leads"]},
        {"at": "5", "kind": "merge_commit", "sha": "c" * 40, "url": f"{WEB}/{REPO}/commit/c"},
        {"at": "6", "kind": "merge_comment", "id": 9, "url": f"{WEB}/{REPO}/pull/12#c9"},
    ]
    view = pull_details(REPO, 12, evaluated_summary(), events, web_url=WEB)
    assert (view["status"], view["http_status"], view["number"]) == ("ok", 200, 12)
    assert (
        view["url"] == f"{WEB}/{REPO}/pull/12" and view["head_url"] == f"{WEB}/{REPO}/commit/{HEAD}"
    )
    [block] = view["blocks"]
    assert (block["path"], block["title"], block["change"]) == (
        PLAN_PATH,
        "FY27 Ops VPMOM",
        "modified",
    )
    blob = f"{WEB}/{REPO}/blob/{HEAD}/{PLAN_PATH}"
    assert block["url"] == f"{blob}#L{block['start']}-L{block['end']}"

    roles = {(r["role"], r["holder"]): r for r in view["roles"]}
    decider = roles["D", "DEE"]
    assert (decider["state"], decider["reviewer"], decider["handle"]) == ("approved", "dee", "@dee")
    assert decider["reviewed_at"] == "2026-11-20T09:30:00+00:00"
    assert decider["review_url"] == f"{WEB}/{REPO}/pull/12#pullrequestreview-77"
    assert decider["avatar_url"] == f"{WEB}/dee.png?size=40"
    assert decider["profile_url"] == f"{WEB}/dee"
    leads = roles["A", "LEADS"]
    assert (leads["state"], leads["review_url"], leads["required"]) == ("waiting", None, True)
    assert leads["avatar_url"] == f"{WEB}/acme.png?size=40"  # a team shows its organization's
    assert leads["profile_url"] == f"{WEB}/orgs/acme/teams/leads"
    assert roles["I", "@ivy"]["state"] == "not required"

    assert view["unblocks"], "someone's approval unblocks the missing A"
    for unblock in view["unblocks"]:
        assert unblock["satisfies"] == [{"path": PLAN_PATH, "block": "FY27 Ops VPMOM", "role": "A"}]
        assert unblock["avatar_url"].startswith(f"{WEB}/")
    missing = next(f for f in view["findings"] if f["rule"] == "section-missing")
    assert missing["url"].startswith(f"{blob}#L{missing['line']}")
    assert "obstacles" in missing["message"].lower()

    timeline = [(e["kind"], e["text"], e["url"]) for e in view["timeline"]]
    assert timeline == [
        ("delivery", "Received pull_request.opened (delivery g)", None),
        (
            "evaluation",
            "Evaluated aaaaaaa: pending — 1 of 2 required RAPID approvals",
            f"{WEB}/{REPO}/commit/{HEAD}",
        ),
        (
            "check_run",
            "Check run “RAPID review” created: action_required",
            f"{WEB}/{REPO}/runs/5",
        ),
        ("reviewers_requested", "Review requested from @dee, team leads", view["url"]),
        ("merge_commit", "Merge record committed as ccccccc", f"{WEB}/{REPO}/commit/c"),
        ("merge_comment", "Decision comment posted", f"{WEB}/{REPO}/pull/12#c9"),
    ]


def test_a_deleted_block_links_to_its_lines_at_the_base():
    pull = PullInfo(
        REPO, 3, "author", HEAD, BASE, "main", f"{WEB}/{REPO}/pull/3", False, None, None
    )
    snapshot = PullInputs(
        pull, ConfigRead(None, load_config(CONFIG)), None, {PLAN_PATH: (PLAN, None)}, []
    )
    deleted = summary(judge(snapshot, TODAY, datetime.now(UTC)))
    view = pull_details(REPO, 3, deleted, [], web_url=WEB)
    [block] = view["blocks"]
    assert block["change"] == "deleted" and f"/blob/{BASE}/" in block["url"]


def test_pull_details_of_a_pull_request_never_seen():
    view = pull_details(REPO, 12, None, [], web_url=WEB)
    assert (view["status"], view["http_status"]) == ("not_found", 404)
    assert "has not seen pull request #12 of acme/handbook" in view["message"]


def test_pull_details_of_a_summary_stored_by_the_first_release():
    """Only the head, the conclusion, the rows and the findings: the rest is left empty, the
    link made from the number, a holder without handle shown without links."""
    stored = {
        "head_sha": HEAD,
        "conclusion": "pending",
        "rows": [
            {
                "path": PLAN_PATH,
                "block": "FY27 Ops VPMOM",
                "line": 3,
                "role": "D",
                "holder": "DEE",
                "state": "waiting",
                "reviewer": None,
            }
        ],
        "findings": [
            {
                "path": PLAN_PATH,
                "line": 7,
                "rule": "section-missing",
                "severity": "error",
                "message": "VPMOM plan has no Obstacles section",
            }
        ],
    }
    view = pull_details(REPO, 12, Summary.from_json(stored), [], web_url=WEB)
    assert view["url"] == f"{WEB}/{REPO}/pull/12"
    assert (view["author"], view["base_ref"], view["title"]) == (None, None, "")
    assert (view["blocks"], view["unblocks"], view["notes"]) == ([], [], [])
    [role] = view["roles"]
    assert (role["handle"], role["profile_url"], role["avatar_url"]) == (None, None, None)
    assert (role["required"], role["by_author"], role["waiting_on"]) == (True, False, [])
    assert (role["reviewed_at"], role["review_url"]) == (None, None)
    [finding] = view["findings"]
    assert (finding["end_line"], finding["fix"]) == (None, None)
    assert finding["url"] == f"{WEB}/{REPO}/blob/{HEAD}/{PLAN_PATH}#L7"
