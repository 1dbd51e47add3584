"""What the handbook dashboard (`GET /{owner}/{repo}`) shows, as a view (see `views`): the
default-branch snapshot's measure and its plans table, sorted, filtered and served in pages,
with the chart of the measure history (`dashboard_chart`); and the table's CSV and JSON
exports. Whether the App is installed on the repository at all the page asks GitHub before it
builds a view (pages.auth).
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date
from typing import Any
from urllib.parse import urlencode

from rapidvet.app.handbook.snapshots import MeasurePoint, PlanRow, Snapshot, changed_since_vetted
from rapidvet.app.handbook.unvetted_merges import PlanMerge
from rapidvet.app.web.pages.dashboard_chart import measure_chart_svg
from rapidvet.app.web.pages.views import Links, View
from rapidvet.checks.measures import FRESH_DAYS, HandbookMeasures, PlanEntry
from rapidvet.workflows.changes import BlockKey

# A plan in a dashboard table: its place in page order, the measures' entry, the snapshot's
# row, and the merge that changed it without vetting since its Vetted date, if one did.
Plan = tuple[int, PlanEntry, PlanRow, PlanMerge | None]
# Sorting is stable and the plans start in page order, so ties stay in page order.
SORTS: dict[str, tuple[str, Callable[[Plan], Any]]] = {
    "page": ("Page", lambda plan: plan[0]),
    "title": ("Title", lambda plan: plan[1].title.casefold()),
    # Never vetted reads as older than any date.
    "age": ("Age", lambda plan: math.inf if plan[1].age_days is None else plan[1].age_days),
}
DEFAULT_SORT = "page"
SHOWS: dict[str, str] = {
    "all": "All plans",
    "stale": "Stale",
    "unvetted": "Never vetted",
    "changed": "Changed since vetted",
}
ROWS_PER_PAGE = 500  # a 10 000-plan table is served in pages; the exports hold every row
ALL_ROWS = "all"  # the `page` value of the exports
PAGE_NUMBER = re.compile(r"[1-9][0-9]{0,8}")
CSV_COLUMNS = (
    "page",
    "line",
    "title",
    "kind",
    "period",
    "vetted",
    "age_days",
    "stale",
    "changed_since_vetted",
    "decider",
    "rapid",
    "url",
)
# A spreadsheet takes a cell starting with one of these for a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def dashboard(
    repo: str,
    snapshot: Snapshot | None,
    points: Sequence[MeasurePoint],
    today: date,
    *,
    sort: str | None = None,
    show: str | None = None,
    page: str | None = None,
    web_url: str,
    unvetted: Mapping[BlockKey, PlanMerge] | None = None,
) -> View:
    """The query values: `sort` a column of SORTS ("-" first for descending), `show` a key of
    SHOWS, `page` the number of the table's page (the first by default), or ALL_ROWS for
    every row, as the exports take it. `unvetted`: the plans whose last merge was no vetting
    (`unvetted_merges.unvetted`), for "changed since vetted"."""
    if snapshot is None:
        return {
            "status": "pending",
            "http_status": 200,
            "repo": repo,
            "message": f"The first snapshot of {repo} is being taken; this page fills in then.",
        }
    measures = snapshot.measures(today)
    links = Links(web_url, repo, snapshot.commit)
    marks = changed_since_vetted(snapshot, unvetted or {})
    changed = sum(mark is not None for mark in marks)
    return {
        "status": "ok",
        "http_status": 200,
        "repo": repo,
        "repo_url": f"{web_url}/{repo}",
        "branch": snapshot.branch,
        "commit": snapshot.commit,
        "commit_url": links.commit(snapshot.commit),
        "read_at": snapshot.read_at.isoformat(),
        "today": today.isoformat(),
        "truncated": snapshot.truncated,
        "measure": _measure(measures, changed, snapshot.stale_after_days),
        **_table(snapshot, measures, marks, changed, links, sort=sort, show=show, page=page),
        "placeholders": [
            {
                "page": p.path,
                "line": p.line,
                "title": p.title,
                "marker": p.marker,
                "url": links.lines(snapshot.commit, p.path, p.line),
            }
            for p in measures.placeholders
        ],
        "unlisted": None
        if measures.unlisted is None
        else [{"page": p, "url": links.page(p)} for p in measures.unlisted],
        "chart": measure_chart_svg(points),
    }


def _table(
    snapshot: Snapshot,
    measures: HandbookMeasures,
    marks: Sequence[PlanMerge | None],
    changed: int,
    links: Links,
    *,
    sort: str | None,
    show: str | None,
    page: str | None,
) -> View:
    """The plans table: the rows of the page asked for, filtered and sorted as asked, with
    the links that sort, filter, turn its pages and export it. `marks`: each plan's merge
    without vetting since its Vetted date, of which `changed` are not None."""
    stale_after = snapshot.stale_after_days
    column, descending = _sort(sort)
    shown = show if show in SHOWS else "all"
    every: list[Plan] = [
        (n, entry, row, mark)
        for n, (entry, row, mark) in enumerate(
            zip(measures.plans, snapshot.plans, marks, strict=True)
        )
    ]
    plans = [plan for plan in every if shown == "all" or _is(shown, plan, stale_after)]
    ordered = sorted(plans, key=SORTS[column][1], reverse=descending)
    window = _window(len(ordered), page)
    oldest = max((p.age_days for p in measures.plans if p.age_days is not None), default=0)
    scale = max(oldest, stale_after, 1)
    query = _Query(f"-{column}" if descending else column, shown, window["page"])
    return {
        "sort": query.sort,
        "sorts": _sorts(query, column, descending),
        "show": shown,
        "shows": _shows(query, measures, changed),
        "window": {
            **window,
            "previous": query.href(page=window["previous"]) if window["previous"] else None,
            "next": query.href(page=window["next"]) if window["next"] else None,
        },
        "bar_scale_days": scale,
        "stale_mark": round(100 * stale_after / scale, 1),
        "plans": [
            _plan_row(entry, row, mark, stale_after, scale, links)
            for _, entry, row, mark in ordered[window["first"] : window["last"]]
        ],
        "exports": {
            "csv": query.href(format="csv", page=ALL_ROWS),
            "json": query.href(format="json", page=ALL_ROWS),
        },
    }


@dataclass(frozen=True)
class _Query:
    """The query of the view shown: its column (with "-" for descending), filter and page."""

    sort: str
    show: str
    page: int | str

    def href(self, **changes: str | int | None) -> str:
        """A link to this view with `changes` to its query; defaults left out."""
        values = {"sort": self.sort, "show": self.show, "page": self.page, **changes}
        defaults = {"sort": DEFAULT_SORT, "show": "all", "page": 1}
        query = {k: v for k, v in values.items() if v is not None and v != defaults.get(k)}
        return "?" + urlencode(query)


def _measure(measures: HandbookMeasures, changed: int, stale_after: int) -> View:
    return {
        "percent": measures.fresh_percent,
        "fresh": measures.fresh,
        "plans": len(measures.plans),
        "pages": measures.pages,
        "stale": len(measures.stale),
        "unvetted": len(measures.unvetted),
        "changed": changed,
        "placeholders": len(measures.placeholders),
        "unlisted": None if measures.unlisted is None else len(measures.unlisted),
        "fresh_days": FRESH_DAYS,
        "stale_after_days": stale_after,
    }


def _sorts(query: _Query, column: str, descending: bool) -> list[View]:
    """The table's sortable columns; the active one's link turns its order around."""
    return [
        {
            "key": key,
            "label": label,
            "active": key == column,
            "descending": key == column and descending,
            "href": query.href(sort=f"-{key}" if key == column and not descending else key, page=1),
        }
        for key, (label, _) in SORTS.items()
    ]


def _shows(query: _Query, measures: HandbookMeasures, changed: int) -> list[View]:
    """The table's filters, each with how many plans it shows."""
    counts = {
        "all": len(measures.plans),
        "stale": len(measures.stale),
        "unvetted": len(measures.unvetted),
        "changed": changed,
    }
    return [
        {
            "key": key,
            "label": label,
            "count": counts[key],
            "active": key == query.show,
            "href": query.href(show=key, page=1),
        }
        for key, label in SHOWS.items()
    ]


