"""Who may see what: GitHub sign-in with the App's OAuth client, CSRF checks on forms, and the
access checks page handlers call.

`RAPIDVET_PAGES` says who sees a repository's pages: `public` (anyone), `repo-readers` (a
signed-in user who can read the repository on GitHub, asked with that user's own token) or
`off` (nobody). The set-up page is open while the App is not registered and afterwards only
to owners of the account the App belongs to. GitHub's answers about a user are kept a few
minutes.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

import aiohttp
import gidgethub
from aiohttp import web
from cachetools import TTLCache
from yarl import URL

from rapidvet.app.github.auth import REQUESTER, GitHubApp
from rapidvet.app.github.client import RapidvetGitHubAPI
from rapidvet.app.github.credentials import Registration
from rapidvet.app.web.pages.keys import REGISTRATION
from rapidvet.app.web.pages.rendering import Handler, Link, PageError, render
from rapidvet.app.web.pages.session import (
    begin_round_trip,
    csrf_matches,
    end_round_trip,
    sign_in,
    sign_out,
    viewer,
)
from rapidvet.app.web.signins import Viewer

ANSWER_SECONDS = 300  # how long "can this user read owner/repo" is believed
ANSWERS_KEPT = 4096
SIGN_IN_SECONDS = 600  # time allowed on GitHub's authorization page
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_EXEMPT = frozenset({"/webhooks"})  # signed by GitHub instead
# GitHub's rules for account and repository names: nothing else is worth asking it about.
OWNER_NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})")
REPO_NAME = re.compile(r"[A-Za-z0-9._-]{1,100}")
# A path-absolute reference of printable ASCII: no space, control character or backslash, and
# not "//" (another host). Browsers resolve anything it matches on this server.
LOCAL_PATH = re.compile(r"/(?![/\\])[\x21-\x5b\x5d-\x7e]*")

ANSWERS: web.AppKey[TTLCache[tuple[str, ...], bool]] = web.AppKey("answers")
routes = web.RouteTableDef()


@dataclass(frozen=True)
class Reader:
    """Who is looking at a repository's page, and the installation that reads it for them."""

    viewer: Viewer | None  # None on public pages
    installation: int


def answers() -> TTLCache[tuple[str, ...], bool]:
    return TTLCache(maxsize=ANSWERS_KEPT, ttl=ANSWER_SECONDS)


# -- access checks ---------------------------------------------------------------------------


async def require_reader(request: web.Request, owner: str, repo: str) -> Reader:
    """Let the request see owner/repo's pages, or raise what to show instead: 404 when pages
    are off or the App is not installed there, 503 while it is not set up, a redirect to
    /login when someone must sign in first, 403 when they cannot read the repository."""
    registration = request.app[REGISTRATION]
    pages = registration.settings.pages
    if pages == "off":
        raise PageError(404, "Pages are turned off", "This server runs with RAPIDVET_PAGES=off.")
    if not (OWNER_NAME.fullmatch(owner) and REPO_NAME.fullmatch(repo)):
        raise PageError(404, "Repository not known", f"{owner}/{repo} is not a repository name.")
    github = registered_github(registration)
    user = await viewer(request) if pages == "public" else await require_viewer(request)
    if user is not None and pages == "repo-readers":
        await _require_read(request, user, owner, repo)
    with github_failures():
        installation = await _installation(github, owner, repo)
        if installation is None:
            raise PageError(
                404,
                "Repository not known",
                f"The App is not installed on {owner}/{repo}, or that repository does not exist.",
                Link("Install the App on it", await install_url(registration)),
            )
    return Reader(user, installation)


async def require_viewer(request: web.Request) -> Viewer:
    """The signed-in user, or a redirect to /login that comes back here."""
    user = await viewer(request)
    if user is not None:
        return user
    credentials = request.app[REGISTRATION].credentials
    if credentials is None or not credentials.can_sign_in:
        raise PageError(
            503,
            "Signing in is not set up",
            "The App has no OAuth client: set RAPIDVET_CLIENT_ID and RAPIDVET_CLIENT_SECRET.",
        )
    raise web.HTTPFound("/login?" + urlencode({"next": request.path_qs}))


