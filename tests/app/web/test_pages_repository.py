"""The handbook dashboard and the pull request details page, served by the real `rapidvet serve`
from what its store holds, with GitHub (the fake) asked only who may read."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import replace

from rapidvet.app.handbook import unvetted_merges
from rapidvet.app.pulls import timeline
from rapidvet.app.store.records import EVALUATION, SNAPSHOT
from rapidvet.app.store.sqlite import SqliteStore
from rapidvet.workflows.changes import BlockKey
from tests.app.web.test_dashboard_view import small_snapshot, unvetted_merge
from tests.app.web.test_pages_auth import REPO_PAGE, world  # noqa: F401  (the fixture)
from tests.app.web.test_pull_view import evaluated_summary
from tests.support.browser import XSS_PAYLOADS

REPO = "acme/handbook"


def stored(world) -> SqliteStore:  # noqa: F811
    return SqliteStore(world.env["RAPIDVET_DATABASE_URL"].removeprefix("sqlite:///"))


def store_snapshot(world, title: str, rapid: str) -> None:  # noqa: F811
    store = stored(world)
    snapshot = replace(small_snapshot(title=title, rapid=rapid), repo=REPO)
    SNAPSHOT.put(store, REPO, snapshot.to_json())
    store.close()


def store_pull_12(world, delivery: str) -> None:  # noqa: F811
    """Pull request #12 evaluated, with one delivery (whose id is `delivery`) on its timeline."""
    store = stored(world)
    EVALUATION.put(store, f"{REPO}#12", evaluated_summary().to_json())
    timeline.append(
        store,
        f"{REPO}#12",
        timeline.DELIVERY,
        event="pull_request_review",
        action="submitted",
        delivery=delivery,
    )
    store.close()


def test_the_dashboard_shows_the_plans_measure_and_chart_with_markup_escaped(world):  # noqa: F811
    dee = world.browser_of("dee")
    pending = dee.get(world.server.url + REPO_PAGE)
    assert pending.status == 200 and "The first snapshot of acme/handbook" in pending.text

    title, rapid = XSS_PAYLOADS[0], XSS_PAYLOADS[1]
    store_snapshot(world, title, rapid)
    page = dee.get(world.server.url + REPO_PAGE)
    assert page.status == 200
    assert "<h1>acme/handbook</h1>" in page.text
    assert "a/one.md" in page.text and "Alpha VPMOM" in page.text
    assert "<svg" in page.text and "% of plans vetted within 12 months" in page.text
    assert "never vetted" in page.text and "FY28 VPMOM (TBA)" in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert "<script" not in page.text and "<img src=x" not in page.text
    by_age = dee.get(world.server.url + REPO_PAGE + "?sort=-age")
    assert by_age.text.index("b/three.md") < by_age.text.index("a/one.md")  # never vetted first


def test_the_dashboard_exports_its_table_as_csv_and_json(world):  # noqa: F811
    store_snapshot(world, "=HYPERLINK(1)", "@dee(D)")
    dee = world.browser_of("dee")
    exported = dee.get(world.server.url + REPO_PAGE + "?format=csv")
    assert exported.status == 200 and exported.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in exported.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert [r["page"] for r in rows] == ["a/one.md", "a/two.md", "b/three.md"]
    assert rows[0]["title"] == "'=HYPERLINK(1)"  # never a formula in a spreadsheet
    data = json.loads(dee.get(world.server.url + REPO_PAGE + "?format=json").text)
    assert data["repo"] == REPO and len(data["plans"]) == 3
    assert data["measure"]["plans"] == 3


def test_the_pull_request_page_shows_roles_findings_and_timeline(world):  # noqa: F811
    store_pull_12(world, delivery="guid-<b>1</b>")
    dee = world.browser_of("dee")
    page = dee.get(world.server.url + "/acme/handbook/pull/12")
    assert page.status == 200
    assert "Roles" in page.text and "Findings" in page.text and "Timeline" in page.text
    assert "approved" in page.text and "dee" in page.text
    assert (
        "Received pull_request_review.submitted (delivery guid-&lt;b&gt;1&lt;/b&gt;)" in page.text
    )
    assert 'href="/acme/handbook"' in page.text  # back to the dashboard

    unseen = dee.get(world.server.url + "/acme/handbook/pull/99")
    assert unseen.status == 404
    assert "rapidvet has not seen pull request #99 of acme/handbook." in unseen.text
    assert dee.get(world.server.url + "/acme/handbook/pull/0").status == 404


def test_repository_pages_ask_github_only_who_may_read(world):  # noqa: F811
    store_snapshot(world, "beta VPMOM", "@dee(D)")
    dee = world.browser_of("dee")
    dee.get(world.server.url + REPO_PAGE)  # who may read is asked once, then kept
    asked = len(world.fake.requests())
    for path in (REPO_PAGE, REPO_PAGE + "?format=csv", "/acme/handbook/pull/12"):
        dee.get(world.server.url + path)
    paths = {r["path"] for r in world.fake.requests(since=asked)}
    assert not any("/contents/" in p or "/pulls" in p or "/check-runs" in p for p in paths), paths


def test_the_pages_in_a_real_browser(world, page, axe_check, no_script_ran, screenshot):  # noqa: F811
    """The dashboard and the details page with markup in a plan title, a RAPID line and a
    delivery id: nothing runs, axe-core finds nothing serious."""
    store_snapshot(world, XSS_PAYLOADS[0], XSS_PAYLOADS[1])
    store_pull_12(world, delivery=XSS_PAYLOADS[2])
    store = stored(world)
    unvetted_merges.keep(store, REPO, [(BlockKey("a/two.md", "alpha vpmom"), unvetted_merge(1))])
    store.close()
    world.fake.sign_in_as("dee")
    page.goto(world.server.url + "/login?next=" + REPO_PAGE)
    assert page.locator("h1").inner_text() == "acme/handbook"
    table = page.locator("table.plans").inner_text()
    assert XSS_PAYLOADS[0] in table  # shown as text
    assert "(changed since vetted in #12, merged 2026-10-01)" in table  # text, not colour alone
    no_script_ran(page)
    axe_check(page)
    screenshot(page, "dashboard")

    page.goto(world.server.url + "/acme/handbook/pull/12")
    assert page.locator("h2#roles-heading").is_visible()
    no_script_ran(page)
    axe_check(page)
    screenshot(page, "pull-request")