def _is(show: str, plan: Plan, stale_after: int) -> bool:
    _, entry, _, mark = plan
    if show == "stale":
        return entry.age_days is not None and entry.age_days > stale_after
    if show == "changed":
        return mark is not None
    return entry.vetted is None


def _window(rows: int, page: str | None) -> dict[str, Any]:
    """Which rows of the table to show: page `page` of `pages` (the first by default, or
    every row for "all"), `first` and `last` as slice bounds, and the neighbouring pages."""
    if page == ALL_ROWS:
        return {
            "page": ALL_ROWS,
            "pages": 1,
            "first": 0,
            "last": rows,
            "previous": None,
            "next": None,
        }
    pages = max(1, -(-rows // ROWS_PER_PAGE))
    number = min(int(page), pages) if page and PAGE_NUMBER.fullmatch(page) else 1
    first = (number - 1) * ROWS_PER_PAGE
    return {
        "page": number,
        "pages": pages,
        "first": first,
        "last": min(first + ROWS_PER_PAGE, rows),
        "previous": number - 1 if number > 1 else None,
        "next": number + 1 if number < pages else None,
    }


def _plan_row(
    entry: PlanEntry,
    row: PlanRow,
    mark: PlanMerge | None,
    stale_after: int,
    scale: int,
    links: Links,
) -> View:
    """A plan as the table shows it: the measures' entry, with the snapshot's last line and
    D holder, its age as a bar (percent of `scale` days), and the pull request that changed
    it without vetting since its Vetted date, if one did."""
    age = entry.age_days
    return {
        "page": entry.path,
        "line": entry.line,
        "end_line": row.end_line,
        "title": entry.title,
        "kind": entry.kind,
        "period": entry.period,
        "vetted": row.vetted,
        "age_days": age,
        "bar": None if age is None else round(100 * age / scale, 1),
        "stale": age is not None and age > stale_after,
        "changed_since_vetted": mark is not None,
        "changed_by": None
        if mark is None
        else {
            "number": mark.number,
            "url": links.pull(mark.number),
            "merged_on": mark.merged_at.astimezone(UTC).date().isoformat(),
            "missing": list(mark.missing),
        },
        "decider": row.decider,
        "rapid": entry.rapid,
        "url": links.lines(links.commit_sha, entry.path, entry.line, row.end_line),
    }


def _sort(value: str | None) -> tuple[str, bool]:
    column = (value or "").removeprefix("-")
    if column not in SORTS:
        return DEFAULT_SORT, False
    return column, bool(value and value.startswith("-"))


def dashboard_csv(view: View) -> str:
    """The plans table of a dashboard view, in its order, as CSV."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for row in view["plans"]:
        writer.writerow([_cell(row[column]) for column in CSV_COLUMNS])
    return out.getvalue()


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return f"'{value}"  # text from the handbook must not run as a formula when opened
    return str(value)


def dashboard_json(view: View) -> str:
    """The plans table of a dashboard view, with the measure, as JSON."""
    keys = ("repo", "branch", "commit", "read_at", "today", "sort", "show", "measure")
    plans = [{column: row[column] for column in CSV_COLUMNS} for row in view["plans"]]
    return json.dumps({**{key: view[key] for key in keys}, "plans": plans}, ensure_ascii=False)
