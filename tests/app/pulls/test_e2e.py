"""The App end to end: the real server process, the OpenAPI-checked fake GitHub, real payloads."""

from __future__ import annotations

import json
import re
from contextlib import ExitStack
from datetime import UTC, datetime

import pytest

from rapidvet.checks.dates import format_date, parse_date
from tests.support.e2e import PLAN, PLAN_PATH, REPO, Handbook, new_guid, open_handbook


@pytest.fixture
def handbook(fake_github, tmp_path):
    with ExitStack() as stack:
        yield open_handbook(stack, fake_github, tmp_path)


def rapid(handbook: Handbook, head: str | None = None) -> dict:
    return handbook.check_run("RAPID review", head)


def test_review_lifecycle_to_merge_record(handbook: Handbook, tmp_path):
    fake = handbook.fake
    assert handbook.send("pull_request.opened") == 202
    structure = handbook.check_run("VPMOM structure")
    assert structure["conclusion"] == "success", structure["output"]
    review = rapid(handbook)
    assert review["conclusion"] == "action_required"
    created = [r["body"] for r in fake.requests() if r["path"].endswith("/check-runs")]
    assert all(body["actions"][0]["label"] == "Re-check" for body in created)
    pull = handbook.pull()
    assert {u["login"] for u in pull["requested_reviewers"]} == {"dee", "ivy", "pat"}
    assert {t["slug"] for t in pull["requested_teams"]} == {"leads"}

    # A (a team member) first, then D: success only after both.
    first_head = pull["head"]["sha"]
    lee = fake.add_review(REPO, handbook.number, "lee", "APPROVED")
    handbook.send("pull_request_review.submitted", review_id=lee["id"])
    assert rapid(handbook)["conclusion"] == "action_required"
    dee = fake.add_review(REPO, handbook.number, "dee", "APPROVED")
    handbook.send("pull_request_review.submitted", review_id=dee["id"])
    assert rapid(handbook)["conclusion"] == "success"

    # A push that leaves the plan alone keeps the approvals ...
    handbook.push({"handbook/ops/notes.md": "# Notes\n\nStill nothing planned.\n"})
    handbook.send("pull_request.synchronize")
    assert rapid(handbook)["conclusion"] == "success"
    # ... one that edits the approved plan makes them stale.
    edited = PLAN.replace("once a year", "every quarter")
    handbook.push({PLAN_PATH: edited})
    handbook.send("pull_request.synchronize")
    stale = rapid(handbook)
    assert stale["conclusion"] == "action_required"
    assert "stale" in stale["output"]["summary"]
    assert rapid(handbook, first_head)["conclusion"] == "success"  # the old commit's run stays
    for login in ("dee", "lou"):
        approval = fake.add_review(REPO, handbook.number, login, "APPROVED")
        handbook.send("pull_request_review.submitted", review_id=approval["id"])
    assert rapid(handbook)["conclusion"] == "success"

    # Merge: one record commit and one comment, whatever the redeliveries.
    base_before = handbook.pull()["base"]["sha"]
    merged = fake.merge_pull_request(REPO, handbook.number)
    guid = new_guid()
    for _ in range(3):
        handbook.send("pull_request.closed", guid=guid)
    handbook.send("pull_request.closed")  # a second delivery of the same event
    main = fake.branch_sha(REPO, "main")
    record = fake.call("read_file", repo=REPO, path=PLAN_PATH, ref=main)
    merged_on = datetime.fromisoformat(merged["merged_at"]).astimezone(UTC).date()
    style = parse_date("Feb 3, 2026").style
    assert f"| Vetted date | {format_date(merged_on, style)} |" in record
    web_url = fake.url.removesuffix("/api/v3")
    # The base version of the page, at the plan's own heading.
    link = f"[Feb 3, 2026]({web_url}/{REPO}/blob/{base_before}/{PLAN_PATH}#fy27-ops-vpmom)"
    assert f"| Previous versions | {link}, [Feb 1, 2025](https://example.com/old) |" in record
    assert (
        record.replace(format_date(merged_on, style), "Feb 3, 2026").replace(link + ", ", "")
        == edited
    )
    history = [r for r in fake.requests() if r["method"] == "PATCH" and "/git/refs/" in r["path"]]
    assert len(history) == 1
    comments = fake.comments(REPO, handbook.number)
    assert len(comments) == 1
    body = comments[0]["body"]
    assert "rapidvet:merge-record" in body and "@dee" in body
    commit = fake.call("requests")  # the record commit's message carries the trailers
    message = next(
        r["body"]["message"]
        for r in commit
        if r["path"].endswith("/git/commits") and r["method"] == "POST"
    )
    assert re.search(r"^Decided-by: @dee$", message, re.MULTILINE)
    assert re.search(r"^Agreed-by: @lou$", message, re.MULTILINE)
    assert re.search(rf"^Vetted-in: #{handbook.number}$", message, re.MULTILINE)
    assert handbook.dead_jobs() == []
    (tmp_path / "calls.json").write_text(json.dumps(handbook.calls))
    print("GitHub calls per event:", dict(handbook.calls))


