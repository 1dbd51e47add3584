"""The view model of the handbook dashboard: shapes, links, sorting, paging, exports, and the
time a 10 000-page dashboard takes to build (printed, never asserted)."""

from __future__ import annotations

import csv
import io
import json
import time
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from types import ModuleType

import pytest

from rapidvet.app.handbook import snapshots, unvetted_merges
from rapidvet.app.handbook.snapshots import (
    PlaceholderRow,
    PlanRow,
    Snapshot,
    TocRecord,
)
from rapidvet.app.handbook.unvetted_merges import PlanMerge
from rapidvet.app.store.records import SNAPSHOT
from rapidvet.app.store.sqlite import SqliteStore
from rapidvet.app.web.pages.dashboard_view import (
    ALL_ROWS,
    CSV_COLUMNS,
    ROWS_PER_PAGE,
    dashboard,
    dashboard_csv,
    dashboard_json,
)
from rapidvet.workflows.changes import BlockKey
from tests.support.bench_scripts import load_bench_script

WEB = "https://github.example"
REPO = "acme/handbook"
TODAY = date(2026, 11, 23)
HEAD = "a" * 40


def load_bench() -> ModuleType:
    return load_bench_script("dashboard_bench")


# -- the dashboard ---------------------------------------------------------------------------


def small_snapshot(title: str = "beta VPMOM", rapid: str = "@dee(D)") -> Snapshot:
    plans = (
        PlanRow("a/one.md", 3, 20, title, "VPMOM", "FY27", rapid, "2026-10-01", "@dee"),
        PlanRow("a/two.md", 1, 30, "Alpha VPMOM", "VPMOM", None, None, "2024-01-01", None),
        PlanRow("b/three.md", 5, 9, "gamma V2MOM", "V2MOM", None, "IJT(D)", None, "IJT (@ianjt)"),
    )
    return Snapshot(
        repo=REPO,
        branch="main",
        commit=HEAD,
        read_at=datetime(2026, 11, 23, 8, tzinfo=UTC),
        config=None,
        kinds="k",
        stale_after_days=365,
        toc=TocRecord(None, "t", frozenset({"a/one.md", "a/two.md"})),
        files={"a/one.md": "1", "a/two.md": "2", "a/notes.md": "4", "b/three.md": "3"},
        plans=plans,
        placeholders=(PlaceholderRow("a/notes.md", 7, "FY28 VPMOM (TBA)", "(TBA)"),),
        unlisted=("a/notes.md", "b/three.md"),
        truncated=False,
    )


def board(sort: str | None = None, snapshot: Snapshot | None = None, **query):
    return dashboard(
        REPO,
        small_snapshot() if snapshot is None else snapshot,
        [],
        TODAY,
        sort=sort,
        web_url=WEB,
        **query,
    )


def test_dashboard_rows_measure_and_gaps():
    view = board()
    assert (view["status"], view["http_status"], view["commit_url"]) == (
        "ok",
        200,
        f"{WEB}/{REPO}/commit/{HEAD}",
    )
    one, two, three = view["plans"]
    assert one == {
        "page": "a/one.md",
        "line": 3,
        "end_line": 20,
        "title": "beta VPMOM",
        "kind": "VPMOM",
        "period": "FY27",
        "vetted": "2026-10-01",
        "age_days": 53,
        "stale": False,
        "changed_since_vetted": False,
        "changed_by": None,
        "decider": "@dee",
        "rapid": "@dee(D)",
        "url": f"{WEB}/{REPO}/blob/{HEAD}/a/one.md#L3-L20",
        "bar": round(100 * 53 / 1057, 1),
    }
    assert (two["age_days"], two["stale"], two["bar"]) == (1057, True, 100.0)
    assert (three["age_days"], three["bar"], three["vetted"]) == (None, None, None)
    assert (view["bar_scale_days"], view["stale_mark"]) == (1057, round(100 * 365 / 1057, 1))
    assert board(show="stale")["plans"] == [two]
    assert board(show="unvetted")["plans"] == [three]
    assert [(s["key"], s["count"], s["active"], s["href"]) for s in view["shows"]] == [
        ("all", 3, True, "?"),
        ("stale", 1, False, "?show=stale"),
        ("unvetted", 1, False, "?show=unvetted"),
        ("changed", 0, False, "?show=changed"),
    ]
    assert view["window"] == {
        "page": 1,
        "pages": 1,
        "first": 0,
        "last": 3,
        "previous": None,
        "next": None,
    }
    assert view["measure"] == {
        "percent": 33.3,
        "fresh": 1,
        "plans": 3,
        "pages": 4,
        "stale": 1,
        "unvetted": 1,
        "changed": 0,
        "placeholders": 1,
        "unlisted": 2,
        "fresh_days": 365,
        "stale_after_days": 365,
    }
    assert view["measure"]["percent"] == small_snapshot().measures(TODAY).fresh_percent
    assert view["placeholders"] == [
        {
            "page": "a/notes.md",
            "line": 7,
            "title": "FY28 VPMOM (TBA)",
            "marker": "(TBA)",
            "url": f"{WEB}/{REPO}/blob/{HEAD}/a/notes.md#L7",
        }
    ]
    assert [u["url"] for u in view["unlisted"]] == [
        f"{WEB}/{REPO}/blob/{HEAD}/a/notes.md",
        f"{WEB}/{REPO}/blob/{HEAD}/b/three.md",
    ]


