"""A repository's pages: the handbook dashboard (`GET /{owner}/{repo}`, with CSV and JSON
exports of its table) and the pull request details page (`GET /{owner}/{repo}/pull/{n}`).

Both read only what the worker stored (the default-branch snapshot and its measure history,
the last evaluation and the timeline); `dashboard_view` and `pull_view` turn that into plain
data and the templates lay it out. Nothing here asks GitHub for a plan, a review or a check run.
"""

from __future__ import annotations

from datetime import UTC, datetime

from aiohttp import web
from markupsafe import Markup

from rapidvet.app.handbook import snapshots, unvetted_merges
from rapidvet.app.pulls import summary, timeline
from rapidvet.app.web.pages import dashboard_view, pull_view
from rapidvet.app.web.pages.auth import require_reader
from rapidvet.app.web.pages.keys import REGISTRATION
from rapidvet.app.web.pages.rendering import render

EXPORTS = {
    "csv": ("text/csv", dashboard_view.dashboard_csv),
    "json": ("application/json", dashboard_view.dashboard_json),
}


async def dashboard_page(request: web.Request) -> web.StreamResponse:
    owner, name = request.match_info["owner"], request.match_info["repo"]
    await require_reader(request, owner, name)
    registration = request.app[REGISTRATION]
    store, repo = registration.store, f"{owner}/{name}"
    query = request.query
    export = query.get("format")
    view = dashboard_view.dashboard(
        repo,
        snapshots.load(store, repo),
        snapshots.history(store, repo),
        datetime.now(UTC).date(),
        sort=query.get("sort"),
        show=query.get("show"),
        page=dashboard_view.ALL_ROWS if export in EXPORTS else query.get("page"),
        web_url=registration.settings.web_url,
        unvetted=unvetted_merges.unvetted(store, repo),
    )
    if export in EXPORTS and view["status"] == "ok":
        content_type, body = EXPORTS[export]
        stem = repo.replace("/", "-")
        return web.Response(
            text=body(view),
            content_type=content_type,
            headers={
                "Content-Disposition": f'attachment; filename="{stem}-plans.{export}"',
                "Cache-Control": "no-store",
            },
        )
    if view["status"] == "ok":
        # The chart is markup dashboard_chart built with every value escaped; nothing else is.
        view = {**view, "chart": Markup(view["chart"])}
    return await render(request, "dashboard.html", {"view": view}, status=view["http_status"])


async def pull_page(request: web.Request) -> web.StreamResponse:
    owner, name = request.match_info["owner"], request.match_info["repo"]
    await require_reader(request, owner, name)
    registration = request.app[REGISTRATION]
    store, repo = registration.store, f"{owner}/{name}"
    number = int(request.match_info["number"])
    view = pull_view.pull_details(
        repo,
        number,
        summary.stored(store, repo, number),
        timeline.pull_events(store, repo, number),
        web_url=registration.settings.web_url,
    )
    return await render(request, "pull.html", {"view": view}, status=view["http_status"])