# The fewest calls each event needs that GitHub has to answer afresh (304 answers to
# conditional requests are free): opened reads the files list, rapid.yml, the plan at base
# and head, the reviews, the team and creates a token, two check runs and the review request;
# a review re-reads the reviews and updates one check run; a push reads the files list and
# the new plan text and creates two check runs; a merge reads the branch, its plan and commit,
# writes blob, tree, commit and ref, and comments.
MINIMUM = {
    "pull_request.opened": 10,
    "pull_request_review.submitted": 2,
    "pull_request.synchronize": 4,
    "pull_request.closed": 8,
}


def test_github_calls_per_event_stay_within_half_again_of_the_minimum(handbook: Handbook):
    fake = handbook.fake
    spent: dict[str, tuple[int, int]] = {}

    def measure(name: str, **params) -> None:
        mark = len(fake.requests())
        handbook.send(name, **params)
        calls = fake.requests()[mark:]
        fresh = sum(1 for r in calls if r["status"] != 304)
        spent[name] = (len(calls), fresh)

    measure("pull_request.opened")
    lee = fake.add_review(REPO, handbook.number, "lee", "APPROVED")
    measure("pull_request_review.submitted", review_id=lee["id"])
    handbook.push({PLAN_PATH: PLAN.replace("once a year", "every month")})
    measure("pull_request.synchronize")
    for login in ("dee", "lou"):
        review = fake.add_review(REPO, handbook.number, login, "APPROVED")
        handbook.send("pull_request_review.submitted", review_id=review["id"])
    fake.merge_pull_request(REPO, handbook.number)
    measure("pull_request.closed")
    print("event: calls (answered afresh) / minimum")
    for name, (total, fresh) in spent.items():
        print(f"{name}: {total} ({fresh}) / {MINIMUM[name]}")
        assert fresh <= 1.5 * MINIMUM[name], (name, fresh)


def files_with(**changes: str) -> dict[str, str]:
    from tests.support.e2e import FILES

    return {**FILES, **changes}


def test_structure_findings_are_annotations_on_the_right_lines(fake_github, tmp_path):
    broken = (
        PLAN.replace(
            "| RAPID | DEE(D), LEADS(R & A), @ivy(I), @pat(P) |",
            "| RAPID | DEE(D), LEADS(R, A & D), @ivy(I), @pat(P) |",
        )
        .replace("#### Priorities", "#### Values")
        .replace("#### Obstacles\n- Procedures that live only in people's heads\n\n", "")
    )
    with ExitStack() as stack:
        handbook = open_handbook(stack, fake_github, tmp_path)
        handbook.push({PLAN_PATH: broken})
        handbook.send("pull_request.opened")
        run = handbook.check_run("VPMOM structure")
        assert run["conclusion"] == "failure"
        lines = broken.splitlines()
        found = {(a["title"], a["start_line"], a["annotation_level"]) for a in run["annotations"]}
        assert ("rapid-two-deciders", 7, "failure") in found and "RAPID" in lines[6]
        assert ("section-missing", 3, "failure") in found and "VPMOM" in lines[2]
        assert ("values-for-priorities", 14, "warning") in found and lines[13] == "#### Values"
        assert all(a["path"] == PLAN_PATH for a in run["annotations"])


