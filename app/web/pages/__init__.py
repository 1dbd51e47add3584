"""Server-rendered pages: jinja2 templates (autoescaped), one stylesheet, no script.

For a page module:
- `rendering.render(request, "x.html", context)` renders a template extending base.html
  (blocks `title`, `nav`, `content`; forms take `csrf_token` as a hidden field of that name);
- `rendering.PageError(status, heading, detail, link)` shows error.html instead;
- `auth.require_reader(request, owner, repo)` before showing anything of a repository, and
  `auth.require_owner(request, app)` for the App's own pages;
- register the route in `setup_pages` below, with the repository routes, after the fixed ones.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import aiohttp_jinja2
import aiohttp_session
import jinja2
from aiohttp import web

from rapidvet.app.github.credentials import Registration
from rapidvet.app.web.pages import auth, setup
from rapidvet.app.web.pages.keys import REGISTRATION, SETUP_GATE, SIGN_INS, WAKE
from rapidvet.app.web.pages.proxies import forwarded_scheme
from rapidvet.app.web.pages.rendering import error_pages, security_headers
from rapidvet.app.web.pages.repository import dashboard_page, pull_page
from rapidvet.app.web.pages.session import storage
from rapidvet.app.web.pages.setup_code import SetupGate, setup_code
from rapidvet.app.web.signins import SignIns, sealing_key

STATIC = Path(__file__).resolve().parent.parent / "static"


def setup_pages(app: web.Application, registration: Registration, wake: Callable[[], None]) -> None:
    """Templates, the stylesheet, headers, sessions, CSRF checks, error pages and the routes."""
    app[REGISTRATION] = registration
    app[WAKE] = wake
    app[auth.ANSWERS] = auth.answers()
    settings = registration.settings
    app[SIGN_INS] = SignIns(registration.store, sealing_key(settings))
    app[SETUP_GATE] = SetupGate(
        None if registration.credentials else setup_code(settings, registration.store)
    )
    aiohttp_jinja2.setup(
        app, loader=jinja2.PackageLoader("rapidvet.app.web", "templates"), autoescape=True
    )
    app.on_response_prepare.append(security_headers(settings.web_url))
    # Outermost first: the scheme a trusted proxy saw, for the session cookie's `Secure` and
    # every URL built from the request; the session, for error pages and CSRF checks alike.
    app.middlewares.append(forwarded_scheme(settings.trusted_proxies))
    aiohttp_session.setup(app, storage(settings))
    app.middlewares.append(error_pages)
    app.middlewares.append(auth.csrf_protect)
    app.router.add_static("/static", STATIC, name="static")
    app.add_routes(setup.routes)
    app.add_routes(auth.routes)
    # Repository pages: their first segment is an account name, so they come last.
    app.router.add_get("/{owner}/{repo}", dashboard_page, name="dashboard")
    app.router.add_get("/{owner}/{repo}/pull/{number:[1-9][0-9]{0,9}}", pull_page, name="pull")