@pytest.mark.parametrize(
    ("sort", "pages", "current"),
    [
        (None, ["a/one.md", "a/two.md", "b/three.md"], "page"),
        ("-page", ["b/three.md", "a/two.md", "a/one.md"], "-page"),
        ("age", ["a/one.md", "a/two.md", "b/three.md"], "age"),  # never vetted: oldest
        ("-age", ["b/three.md", "a/two.md", "a/one.md"], "-age"),
        ("title", ["a/two.md", "a/one.md", "b/three.md"], "title"),  # case does not count
        ("-title", ["b/three.md", "a/one.md", "a/two.md"], "-title"),
        ("vetted; drop table", ["a/one.md", "a/two.md", "b/three.md"], "page"),
    ],
)
def test_dashboard_sorting(sort, pages, current):
    view = board(sort)
    assert [row["page"] for row in view["plans"]] == pages
    assert view["sort"] == current
    query = "" if current == "page" else f"sort={current}&"
    assert view["exports"] == {
        "csv": f"?{query}page=all&format=csv",
        "json": f"?{query}page=all&format=json",
    }


def test_sort_links_toggle_the_active_column():
    links = {s["key"]: s for s in board("age")["sorts"]}
    assert links["age"] | {"label": None} == {
        "key": "age",
        "label": None,
        "active": True,
        "descending": False,
        "href": "?sort=-age",
    }
    assert links["page"]["href"] == "?" and not links["page"]["active"]
    assert {s["key"]: s["href"] for s in board("-age", show="stale")["sorts"]} == {
        "page": "?show=stale",
        "title": "?sort=title&show=stale",
        "age": "?sort=age&show=stale",
    }


def test_a_long_table_is_served_in_pages_and_exported_whole():
    bench = load_bench()
    snapshot = bench.synthetic_snapshot(1200)
    first = board("title", snapshot)
    assert len(first["plans"]) == ROWS_PER_PAGE
    assert first["window"] == {
        "page": 1,
        "pages": 3,
        "first": 0,
        "last": 500,
        "previous": None,
        "next": "?sort=title&page=2",
    }
    last = board("title", snapshot, show="all", page="3")
    assert len(last["plans"]) == 200 and last["window"]["previous"] == "?sort=title&page=2"
    assert board("title", snapshot, page="99")["window"]["page"] == 3
    for nonsense in ("0", "-1", "²", "9" * 5000, "x"):
        assert board("title", snapshot, page=nonsense)["window"]["page"] == 1
    titles = [row["title"] for row in first["plans"] + board("title", snapshot, page="2")["plans"]]
    assert titles == sorted(titles, key=str.casefold)
    everything = board("title", snapshot, page=ALL_ROWS)
    assert len(everything["plans"]) == 1200 and everything["window"]["next"] is None
    assert len(dashboard_csv(everything).splitlines()) == 1201


def unvetted_merge(day: int, branch: str = "main") -> PlanMerge:
    at = datetime(2026, 10, day, 12, tzinfo=UTC)
    return PlanMerge(branch, "c" * 40, at, 12, ("D DEE (@dee): waiting",))


def test_a_plan_merged_without_vetting_since_its_vetted_date_is_changed_since_vetted():
    # Keyed as a merge keys it: normalized title, rank among the page's blocks of that title.
    one, two = BlockKey("a/one.md", "beta vpmom"), BlockKey("a/two.md", "alpha vpmom")
    unvetted = {
        one: unvetted_merge(1),  # the day it was vetted: after the vetting, or the same merge
        two: unvetted_merge(1, branch="draft"),  # not on the dashboard's branch
        BlockKey("b/three.md", "gamma v2mom"): unvetted_merge(2),  # never vetted: stays so
        BlockKey("a/one.md", "beta vpmom", 1): unvetted_merge(3),  # no second such plan
    }
    view = board(unvetted=unvetted)
    first, second, third = view["plans"]
    assert first["changed_since_vetted"] is True
    assert first["changed_by"] == {
        "number": 12,
        "url": f"{WEB}/{REPO}/pull/12",
        "merged_on": "2026-10-01",
        "missing": ["D DEE (@dee): waiting"],
    }
    assert not second["changed_since_vetted"] and not third["changed_since_vetted"]
    assert view["measure"]["changed"] == 1
    assert [p["page"] for p in board(unvetted=unvetted, show="changed")["plans"]] == ["a/one.md"]
    shows = {s["key"]: s["count"] for s in view["shows"]}
    assert shows["changed"] == 1
    csv_row = next(csv.DictReader(io.StringIO(dashboard_csv(view))))
    assert csv_row["changed_since_vetted"] == "true"
    # An unvetted merge the day before the Vetted date came before the vetting.
    before = {one: replace(unvetted_merge(1), merged_at=datetime(2026, 9, 30, tzinfo=UTC))}
    assert board(unvetted=before)["measure"]["changed"] == 0