async def require_owner(request: web.Request, app: Mapping[str, Any]) -> Viewer:
    """The signed-in user when they own the account the App belongs to (`app` is GET /app):
    that user, or an owner (admin) of that organization."""
    user = await require_viewer(request)
    account = app["owner"]["login"]
    if app["owner"]["type"] == "Organization":
        key = ("owner", user.login.lower(), account.lower())
        allowed = await _remembered(request, key, lambda: _org_owner(request, user, account))
    else:
        allowed = user.login.lower() == account.lower()
    if not allowed:
        raise PageError(
            403,
            "Only the App's owners see this page",
            f"The App belongs to {account}; {user.login} is not an owner of that account.",
        )
    return user


async def _require_read(request: web.Request, user: Viewer, owner: str, repo: str) -> None:
    async def ask() -> bool:
        found = await _as_user(request, user, "/repos/{owner}/{repo}", owner=owner, repo=repo)
        return found is not None and bool(found.get("permissions", {}).get("pull", True))

    key = ("read", user.login.lower(), owner.lower(), repo.lower())
    if not await _remembered(request, key, ask):
        raise PageError(
            403,
            f"You cannot see {owner}/{repo}",
            f"GitHub says {user.login} cannot read {owner}/{repo}, or it does not exist.",
        )


async def _remembered(
    request: web.Request, key: tuple[str, ...], ask: Callable[[], Awaitable[bool]]
) -> bool:
    """GitHub's answer about a user, asked at most once in ANSWER_SECONDS."""
    answer = request.app[ANSWERS].get(key)
    if answer is None:
        answer = request.app[ANSWERS][key] = await ask()
    return answer


async def _org_owner(request: web.Request, user: Viewer, org: str) -> bool:
    membership = await _as_user(request, user, "/user/memberships/orgs/{org}", org=org)
    if membership is None:  # not a member at all
        return False
    return bool(membership["state"] == "active" and membership["role"] == "admin")


async def _as_user(
    request: web.Request, user: Viewer, url: str, **url_vars: str
) -> dict[str, Any] | None:
    """GET `url` with the user's own token; None when GitHub says it is not theirs to see."""
    registration = request.app[REGISTRATION]
    api = RapidvetGitHubAPI(
        registered_github(registration).session,
        REQUESTER,
        installation="user",
        base_url=registration.settings.github_url,
    )
    with github_failures():
        try:
            found: dict[str, Any] = await api.getitem(url, url_vars, oauth_token=user.token)
        except gidgethub.BadRequest as error:
            if error.status_code == 401:  # the token expired or was revoked: sign in again
                await sign_out(request)
                raise web.HTTPFound("/login?" + urlencode({"next": request.path_qs})) from None
            if error.status_code in (403, 404) and not isinstance(
                error, gidgethub.RateLimitExceeded
            ):
                return None
            raise
    return found


async def _installation(github: GitHubApp, owner: str, repo: str) -> int | None:
    try:
        found = await github.app_api().getitem(
            "/repos/{owner}/{repo}/installation", {"owner": owner, "repo": repo}
        )
    except gidgethub.BadRequest as error:
        if error.status_code == 404:
            return None
        raise
    return int(found["id"])


async def about_app(registration: Registration) -> dict[str, Any]:
    """GET /app: the App's name, slug and owning account."""
    with github_failures():
        found: dict[str, Any] = await registered_github(registration).app_api().getitem("/app")
    return found


async def install_url(registration: Registration) -> str:
    """GitHub's page for installing the App on more accounts and repositories."""
    credentials = registration.credentials
    slug = credentials.slug if credentials is not None else ""
    slug = slug or (await about_app(registration))["slug"]  # an App named by the environment
    return f"{registration.settings.web_url}/apps/{quote(slug)}/installations/new"


def registered_github(registration: Registration) -> GitHubApp:
    """The App's GitHub client, or the page saying there is no App yet."""
    if registration.github is None:
        raise PageError(
            503,
            "rapidvet is not set up yet",
            "It has no GitHub App to read repositories with.",
            Link("Set it up", "/"),
        )
    return registration.github


@contextlib.contextmanager
def github_failures() -> Iterator[None]:
    """GitHub out of reach, failing or out of rate limit, as an error page that says so."""
    try:
        yield
    except gidgethub.RateLimitExceeded as error:
        reset = error.rate_limit.reset_datetime.strftime("%H:%M UTC")
        detail = f"Try again after {reset}."
        raise PageError(503, "GitHub's rate limit is used up", detail) from None
    except (gidgethub.GitHubBroken, gidgethub.BadRequest) as error:
        raise PageError(502, "GitHub did not answer as expected", str(error)) from None
    except (aiohttp.ClientError, TimeoutError) as error:
        detail = f"{type(error).__name__}: {error}".rstrip(": ")
        raise PageError(502, "GitHub cannot be reached", detail) from None


