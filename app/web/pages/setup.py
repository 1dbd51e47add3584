"""The set-up page (`GET /`): registers the GitHub App from a manifest while there is none, and
afterwards shows the App, its installations, health, what `rapidvet doctor` finds on the
first repositories, the last deliveries and dead jobs.

Before the manifest form, the page asks for the set-up code (`setup_code`): only whoever can
read the server's log or settings registers the App.

The manifest flow: the page's form POSTs the manifest to GitHub's "new App" page with a
`state` kept in the session; GitHub creates the App and sends the browser to /setup/callback
with a code, which `POST /app-manifests/{code}/conversions` (unauthenticated, within an hour, once)
turns into the App's id, key and secrets. They are stored (encrypted) and taken up at once:
the webhook endpoint opens and the worker starts, with no restart.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import re
from typing import Any
from urllib.parse import quote, urlencode

import aiohttp
import gidgethub
from aiohttp import web
from cachetools import TTLCache
from yarl import URL

from rapidvet.app.github.auth import DEFAULT_TIMEOUT, REQUESTER, GitHubApp
from rapidvet.app.github.client import RapidvetGitHubAPI
from rapidvet.app.github.credentials import AppCredentials, Registration
from rapidvet.app.github.files import bounded
from rapidvet.app.handbook.doctor import NotInstalled, findings, parsed_in_child, read_repository
from rapidvet.app.jobs.isolation import CheckPool, GaveUp, Limits
from rapidvet.app.settings import GENERATE_SECRET_KEY, GENERATE_SECRET_KEY_PYTHON
from rapidvet.app.store import Store
from rapidvet.app.store.records import INSTALLATION
from rapidvet.app.web.pages.auth import (
    OWNER_NAME,
    about_app,
    github_failures,
    install_url,
    public_url,
    registered_github,
    require_owner,
    require_viewer,
)
from rapidvet.app.web.pages.keys import REGISTRATION, SETUP_GATE, WAKE
from rapidvet.app.web.pages.rendering import Link, PageError, render
from rapidvet.app.web.pages.session import (
    allow_setup,
    begin_round_trip,
    end_round_trip,
    setup_allowed,
)
from rapidvet.app.web.pages.setup_code import FAILURE_SECONDS

# Exactly what the App needs: check runs, the merge-record commit and its comment, review
# requests, team members for team-held roles.
PERMISSIONS = {
    "checks": "write",
    "contents": "write",
    "pull_requests": "write",
    "metadata": "read",
    "members": "read",
    "merge_queues": "read",
}
# GitHub sends installation and installation_repositories to every App and refuses a
# manifest that asks for them; each event here is backed by a permission above.
EVENTS = (
    "pull_request",
    "pull_request_review",
    "check_run",
    "check_suite",
    "push",
    "merge_group",
)
MANIFEST_SECONDS = 3600  # GitHub's conversion codes last an hour
CODE = re.compile(r"[A-Za-z0-9_-]{1,200}")
DELIVERIES_SHOWN = 10
DEAD_JOBS_SHOWN = 20
REPOSITORIES_SHOWN = 100
DIAGNOSED_SHOWN = 20  # each costs a handful of GitHub requests per view of the page

routes = web.RouteTableDef()


def manifest(base_url: str, org: str) -> dict[str, Any]:
    """The App manifest for a server reached at `base_url`, registered for `org` ("" for the
    signed-in user's own account)."""
    return {
        "name": f"rapidvet-{org}" if org else "rapidvet",
        "url": base_url,
        "description": "Vets VPMOM plans in a Git handbook through RAPID reviews.",
        "hook_attributes": {"url": f"{base_url}/webhooks", "active": True},
        "redirect_url": f"{base_url}/setup/callback",
        "callback_urls": [f"{base_url}/login/callback"],
        "setup_url": f"{base_url}/",
        "public": False,
        "default_permissions": PERMISSIONS,
        "default_events": list(EVENTS),
    }


def loopback(url: str) -> bool:
    """Whether `url` names this host only (localhost, 127.0.0.0/8, ::1): GitHub cannot reach it
    unless it runs here too."""
    host = URL(url).host or ""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def new_app_url(web_url: str, org: str) -> str:
    """GitHub's "new App" page: under an organization, or the signed-in user."""
    if org:
        return f"{web_url}/organizations/{quote(org)}/settings/apps/new"
    return f"{web_url}/settings/apps/new"


@routes.get("/", name="setup")
async def setup_page(request: web.Request) -> web.StreamResponse:
    registration = request.app[REGISTRATION]
    if registration.refresh():  # another process may have registered it meanwhile
        return await _configured(request, registration)
    return await _unconfigured(request, registration)


async def _render_setup(
    request: web.Request, context: dict[str, Any], status: int = 200
) -> web.Response:
    """setup.html, whichever step: each shows what the App will ask for, as the page promises."""
    asks = {"permissions": PERMISSIONS, "events": EVENTS}
    return await render(request, "setup.html", asks | context, status=status)


async def _unconfigured(request: web.Request, registration: Registration) -> web.Response:
    settings = registration.settings
    if settings.secret_key is None:
        commands = [GENERATE_SECRET_KEY, GENERATE_SECRET_KEY_PYTHON]
        return await _render_setup(request, {"generate_commands": commands})
    if not await setup_allowed(request):
        return await _ask_code(request)
    org = request.query.get("org", "").strip()
    if org and not OWNER_NAME.fullmatch(org):
        error = f"{org!r} is not a GitHub organization name."
        return await _render_setup(request, {"org": org, "org_error": error}, status=400)
    base = public_url(request)
    app_manifest = manifest(base, org)
    context: dict[str, Any] = {
        "org": org,
        "manifest": app_manifest,
        "public_url": base,
        "loopback": loopback(base),
        # Without the setting the addresses come from the Host header this browser sent: only
        # a loopback one is taken as is (the admin on the server, or a GitHub on this host).
        "register_blocked": settings.public_url is None and not loopback(base),
    }
    if not context["register_blocked"]:
        state = await begin_round_trip(request, "manifest")
        context["action"] = new_app_url(settings.web_url, org) + "?" + urlencode({"state": state})
        context["manifest_json"] = json.dumps(app_manifest)
    return await _render_setup(request, context)


@routes.post("/setup/code", name="setup_code")
async def setup_code_sent(request: web.Request) -> web.StreamResponse:
    """The set-up code from the page's form: right, and this browser may register the App."""
    if request.app[REGISTRATION].refresh():
        raise _set_up_already()
    gate, peer = request.app[SETUP_GATE], request.remote or ""
    if gate.locked_out(peer):
        error = f"Too many wrong set-up codes: wait {FAILURE_SECONDS} seconds and try again."
        response = await _ask_code(request, error, status=429)
        response.headers["Retry-After"] = str(FAILURE_SECONDS)
        return response
    sent = (await request.post()).get("code")
    if not isinstance(sent, str) or not gate.check(peer, sent):
        error = "That is not the set-up code. Copy it from rapidvet's log, as the page says."
        return await _ask_code(request, error, status=403)
    await allow_setup(request)
    raise web.HTTPSeeOther("/")


async def _ask_code(request: web.Request, error: str = "", status: int = 200) -> web.Response:
    """The page's form asking for the set-up code, with what was wrong with the last one."""
    github = request.app[REGISTRATION].settings.web_url
    context = {"ask_code": True, "code_error": error, "github": github}
    return await _render_setup(request, context, status=status)


def _set_up_already() -> PageError:
    return PageError(409, "rapidvet is set up already", "It has a GitHub App.", Link("Go", "/"))


@routes.get("/setup/callback", name="setup_callback")
async def setup_callback(request: web.Request) -> web.StreamResponse:
    registration = request.app[REGISTRATION]
    state, code = request.query.get("state", ""), request.query.get("code", "")
    trip = await end_round_trip(request, "manifest", state, MANIFEST_SECONDS)
    if trip is None or not CODE.fullmatch(code):
        raise PageError(
            400,
            "This set-up link is not valid",
            "It was not started from this browser's set-up page, was used already or has expired.",
            Link("Start again", "/"),
        )
    if registration.refresh():
        raise _set_up_already()
    credentials = await _convert(registration, code)
    if not registration.register(credentials):
        raise _set_up_already()
    raise web.HTTPSeeOther(await install_url(registration))


async def _convert(registration: Registration, code: str) -> AppCredentials:
    """The new App's credentials, from the manifest flow's code."""
    async with aiohttp.ClientSession(timeout=DEFAULT_TIMEOUT) as session:
        api = RapidvetGitHubAPI(
            session, REQUESTER, installation="app", base_url=registration.settings.github_url
        )
        with github_failures():
            try:
                app = await api.post("/app-manifests/{code}/conversions", {"code": code}, data=b"")
            except gidgethub.BadRequest as error:
                if error.status_code not in (404, 422):
                    raise
                raise PageError(
                    400,
                    "GitHub did not accept the set-up code",
                    "Codes work once and for an hour only.",
                    Link("Start again", "/"),
                ) from None
    if not app.get("webhook_secret"):  # GitHub makes one when the manifest has a webhook
        raise PageError(502, "GitHub gave the App no webhook secret", "Register it again.")
    return AppCredentials(
        app_id=int(app["id"]),
        private_key=app["pem"],
        webhook_secret=app["webhook_secret"],
        slug=app["slug"],
        client_id=app["client_id"],
        client_secret=app["client_secret"],
    )


async def _configured(request: web.Request, registration: Registration) -> web.Response:
    await require_viewer(request)  # before asking GitHub anything for an anonymous visitor
    app = await about_app(registration)
    await require_owner(request, app)
    github, store = registered_github(registration), registration.store
    database_ok = store.ping()
    api = github.app_api()
    with github_failures():
        installations = [i async for i in api.getiter("/app/installations")]
        for installation in installations:
            try:
                installation["repositories"] = await _repositories(
                    store if database_ok else None, github, installation["id"]
                )
            except gidgethub.BadRequest as error:  # a suspended installation, say
                installation["repositories_error"] = str(error) or f"HTTP {error.status_code}"
        deliveries = await api.getitem(
            "/app/hook/deliveries{?per_page}", {"per_page": DELIVERIES_SHOWN}
        )
    context: dict[str, Any] = {
        "github_app": app,
        "install_url": await install_url(registration),
        "installations": installations,
        "deliveries": deliveries,
        "dead_jobs": store.dead_jobs(limit=DEAD_JOBS_SHOWN) if database_ok else [],
        "database_ok": database_ok,
        "rate_limit": api.rate_limit,
    }
    names = [name for i in installations for name in i.get("repositories", [])]
    context["diagnoses"] = await _diagnoses(registration, github, names[:DIAGNOSED_SHOWN])
    context["undiagnosed"] = len(names) - len(context["diagnoses"])
    return await render(request, "setup_configured.html", context)


# What doctor found per repository, kept a few minutes: each repository costs 6-8 GitHub
# requests and the view a checking pool, so reloading the page costs neither again at once.
_DIAGNOSED: TTLCache[str, dict[str, Any]] = TTLCache(maxsize=1024, ttl=300)


async def _diagnoses(
    registration: Registration, github: GitHubApp, names: list[str]
) -> list[dict[str, Any]]:
    """What `rapidvet doctor` finds on each repository of `names`. Each rapid.yml is a
    stranger's text, parsed in a checking child within one job's limits (a pool of this
    view's own, started off the event loop: starting one takes a second or two)."""
    missing = [name for name in names if name not in _DIAGNOSED]
    if missing:
        settings = registration.settings
        limits = Limits(settings.job_seconds, settings.job_memory_mb)
        pool = await asyncio.to_thread(CheckPool, limits)
        try:
            with pool.job():
                found = await bounded(_diagnosis(github, name) for name in missing)
        finally:
            await asyncio.to_thread(pool.close)
        _DIAGNOSED.update((diagnosis["repo"], diagnosis) for diagnosis in found)
    return [_DIAGNOSED[name] for name in names if name in _DIAGNOSED]


async def _diagnosis(github: GitHubApp, name: str) -> dict[str, Any]:
    """One repository's findings, or why they could not be read: one repository GitHub will
    not answer for leaves the others' shown."""
    try:
        return {
            "repo": name,
            "findings": findings(await read_repository(github, name, parsed_in_child)),
        }
    except NotInstalled:
        return {"repo": name, "error": "the App is no longer installed on it."}
    except (gidgethub.HTTPException, aiohttp.ClientError, TimeoutError, GaveUp) as error:
        return {"repo": name, "error": f"{type(error).__name__}: {error}"}


async def _repositories(store: Store | None, github: GitHubApp, installation_id: int) -> list[str]:
    """The installation's repositories: as the installation handler recorded them in `store`,
    else as GitHub lists them."""
    recorded = INSTALLATION.get(store, str(installation_id)) if store else None
    if recorded is not None:
        return list(recorded.get("repositories", []))[:REPOSITORIES_SHOWN]
    api = await github.installation_api(installation_id)
    listed = await api.getitem(
        "/installation/repositories{?per_page}", {"per_page": REPOSITORIES_SHOWN}
    )
    return [str(repo["full_name"]) for repo in listed["repositories"]]


@routes.post("/setup/dead-jobs/{job_id:[0-9]+}/retry", name="retry_dead_job")
async def retry_dead_job(request: web.Request) -> web.StreamResponse:
    registration = request.app[REGISTRATION]
    await require_viewer(request)
    await require_owner(request, await about_app(registration))
    if registration.store.requeue_dead(int(request.match_info["job_id"])):
        request.app[WAKE]()
    raise web.HTTPSeeOther("/#dead-jobs")