def test_a_veto_fails_until_dismissed_and_order_does_not_matter(handbook: Handbook):
    fake = handbook.fake
    handbook.send("pull_request.opened")
    dee = fake.add_review(REPO, handbook.number, "dee", "APPROVED")
    handbook.send("pull_request_review.submitted", review_id=dee["id"])
    veto = fake.add_review(REPO, handbook.number, "lou", "CHANGES_REQUESTED")
    handbook.send("pull_request_review.submitted", review_id=veto["id"])
    assert rapid(handbook)["conclusion"] == "failure"
    assert "vetoed" in rapid(handbook)["output"]["summary"]
    fake.dismiss_review(REPO, handbook.number, veto["id"])
    handbook.send("pull_request_review.dismissed", review_id=veto["id"])
    assert rapid(handbook)["conclusion"] == "action_required"
    lee = fake.add_review(REPO, handbook.number, "lee", "APPROVED")
    handbook.send("pull_request_review.submitted", review_id=lee["id"])
    assert rapid(handbook)["conclusion"] == "success"


def test_a_broken_rapid_yml_fails_the_rapid_check_on_the_config_file(fake_github, tmp_path):
    with ExitStack() as stack:
        broken = files_with(**{".github/rapid.yml": "version: 1\npolicy:\n  team_approval: some\n"})
        handbook = open_handbook(stack, fake_github, tmp_path, broken)
        handbook.send("pull_request.opened")
        run = rapid(handbook)
        assert run["conclusion"] == "failure"
        (note,) = run["annotations"]
        assert (note["path"], note["start_line"]) == (".github/rapid.yml", 3)
        assert "expected one of 'any', 'all'" in note["message"]
        assert handbook.pull()["requested_reviewers"] == []


def test_github_faults_are_ridden_out(handbook: Handbook):
    fake = handbook.fake
    fake.add_fault(r"/contents/", status=502, times=2)
    fake.add_fault(r"/pulls/\d+/reviews$", status=429, retry_after=1, times=1)
    fake.add_fault(r"/orgs/.*/members$", status=403, retry_after=1, times=1)
    fake.add_fault(r"/pulls/\d+/files$", drop=True, times=2)
    fake.add_fault(r"/check-runs$", status=503, times=1, method="POST")
    handbook.send("pull_request.opened")
    assert handbook.check_run("VPMOM structure")["conclusion"] == "success"
    assert rapid(handbook)["conclusion"] == "action_required"
    assert handbook.dead_jobs() == []


def test_the_recheck_button_and_rerun_requests_evaluate_again(handbook: Handbook):
    fake = handbook.fake
    handbook.send("pull_request.opened")
    run = rapid(handbook)
    mark = len(fake.requests())
    handbook.send("check_run.requested_action", check_run_id=run["id"], requested_action="recheck")
    handbook.send("check_run.rerequested", check_run_id=run["id"])
    handbook.send("check_suite.rerequested", head_sha=handbook.pull()["head"]["sha"])
    patches = [
        r for r in fake.requests()[mark:] if r["method"] == "PATCH" and "check-runs" in r["path"]
    ]
    assert len(patches) >= 3
    assert rapid(handbook)["conclusion"] == "action_required"


def test_base_branch_moving_during_the_record_is_retried(handbook: Handbook):
    fake = handbook.fake
    handbook.approve_and_merge()
    fake.add_fault(r"/git/refs/heads/main$", method="PATCH", status=422, times=1)
    handbook.send("pull_request.closed")
    updates = [r for r in fake.requests() if r["method"] == "PATCH" and "/git/refs/" in r["path"]]
    assert [u["status"] for u in updates] == [422, 200]
    record = fake.read_file(REPO, PLAN_PATH)
    assert "| Vetted date | Feb 3, 2026 |" not in record
    assert len(fake.comments(REPO, handbook.number)) == 1


