"""Pages as HTML: `render` fills the layout's context, `PageError` becomes an error page, and
every response carries the security headers.

Templates are jinja2 with autoescape on: whatever a page shows from markdown, config, payloads
or GitHub is escaped; the one exception is the dashboard's chart, SVG that `dashboard_chart`
builds with every value in it escaped.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import aiohttp_jinja2
from aiohttp import web

from rapidvet.app import __version__ as VERSION
from rapidvet.app.web.pages.keys import REGISTRATION
from rapidvet.app.web.pages.session import csrf_token, viewer

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class Link:
    text: str
    url: str


class PageError(Exception):
    """A page that cannot be shown; error.html says what happened and what to do about it."""

    def __init__(self, status: int, heading: str, detail: str, link: Link | None = None) -> None:
        super().__init__(heading)
        self.status = status
        self.heading = heading
        self.detail = detail
        self.link = link


async def render(
    request: web.Request, template: str, context: Mapping[str, Any], *, status: int = 200
) -> web.Response:
    """`template` with `context` and what the layout needs: the viewer, a CSRF token for forms
    (`csrf_token`), whether signing in is possible, the current path (`here`)."""
    credentials = request.app[REGISTRATION].credentials
    layout = {
        "viewer": await viewer(request),
        "csrf_token": await csrf_token(request),
        "can_sign_in": credentials is not None and credentials.can_sign_in,
        "here": request.path_qs,
        "version": VERSION,
    }
    response = aiohttp_jinja2.render_template(template, request, {**layout, **context})
    response.set_status(status)
    # Pages hold CSRF tokens and what only some people may read: no shared cache keeps them.
    response.headers["Cache-Control"] = "no-store"
    return response


@web.middleware
async def error_pages(request: web.Request, handler: Handler) -> web.StreamResponse:
    """A `PageError`, or a path no route takes, as error.html with its status."""
    try:
        return await handler(request)
    except PageError as error:
        context = {"heading": error.heading, "detail": error.detail, "link": error.link}
        return await render(request, "error.html", context, status=error.status)
    except web.HTTPNotFound:
        if request.match_info.http_exception is None:  # a handler's own 404 stays as it is
            raise
        context = {"heading": "No such page", "detail": f"Nothing lives at {request.path}."}
        return await render(request, "error.html", context, status=404)


def security_headers(web_url: str) -> Callable[[web.Request, web.StreamResponse], Awaitable[None]]:
    """An `on_response_prepare` hook. No page runs a script; forms post here or, for the App
    manifest, to GitHub's web host; images are ours or GitHub's avatars."""
    parts = urlsplit(web_url)
    github = f"{parts.scheme}://{parts.netloc}"
    # Avatars: github.com/<login>.png redirects to its avatar host; GHES serves them itself.
    avatars = github
    if parts.netloc == "github.com":
        avatars += " https://avatars.githubusercontent.com"
    headers = {
        "Content-Security-Policy": (
            f"default-src 'none'; style-src 'self'; img-src 'self' {avatars}; base-uri 'none';"
            f" form-action 'self' {github}; frame-ancestors 'none'"
        ),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
        "X-Frame-Options": "DENY",
    }

    async def add(request: web.Request, response: web.StreamResponse) -> None:
        response.headers.update(headers)

    return add