# -- signing in and out ------------------------------------------------------------------------


def local_path(target: str) -> str:
    """Where to go after signing in: `target` as the Location header will carry it when that is
    a path on this server, else "/". Checked again after yarl normalises it, since browsers and
    yarl drop tabs and newlines and read `\\` as `/`: "/\\t/evil.example" must not become
    "//evil.example"."""
    if not LOCAL_PATH.fullmatch(target):
        return "/"
    try:
        normal = str(URL(target))
    except ValueError:
        return "/"
    return normal if LOCAL_PATH.fullmatch(normal) else "/"


def public_url(request: web.Request) -> str:
    """Where browsers and GitHub reach this server: RAPIDVET_PUBLIC_URL, else this request's."""
    configured = request.app[REGISTRATION].settings.public_url
    return configured or str(request.url.origin())


@routes.get("/login", name="login")
async def login(request: web.Request) -> web.StreamResponse:
    registration = request.app[REGISTRATION]
    registration.refresh()
    credentials = registration.credentials
    if credentials is None or not credentials.can_sign_in:
        raise PageError(
            503,
            "Signing in is not set up",
            "The App has no OAuth client yet: set it up first, or set RAPIDVET_CLIENT_ID and"
            " RAPIDVET_CLIENT_SECRET.",
            Link("Set-up page", "/"),
        )
    state = await begin_round_trip(
        request, "oauth", next=local_path(request.query.get("next", "/"))
    )
    query = urlencode(
        {
            "client_id": credentials.client_id,
            "redirect_uri": public_url(request) + "/login/callback",
            "state": state,
        }
    )
    raise web.HTTPFound(f"{registration.settings.web_url}/login/oauth/authorize?{query}")


@routes.get("/login/callback", name="login_callback")
async def login_callback(request: web.Request) -> web.StreamResponse:
    registration = request.app[REGISTRATION]
    credentials = registration.credentials
    trip = await end_round_trip(request, "oauth", request.query.get("state", ""), SIGN_IN_SECONDS)
    if trip is None or credentials is None:
        raise PageError(
            400,
            "This sign-in link is not valid",
            "It was not started in this browser, was used already or has expired.",
            Link("Sign in again", "/login"),
        )
    if "code" not in request.query:
        detail = request.query.get("error_description", "GitHub sent no code.")
        raise PageError(400, "GitHub did not sign you in", detail, Link("Try again", "/login"))
    exchange = {
        "client_id": credentials.client_id,
        "client_secret": credentials.client_secret,
        "code": request.query["code"],
        "redirect_uri": public_url(request) + "/login/callback",
    }
    with github_failures():
        async with registered_github(registration).session.post(
            f"{registration.settings.web_url}/login/oauth/access_token",
            json=exchange,
            headers={"Accept": "application/json"},
        ) as answer:
            answer.raise_for_status()
            token = await answer.json()
        if "access_token" not in token:
            detail = token.get("error_description") or token.get("error", "no token")
            raise PageError(400, "GitHub did not sign you in", detail, Link("Try again", "/login"))
        pending = Viewer("", token["access_token"])
        user = await _as_user(request, pending, "/user")
    if user is None:
        raise PageError(400, "GitHub did not sign you in", "It would not say who you are.")
    await sign_in(request, Viewer(user["login"], pending.token))
    raise web.HTTPFound(trip["next"])


@routes.post("/logout", name="logout")
async def logout(request: web.Request) -> web.StreamResponse:
    await sign_out(request)
    raise web.HTTPSeeOther("/logout")


@routes.get("/logout", name="signed_out")
async def signed_out(request: web.Request) -> web.StreamResponse:
    # A page of its own: going to "/" would send the browser through GitHub's sign-in again.
    context = {
        "heading": "You are signed out",
        "detail": "rapidvet no longer knows you in this browser; GitHub itself may still do.",
        "link": Link("Sign in again", "/login"),
    }
    return await render(request, "error.html", context)


@web.middleware
async def csrf_protect(request: web.Request, handler: Handler) -> web.StreamResponse:
    """A form posted here must carry the session's CSRF token (`csrf_token` field)."""
    if request.method in SAFE_METHODS or request.path in CSRF_EXEMPT:
        return await handler(request)
    sent = (await request.post()).get("csrf_token")
    if not isinstance(sent, str) or not await csrf_matches(request, sent):
        raise PageError(
            403, "This form has expired", "Its security token does not match: reload the page."
        )
    return await handler(request)