def test_a_plans_last_merge_is_kept_whatever_order_merges_are_handled_in(tmp_path):
    store = SqliteStore(str(tmp_path / "rapidvet.db"))
    store.migrate()
    plan, other = BlockKey("a/one.md", "beta vpmom"), BlockKey("a/two.md", "alpha vpmom")
    unvetted, vetted = unvetted_merge(1), replace(unvetted_merge(2), number=13, missing=())
    unvetted_merges.keep(store, REPO, [(plan, unvetted), (other, unvetted)])
    unvetted_merges.keep(store, "acme/handbook-2", [(plan, unvetted)])
    assert unvetted_merges.unvetted(store, REPO) == {plan: unvetted, other: unvetted}
    unvetted_merges.keep(store, REPO, [(plan, vetted)])  # a later merge vets it
    assert unvetted_merges.unvetted(store, REPO) == {other: unvetted}
    unvetted_merges.keep(store, REPO, [(plan, unvetted)])  # a redelivery of the earlier one
    assert unvetted_merges.unvetted(store, REPO) == {other: unvetted}
    store.close()


def test_a_dashboard_before_its_first_snapshot():
    view = dashboard(REPO, None, [], TODAY, sort=None, web_url=WEB)
    assert (view["status"], view["http_status"]) == ("pending", 200)
    assert REPO in view["message"]


def test_csv_export_lists_the_table_in_its_order_and_defuses_formulas():
    snapshot = small_snapshot(title='=HYPERLINK("https://evil.example","x")', rapid="@dee(D)")
    view = board("-age", snapshot)
    rows = list(csv.reader(io.StringIO(dashboard_csv(view))))
    assert rows[0] == list(CSV_COLUMNS)
    assert [r[0] for r in rows[1:]] == ["b/three.md", "a/two.md", "a/one.md"]
    one = dict(zip(CSV_COLUMNS, rows[3], strict=True))
    assert one["title"] == '\'=HYPERLINK("https://evil.example","x")'
    assert one["rapid"] == "'@dee(D)"
    assert (one["age_days"], one["stale"], one["vetted"]) == ("53", "false", "2026-10-01")
    three = dict(zip(CSV_COLUMNS, rows[1], strict=True))
    assert (three["age_days"], three["vetted"], three["period"]) == ("", "", "")


def test_json_export_holds_the_measure_and_the_table():
    view = board("title")
    data = json.loads(dashboard_json(view))
    assert data["commit"] == HEAD and data["sort"] == "title"
    assert data["measure"] == view["measure"]
    assert [p["title"] for p in data["plans"]] == ["Alpha VPMOM", "beta VPMOM", "gamma V2MOM"]
    assert set(data["plans"][0]) == set(CSV_COLUMNS)


# -- the 10 000-page dashboard ---------------------------------------------------------------


def test_a_10000_page_dashboard_from_the_stored_snapshot():
    bench = load_bench()
    store = SqliteStore(":memory:")
    store.migrate()
    bench.store_world(store, 10_000, 1000)
    started = time.perf_counter()
    view = bench.render(store)
    elapsed = (time.perf_counter() - started) * 1000
    store.close()
    # The machine is shared and noisy, so the time is printed, never asserted; see
    # bench/dashboard_bench.py for the measurement.
    print(f"10 000-page dashboard view model built in {elapsed:.0f} ms")
    assert len(view["plans"]) == ROWS_PER_PAGE and view["window"]["pages"] == 20
    assert view["sort"] == "-age" and {row["age_days"] for row in view["plans"]} == {None}
    assert view["measure"]["plans"] == 10_000 and len(view["unlisted"]) == 1000


def test_a_stored_snapshot_is_decoded_and_measured_once_until_it_changes(tmp_path):
    store = SqliteStore(str(tmp_path / "rapidvet.db"))
    store.migrate()
    first = replace(small_snapshot(), repo="acme/handbook")
    SNAPSHOT.put(store, "acme/handbook", first.to_json())
    seen = snapshots.load(store, "acme/handbook")
    assert seen == first and snapshots.load(store, "acme/handbook") is seen
    assert seen.measures(TODAY) is seen.measures(TODAY)
    assert seen.measures(TODAY + timedelta(days=400)).fresh == 0  # another day, worked out anew

    pushed = replace(first, commit="c" * 40)
    SNAPSHOT.put(store, "acme/handbook", pushed.to_json())
    assert snapshots.load(store, "acme/handbook").commit == "c" * 40
    store.close()