@pytest.mark.parametrize("mode", ["pull_request", "off"])
def test_merge_record_modes(fake_github, tmp_path, mode):
    from tests.support.e2e import CONFIG

    config = CONFIG.replace("record: direct", f"record: {mode}")
    with ExitStack() as stack:
        handbook = open_handbook(
            stack, fake_github, tmp_path, files_with(**{".github/rapid.yml": config})
        )
        fake = handbook.fake
        handbook.approve_and_merge()
        main_before = fake.branch_sha(REPO, "main")
        handbook.send("pull_request.closed")
        assert fake.branch_sha(REPO, "main") == main_before  # nothing committed to main
        assert len(fake.comments(REPO, handbook.number)) == 1
        follow_up = fake.branch_sha(REPO, f"rapidvet/vetting-{handbook.number}")
        if mode == "off":
            assert follow_up is None
        else:
            text = fake.read_file(REPO, PLAN_PATH, ref=follow_up)
            assert "| Vetted date | Feb 3, 2026 |" not in text
            opened = [
                r for r in fake.requests() if r["method"] == "POST" and r["path"].endswith("/pulls")
            ]
            assert (
                len(opened) == 1
                and opened[0]["body"]["head"] == f"rapidvet/vetting-{handbook.number}"
            )


@pytest.mark.slow
def test_a_pull_request_with_3000_files(fake_github, tmp_path):
    with ExitStack() as stack:
        handbook = open_handbook(stack, fake_github, tmp_path)
        many = {f"assets/file-{n:04}.txt": f"asset {n}\n" for n in range(2999)}
        handbook.push(many, message="Add assets")
        handbook.send("pull_request.opened")
        assert handbook.check_run("VPMOM structure")["conclusion"] == "success"
        assert rapid(handbook)["conclusion"] == "action_required"
        pages = [r for r in handbook.fake.requests() if r["path"].endswith("/pulls/1/files")]
        assert len(pages) == 30  # 3 000 files, 100 a page


def test_a_new_rapid_yml_on_main_re_evaluates_open_pull_requests(handbook: Handbook):
    from tests.support.e2e import CONFIG

    fake = handbook.fake
    handbook.send("pull_request.opened")
    assert "@dee" in rapid(handbook)["output"]["summary"]
    stricter = CONFIG.replace("D: DEE", 'D: "@dana"')
    before = fake.branch_sha(REPO, "main")
    after = fake.commit(REPO, "main", {".github/rapid.yml": stricter}, message="New Decider")
    handbook.send("push", ref="main", before=before, after=after["sha"])
    summary = rapid(handbook)["output"]["summary"]
    assert "@dana" in summary
    # A push elsewhere is answered but not stored: nothing to do for it.
    assert handbook.send("push", ref="plan-update") == 200


def test_installation_events_remember_the_repositories(handbook: Handbook):
    import sqlite3

    assert handbook.send("installation.created") == 202
    with sqlite3.connect(handbook.server.database) as db:
        (value,) = db.execute("SELECT value FROM records WHERE scope = 'installation'").fetchone()
    assert REPO in json.loads(value)["repositories"]


@pytest.mark.parametrize("record_unvetted", [False, True])
def test_an_admin_merge_without_the_deciders_approval_is_not_a_vetting(
    fake_github, tmp_path, record_unvetted
):
    from tests.support.e2e import CONFIG

    setting = f"  record_unvetted: {str(record_unvetted).lower()}\n"
    config = CONFIG.replace("merge:\n", "merge:\n" + setting)
    with ExitStack() as stack:
        handbook = open_handbook(
            stack, fake_github, tmp_path, files_with(**{".github/rapid.yml": config})
        )
        fake = handbook.fake
        handbook.send("pull_request.opened")
        lee = fake.add_review(REPO, handbook.number, "lee", "APPROVED")
        handbook.send("pull_request_review.submitted", review_id=lee["id"])
        assert rapid(handbook)["conclusion"] == "action_required"
        fake.merge_pull_request(REPO, handbook.number, user="admin")
        handbook.send("pull_request.closed")
        record = fake.read_file(REPO, PLAN_PATH)
        (comment,) = fake.comments(REPO, handbook.number)
        if record_unvetted:
            assert "| Vetted date | Feb 3, 2026 |" not in record
            assert "Merged without vetting" not in comment["body"]
        else:
            assert "| Vetted date | Feb 3, 2026 |" in record
            assert "| Previous versions | [Feb 1, 2025](https://example.com/old) |" in record
            assert "#### Merged without vetting" in comment["body"]
            assert "missing approval: D DEE (@dee): waiting" in comment["body"]


