"""Timeline events per pull request: appended by many writers without loss, read in order,
and recorded by the real server at each step of a review."""

from __future__ import annotations

from contextlib import ExitStack
from datetime import UTC, datetime

import pytest

from rapidvet.app.pulls import timeline
from rapidvet.app.pulls.inputs import PullInfo
from rapidvet.app.pulls.summary import stored
from rapidvet.app.store import Delivery
from rapidvet.app.store.records import TIMELINE_SIZE
from rapidvet.app.store.sqlite import SqliteStore
from rapidvet.app.web.pages import pull_view
from rapidvet.workflows.decision import decide
from tests.support.e2e import PLAN_PATH, REPO, open_handbook
from tests.support.jobs import job_of
from tests.support.review_builders import changed, config, request, rule

PULL = PullInfo(
    repo="acme/handbook",
    number=12,
    author="author",
    head_sha="h" * 40,
    base_sha="b" * 40,
    base_ref="main",
    html_url="https://github.com/acme/handbook/pull/12",
    merged=True,
    merge_sha="m" * 40,
    merged_at=datetime(2026, 3, 1, tzinfo=UTC),
)


@pytest.fixture
def store():
    store = SqliteStore(":memory:")
    store.migrate()
    yield store
    store.close()


def delivery(key: str, event: str = "pull_request", action: str | None = "opened") -> Delivery:
    return Delivery("guid-1", event, action, 7, "acme/handbook", key, b"{}")


def test_events_come_back_in_the_order_they_were_appended(store):
    for n in range(5):
        timeline.append(store, "acme/handbook#12", "note", n=n)
    assert [e["n"] for e in timeline.events(store, "acme/handbook#12")] == [0, 1, 2, 3, 4]
    assert timeline.events(store, "acme/handbook#13") == []
    first = timeline.events(store, "acme/handbook#12")[0]
    assert first["kind"] == "note" and datetime.fromisoformat(first["at"]).tzinfo is not None


def test_a_writer_with_a_stale_size_hint_never_overwrites_an_event(store):
    timeline.append(store, "s", "note", n=0)
    timeline.append(store, "s", "note", n=1)
    # Another writer read the hint before those two were appended.
    TIMELINE_SIZE.put(store, "s", 0)
    timeline.append(store, "s", "note", n=2)
    assert [e["n"] for e in timeline.events(store, "s")] == [0, 1, 2]
    assert TIMELINE_SIZE.get(store, "s") == 3


def test_deliveries_are_recorded_for_pull_requests_only(store):
    received = datetime(2026, 3, 4, 5, 6, tzinfo=UTC)
    timeline.delivery_received(store, job_of(delivery("acme/handbook#12"), received))
    timeline.delivery_received(store, job_of(delivery("acme/handbook", "push", None)))
    timeline.delivery_received(store, job_of(delivery("installation:7", "installation", "created")))
    [event] = timeline.events(store, "acme/handbook#12")
    assert (event["kind"], event["event"], event["action"], event["delivery"]) == (
        "delivery",
        "pull_request",
        "opened",
        "guid-1",
    )
    assert event["at"] == received.isoformat()  # when it arrived, not when its job ran
    assert timeline.events(store, "acme/handbook") == []


def test_a_retried_job_notes_its_delivery_once(store):
    for attempts in (1, 2, 3):
        timeline.delivery_received(store, job_of(delivery("acme/handbook#12"), attempts=attempts))
    assert len(timeline.events(store, "acme/handbook#12")) == 1


