"""What the pull request details page and the handbook dashboard show, as plain data.

Built from what the worker stored (the evaluation summary, the timeline, the default-branch
snapshot and its measure history) with no I/O and no HTML, so a renderer only lays it out.
Links point at GitHub (`web_url`: https://github.com, or the GitHub Enterprise Server).
Every view has `status` ("ok", "not_found" or, for a dashboard whose first snapshot is still
being taken, "pending") and the `http_status` to answer with. Whether the App is installed on
the repository at all the page asks GitHub before it builds a view (pages.auth).
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date
from typing import Any
from urllib.parse import quote, urlencode
from xml.sax.saxutils import escape

from rapidvet.app.handbook.snapshots import MeasurePoint, PlanRow, Snapshot, changed_since_vetted
from rapidvet.app.handbook.unvetted_merges import PlanMerge
from rapidvet.app.pulls import timeline
from rapidvet.app.pulls.summary import Summary, SummaryRow
from rapidvet.checks.measures import FRESH_DAYS, PlanEntry
from rapidvet.checks.paths import path_problem, url_path
from rapidvet.workflows.changes import BlockKey

View = dict[str, Any]

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
URL_SAFE = re.compile(r"[A-Za-z0-9_.~/-]*")
# A spreadsheet takes a cell starting with one of these for a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


# -- the pull request details page -----------------------------------------------------------


def pull_details(
    repo: str,
    number: int,
    summary: Summary | None,
    events: Sequence[Mapping[str, Any]],
    *,
    web_url: str,
) -> View:
    """`summary`: the pull request's last evaluation (`summary.stored`); `events`:
    `timeline.pull_events` of the pull request."""
    if summary is None:
        return _not_found(f"rapidvet has not seen pull request #{number} of {repo}.")
    # A summary stored before the details page existed has no pull request: its author,
    # base and link are left empty or made from the number.
    pull = summary.pull
    head, base = summary.head_sha, pull.base_sha if pull else ""
    url = pull.url if pull and pull.url else f"{web_url}/{repo}/pull/{number}"
    links = _Links(web_url, repo)
    return {
        "status": "ok",
        "http_status": 200,
        "repo": repo,
        "number": number,
        "url": url,
        "author": pull.author if pull else None,
        "base_ref": pull.base_ref if pull else None,
        "head_sha": head,
        "head_url": links.commit(head),
        "conclusion": summary.conclusion,
        "title": summary.title,
        "blocks": [
            {
                "path": b.path,
                "title": b.title,
                "start": b.line,
                "end": b.end_line,
                "change": b.change,
                "url": links.lines(
                    base if b.change == "deleted" else head, b.path, b.line, b.end_line
                ),
            }
            for b in summary.blocks
        ],
        "roles": [_role(row, url, links) for row in summary.rows],
        "unblocks": [
            {
                "reviewer": u.reviewer,
                "handle": u.handle,
                "avatar_url": links.avatar(u.handle),
                "completes": u.completes,
                "satisfies": [row.to_json() for row in u.rows],
            }
            for u in summary.unblocks
        ],
        "findings": [
            {**f.to_json(), "url": links.lines(head, f.path, f.line, f.end_line)}
            for f in summary.findings
        ],
        "notes": [
            {
                **n.to_json(),
                "url": links.lines(head, n.path, n.line) if n.path and n.line else None,
            }
            for n in summary.notes
        ],
        "timeline": [_event(e, url, links) for e in events],
    }


def _role(row: SummaryRow, pull_url: str, links: _Links) -> View:
    review = row.review
    return {
        "path": row.path,
        "block": row.block,
        "role": row.role,
        "holder": row.holder,
        "handle": row.handle,
        "profile_url": links.profile(row.handle),
        "avatar_url": links.avatar(row.handle),
        "state": row.state,
        "required": row.required,
        "reviewer": row.reviewer,
        "reviewed_at": review.submitted_at.isoformat() if review else None,
        "review_url": f"{pull_url}#pullrequestreview-{review.id}" if review else None,
        "by_author": row.by_author,
        "waiting_on": list(row.waiting_on),
    }


def _event(event: Mapping[str, Any], pull_url: str, links: _Links) -> View:
    kind = event["kind"]
    text, url = kind, None
    if kind == timeline.DELIVERY:
        action = f".{event['action']}" if event.get("action") else ""
        text = f"Received {event['event']}{action} (delivery {event['delivery']})"
    elif kind == timeline.EVALUATION:
        text = f"Evaluated {event['head_sha'][:7]}: {event['conclusion']} — {event['title']}"
        url = links.commit(event["head_sha"])
    elif kind == timeline.CHECK_RUN:
        text = f"Check run “{event['name']}” {event['action']}: {event['conclusion']}"
        url = event.get("url")
    elif kind == timeline.REVIEWERS:
        names = [f"@{u}" for u in event["users"]] + [f"team {t}" for t in event["teams"]]
        text, url = f"Review requested from {', '.join(names)}", pull_url
    elif kind == timeline.MERGE_COMMIT:
        text, url = f"Merge record committed as {event['sha'][:7]}", event["url"]
    elif kind == timeline.MERGE_COMMENT:
        text, url = "Decision comment posted", event["url"]
    elif kind == timeline.MERGE_REFUSED:
        reason = " ".join(event["reason"].split())
        text = f"{event['branch']} refused the direct record ({reason}): follow-up pull request"
    return {"at": event["at"], "kind": kind, "text": text, "url": url}


# -- the handbook dashboard ------------------------------------------------------------------


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
    links = _Links(web_url, repo, snapshot.commit)
    stale_after = snapshot.stale_after_days
    column, descending = _sort(sort)
    shown = show if show in SHOWS else "all"
    marks = changed_since_vetted(snapshot, unvetted or {})
    every: list[Plan] = [
        (n, entry, row, mark)
        for n, (entry, row, mark) in enumerate(
            zip(measures.plans, snapshot.plans, marks, strict=True)
        )
    ]
    changed = sum(mark is not None for mark in marks)
    plans = [plan for plan in every if shown == "all" or _is(shown, plan, stale_after)]
    ordered = sorted(plans, key=SORTS[column][1], reverse=descending)
    window = _window(len(ordered), page)
    counts = {
        "all": len(measures.plans),
        "stale": len(measures.stale),
        "unvetted": len(measures.unvetted),
        "changed": changed,
    }
    oldest = max((p.age_days for p in measures.plans if p.age_days is not None), default=0)
    scale = max(oldest, stale_after, 1)
    current = f"-{column}" if descending else column

    def href(**changes: str | int | None) -> str:
        """A link to this view with `changes` to its query; defaults left out."""
        values = {"sort": current, "show": shown, "page": window["page"], **changes}
        defaults = {"sort": DEFAULT_SORT, "show": "all", "page": 1}
        query = {k: v for k, v in values.items() if v is not None and v != defaults.get(k)}
        return "?" + urlencode(query)

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
        "measure": {
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
        },
        "sort": current,
        "sorts": [
            {
                "key": key,
                "label": label,
                "active": key == column,
                "descending": key == column and descending,
                "href": href(sort=f"-{key}" if key == column and not descending else key, page=1),
            }
            for key, (label, _) in SORTS.items()
        ],
        "show": shown,
        "shows": [
            {
                "key": key,
                "label": label,
                "count": counts[key],
                "active": key == shown,
                "href": href(show=key, page=1),
            }
            for key, label in SHOWS.items()
        ],
        "window": {
            **window,
            "previous": href(page=window["previous"]) if window["previous"] else None,
            "next": href(page=window["next"]) if window["next"] else None,
        },
        "bar_scale_days": scale,
        "stale_mark": round(100 * stale_after / scale, 1),
        "plans": [
            _plan_row(entry, row, mark, stale_after, scale, links)
            for _, entry, row, mark in ordered[window["first"] : window["last"]]
        ],
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
        "exports": {
            "csv": href(format="csv", page=ALL_ROWS),
            "json": href(format="json", page=ALL_ROWS),
        },
    }


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
    links: _Links,
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


# -- the measure chart -----------------------------------------------------------------------

WIDTH, HEIGHT = 640, 240
LEFT, RIGHT, TOP, BOTTOM = 56, 16, 16, 44
CHART_TITLE = "% of plans vetted within 12 months"  # FRESH_DAYS, as the SOP words it


def measure_chart_svg(points: Sequence[MeasurePoint]) -> str:
    """% of plans vetted within 12 months over time, as an inline SVG drawn on the server:
    axes with labels, the line, a dot per snapshot and a tick per merge record (each with a
    tooltip), a title and a description for screen readers; no script."""
    measured = sorted((p for p in points if p.percent is not None), key=lambda p: p.at)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="{WIDTH}" height="{HEIGHT}" role="img" '
        'aria-labelledby="measure-chart-title measure-chart-desc">',
        f'<title id="measure-chart-title">{escape(CHART_TITLE)}</title>',
        f'<desc id="measure-chart-desc">{escape(_describe(measured))}</desc>',
    ]
    bottom, right = HEIGHT - BOTTOM, WIDTH - RIGHT
    parts.append('<g font-family="sans-serif" font-size="11" fill="currentColor">')
    for percent in (0, 50, 100):
        y = _y(percent)
        parts.append(
            f'<line x1="{LEFT}" y1="{y}" x2="{right}" y2="{y}" stroke="currentColor" '
            f'stroke-opacity="{0.6 if percent == 0 else 0.2}"/>'
            f'<text x="{LEFT - 6}" y="{y + 4}" text-anchor="end">{percent}%</text>'
        )
    parts.append(
        f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{bottom}" stroke="currentColor" '
        'stroke-opacity="0.6"/>'
        f'<text transform="translate(14 {(TOP + bottom) / 2}) rotate(-90)" '
        f'text-anchor="middle">{escape(CHART_TITLE)}</text>'
    )
    if not measured:
        parts.append(
            f'<text x="{(LEFT + right) / 2}" y="{(TOP + bottom) / 2}" text-anchor="middle">'
            "No measurements yet</text></g></svg>"
        )
        return "".join(parts)
    first, last = measured[0].at, measured[-1].at
    span = (last - first).total_seconds()

    def x(point: MeasurePoint) -> float:
        share = (point.at - first).total_seconds() / span if span else 0.5
        return round(LEFT + share * (right - LEFT), 1)

    parts.append(
        f'<text x="{LEFT}" y="{bottom + 16}">{escape(first.date().isoformat())}</text>'
        f'<text x="{right}" y="{bottom + 16}" text-anchor="end">'
        f"{escape(last.date().isoformat())}</text>"
        f'<text x="{(LEFT + right) / 2}" y="{HEIGHT - 6}" text-anchor="middle">'
        "date of the snapshot</text></g>"
    )
    line = " ".join(f"{x(p)},{_y(p.percent or 0)}" for p in measured)
    parts.append(f'<polyline points="{line}" fill="none" stroke="currentColor" stroke-width="2"/>')
    for point in measured:
        vetted = ", ".join(f"#{n}" for n in point.vetted_in)
        note = f"{point.at.date()}: {point.percent}% of {point.plans} plans, {point.commit[:7]}"
        if vetted:
            note += f"; merge records of {vetted}"
            parts.append(
                f'<line x1="{x(point)}" y1="{TOP}" x2="{x(point)}" y2="{bottom}" '
                'stroke="currentColor" stroke-dasharray="3 3" stroke-opacity="0.5">'
                f"<title>{escape(f'Vetted in {vetted}')}</title></line>"
            )
        parts.append(
            f'<circle cx="{x(point)}" cy="{_y(point.percent or 0)}" r="3" fill="currentColor">'
            f"<title>{escape(note)}</title></circle>"
        )
    parts.append("</svg>")
    return "".join(parts)


def _y(percent: float) -> float:
    return round(TOP + (100 - percent) / 100 * (HEIGHT - BOTTOM - TOP), 1)


def _describe(measured: Sequence[MeasurePoint]) -> str:
    if not measured:
        return "No snapshot of the handbook has measured any plan yet."
    first, last = measured[0], measured[-1]
    merges = sorted({n for p in measured for n in p.vetted_in})
    text = (
        f"From {first.percent}% on {first.at.date()} to {last.percent}% of {last.plans} plans "
        f"on {last.at.date()}, over {len(measured)} snapshots."
    )
    if merges:
        text += " Merge records: " + ", ".join(f"#{n}" for n in merges) + "."
    return text


# -- shared ----------------------------------------------------------------------------------


def _not_found(message: str) -> View:
    return {"status": "not_found", "http_status": 404, "message": message}


class _Links:
    """URLs on GitHub for one repository."""

    def __init__(self, web_url: str, repo: str, commit: str = "") -> None:
        self.web_url = web_url
        self.repo = repo
        self.commit_sha = commit

    def commit(self, sha: str) -> str:
        return f"{self.web_url}/{self.repo}/commit/{sha}"

    def pull(self, number: int) -> str:
        return f"{self.web_url}/{self.repo}/pull/{number}"

    def page(self, path: str) -> str | None:
        quoted = _quoted(path)
        return quoted and f"{self.web_url}/{self.repo}/blob/{self.commit_sha}/{quoted}"

    def lines(self, sha: str, path: str, start: int, end: int | None = None) -> str | None:
        span = f"L{start}" if end is None or end == start else f"L{start}-L{end}"
        quoted = _quoted(path)
        return quoted and f"{self.web_url}/{self.repo}/blob/{sha}/{quoted}#{span}"

    def profile(self, handle: str | None) -> str | None:
        if not handle:
            return None
        org, _, team = handle[1:].partition("/")
        return f"{self.web_url}/orgs/{org}/teams/{team}" if team else f"{self.web_url}/{org}"

    def avatar(self, handle: str | None) -> str | None:
        """GitHub serves an account's avatar at /<login>.png; a team shows its organization's."""
        if not handle:
            return None
        account = handle[1:].partition("/")[0]
        return f"{self.web_url}/{quote(account)}.png?size=40"


def _quoted(path: str) -> str | None:
    """`path` in a link; None for one that cannot go into a URL (an `unsafe-path` finding's)."""
    if path_problem(path) is not None:
        return None
    # Most paths need no escaping, and checking is much cheaper than quoting (10 000 rows).
    return path if URL_SAFE.fullmatch(path) else url_path(path)