def approve(handbook: Handbook, *logins: str) -> None:
    for login in logins:
        review = handbook.fake.add_review(REPO, handbook.number, login, "APPROVED")
        handbook.send("pull_request_review.submitted", review_id=review["id"])


def queue(handbook: Handbook) -> str:
    """Queue the pull request, deliver merge_group; the group's head commit."""
    ref = handbook.fake.enqueue_pull_request(REPO, handbook.number)
    assert handbook.send("merge_group.checks_requested", number=handbook.number) == 202
    return str(handbook.fake.branch_sha(REPO, ref.removeprefix("refs/heads/")))


def test_a_merge_queue_group_of_approved_pull_requests_goes_green_and_is_recorded_once(
    handbook: Handbook,
):
    fake = handbook.fake
    handbook.send("pull_request.opened")
    approve(handbook, "dee", "lee")
    head = queue(handbook)
    for name in ("VPMOM structure", "RAPID review"):
        run = handbook.check_run(name, head)
        assert run["conclusion"] == "success", run["output"]
        assert f"#{handbook.number}: success" in run["output"]["summary"]
    merged = fake.land_merge_group(REPO, handbook.number)
    assert merged["merge_commit_sha"] == head == fake.branch_sha(REPO, "main")
    handbook.send("pull_request.closed")
    handbook.send("pull_request.closed")
    record = fake.read_file(REPO, PLAN_PATH)
    assert "| Vetted date | Feb 3, 2026 |" not in record and "twice a year" in record
    assert len(fake.comments(REPO, handbook.number)) == 1


def test_a_merge_queue_group_holding_a_pull_request_changed_after_its_approvals_goes_red(
    handbook: Handbook,
):
    handbook.send("pull_request.opened")
    approve(handbook, "dee", "lee")
    handbook.push({PLAN_PATH: PLAN.replace("once a year", "never")})  # its webhook is lost
    head = queue(handbook)
    run = handbook.check_run("RAPID review", head)
    assert run["conclusion"] == "failure"
    assert run["output"]["title"] == f"RAPID review does not pass on #{handbook.number}"
    assert "changed after its approvals" in run["output"]["summary"]
    assert rapid(handbook)["conclusion"] == "action_required"  # judged again on its new head


def test_a_plan_merged_without_vetting_shows_on_the_dashboard_as_changed_since_vetted(
    fake_github, tmp_path
):
    from tests.support.page_client import Browser

    with ExitStack() as stack:
        handbook = open_handbook(stack, fake_github, tmp_path, RAPIDVET_PAGES="public")
        handbook.send("pull_request.opened")
        approve(handbook, "lee")  # A only: the Decider never approved
        handbook.fake.merge_pull_request(REPO, handbook.number, user="admin")
        handbook.send("pull_request.closed")
        assert handbook.send("push", ref="main") == 202
        page = Browser().get(handbook.server.url + "/acme/handbook?format=json")
        data = json.loads(page.text)
        assert data["measure"]["changed"] == 1
        (plan,) = data["plans"]
        assert (plan["title"], plan["vetted"]) == ("FY27 Ops VPMOM", "2026-02-03")
        assert plan["changed_since_vetted"] is True
        shown = Browser().get(handbook.server.url + "/acme/handbook?show=changed").text
        pull = f"{handbook.fake.url.removesuffix('/api/v3')}/{REPO}/pull/{handbook.number}"
        assert f'changed since vetted in <a href="{pull}">#{handbook.number}</a>' in shown
        assert '<strong aria-current="page">Changed since vetted (1)</strong>' in shown