def test_a_pull_request_reads_the_check_runs_of_each_head_it_was_evaluated_at(store):
    answer = {"id": 5, "name": "RAPID review", "conclusion": "success", "html_url": "u"}
    timeline.check_run(store, PULL.repo, PULL.head_sha, answer, created=True)
    timeline.check_run(store, PULL.repo, "f" * 40, answer, created=False)  # never evaluated
    assert timeline.pull_events(store, PULL.repo, PULL.number) == []
    decision = decide(request(config(rule(D="@dee")), [changed()], []))
    timeline.evaluated(store, PULL, decision)
    timeline.reviewers_requested(store, PULL, ["dee"], ["leads"])
    run, evaluation, asked = timeline.pull_events(store, PULL.repo, PULL.number)
    assert run | {"at": None} == {
        "at": None,
        "kind": "check_run",
        "name": "RAPID review",
        "id": 5,
        "conclusion": "success",
        "url": "u",
        "action": "created",
    }
    assert (evaluation["kind"], evaluation["head_sha"], evaluation["conclusion"]) == (
        "evaluation",
        PULL.head_sha,
        "pending",
    )
    assert evaluation["title"] == decision.title
    assert (asked["users"], asked["teams"]) == (["dee"], ["leads"])


def test_a_merge_record_commit_links_to_the_commit(store):
    timeline.merge_recorded(store, PULL, "c" * 40, 3, "https://ghe.example")
    timeline.merge_recorded(store, PULL, "c" * 40, 3, "https://ghe.example")  # a retried job
    commit, comment = timeline.events(store, "acme/handbook#12")
    assert commit["url"] == f"https://ghe.example/acme/handbook/commit/{'c' * 40}"
    assert comment["kind"] == "merge_comment" and comment["id"] == 3


def test_the_server_records_a_review_from_delivery_to_merge_record(fake_github, tmp_path):
    with ExitStack() as stack:
        handbook = open_handbook(stack, fake_github, tmp_path)
        handbook.send("pull_request.opened")
        dee = fake_github.add_review(REPO, handbook.number, "dee", "APPROVED")
        handbook.send("pull_request_review.submitted", review_id=dee["id"])
        lee = fake_github.add_review(REPO, handbook.number, "lee", "APPROVED")
        handbook.send("pull_request_review.submitted", review_id=lee["id"])
        fake_github.merge_pull_request(REPO, handbook.number)
        handbook.send("pull_request.closed")
        store = SqliteStore(handbook.server.database)
        events = timeline.pull_events(store, REPO, handbook.number)
        summary = stored(store, REPO, handbook.number)
        store.close()
    kinds = [e["kind"] for e in events]
    assert kinds.count("delivery") == 4
    assert kinds.count("evaluation") == 3
    assert kinds.count("reviewers_requested") == 1
    runs = [e for e in events if e["kind"] == "check_run"]
    assert [(r["name"], r["action"]) for r in runs[:2]] == [
        ("VPMOM structure", "created"),
        ("RAPID review", "created"),
    ]
    assert runs[-1]["conclusion"] == "success" and runs[-1]["action"] == "updated"
    assert kinds[-2:] == ["merge_commit", "merge_comment"]
    assert [e["conclusion"] for e in events if e["kind"] == "evaluation"][-1] == "success"

    web_url = fake_github.url
    view = pull_view.pull_details(
        REPO,
        handbook.number,
        summary,
        events,
        web_url=web_url,
    )
    assert view["status"] == "ok" and view["conclusion"] == "success"
    [block] = view["blocks"]
    lines = f"L{block['start']}-L{block['end']}"
    assert block["url"] == f"{web_url}/{REPO}/blob/{view['head_sha']}/{PLAN_PATH}#{lines}"
    deciders = [r for r in view["roles"] if r["role"] == "D"]
    assert [(r["holder"], r["state"], r["reviewer"]) for r in deciders] == [
        ("DEE", "approved", "dee")
    ]
    assert deciders[0]["review_url"] == f"{view['url']}#pullrequestreview-{dee['id']}"
    assert deciders[0]["avatar_url"] == f"{web_url}/dee.png?size=40"
    texts = [e["text"] for e in view["timeline"]]
    assert texts[0] == "Received pull_request.opened (delivery " + events[0]["delivery"] + ")"
    assert any(t.startswith("Merge record committed as ") for t in texts)
    assert all(e["url"] for e in view["timeline"] if e["kind"] != "delivery")
