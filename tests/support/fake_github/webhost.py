"""The pages of GitHub's web host (github.com, or a GitHub Enterprise Server's host) that a
browser and the App visit: registering an App from a manifest, authorizing it for a user
(OAuth), exchanging the code for a token, installing the App.

The fake serves them beside the API; a test decides who is signed in (`sign_in_as`), and the
pages act for that user at once instead of asking them to click.
"""

from __future__ import annotations

import json
from html import escape
from urllib.parse import urlencode

from aiohttp import web

from tests.support.fake_github.keys import STATE
from tests.support.fake_github.state import GitHubError, OAuthError

routes = web.RouteTableDef()


def _page(title: str, text: str, status: int = 200) -> web.Response:
    body = f"<!doctype html><title>{escape(title)}</title><h1>{escape(title)}</h1><p>{escape(text)}"
    return web.Response(text=body, status=status, content_type="text/html")


def _redirect(url: str, **query: str) -> web.HTTPFound:
    separator = "&" if "?" in url else "?"
    return web.HTTPFound(f"{url}{separator}{urlencode(query)}")


@routes.get("/settings/apps/new")
@routes.get("/organizations/{org}/settings/apps/new")
async def new_app_page(request: web.Request) -> web.Response:
    return _page("Register new GitHub App", "Post a manifest here to register an App from it.")


@routes.post("/settings/apps/new")
@routes.post("/organizations/{org}/settings/apps/new")
async def register_from_manifest(request: web.Request) -> web.Response:
    """The manifest form: GitHub registers the App and sends the browser to its redirect_url
    with a code and the `state` the form was posted with."""
    raw = (await request.post()).get("manifest")
    try:
        manifest = json.loads(raw) if isinstance(raw, str) else None
    except ValueError:
        manifest = None
    if not isinstance(manifest, dict) or not manifest.get("redirect_url"):
        return _page("Invalid manifest", "The manifest is not JSON with a redirect_url.", 400)
    try:
        code = request.app[STATE].create_app_from_manifest(manifest, request.match_info.get("org"))
    except GitHubError as error:
        return _page("Invalid manifest", error.message, error.status)
    raise _redirect(manifest["redirect_url"], code=code, state=request.query.get("state", ""))


@routes.get("/login/oauth/authorize")
async def authorize(request: web.Request) -> web.Response:
    """The signed-in user authorizes the App and goes back to `redirect_uri` with a code."""
    query = request.query
    redirect_uri = query.get("redirect_uri", "")
    try:
        code = request.app[STATE].authorize(query.get("client_id", ""), redirect_uri)
    except GitHubError as error:
        return _page("Authorization failed", error.message, error.status)
    raise _redirect(redirect_uri, code=code, state=query.get("state", ""))


@routes.post("/login/oauth/access_token")
async def access_token(request: web.Request) -> web.Response:
    """The code for a user access token; GitHub answers refusals 200 with an `error`."""
    fields = dict(await request.json()) if request.content_type == "application/json" else {}
    fields |= {key: str(value) for key, value in (await request.post()).items()}
    try:
        token = request.app[STATE].exchange_code(
            fields.get("client_id", ""),
            fields.get("client_secret", ""),
            fields.get("code", ""),
            fields.get("redirect_uri"),
        )
        answer = {"access_token": token.value, "token_type": "bearer", "scope": ""}
    except OAuthError as error:
        answer = {"error": error.error, "error_description": error.description}
    except GitHubError as error:  # no App registered
        answer = {"error": "incorrect_client_credentials", "error_description": error.message}
    if "json" in request.headers.get("Accept", ""):
        return web.json_response(answer)
    return web.Response(text=urlencode(answer), content_type="application/x-www-form-urlencoded")


@routes.get("/apps/{slug}/installations/new")
async def install_page(request: web.Request) -> web.Response:
    app = request.app[STATE].app
    if app is None or app.slug != request.match_info["slug"]:
        return _page("Not Found", "No such App.", 404)
    return _page(f"Install {app.name}", "Choose the account and repositories to install it on.")


# A one-pixel grey PNG: every account's avatar, as github.com/<login>.png serves one.
AVATAR = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d4944415478"
    "da63e8993aff3f00063102c04539b5f30000000049454e44ae426082"
)


@routes.get("/favicon.ico")  # what a browser asks for on every page of the host
@routes.get(r"/{login:[A-Za-z0-9][A-Za-z0-9-]{0,38}}.png")
async def avatar(request: web.Request) -> web.Response:
    return web.Response(body=AVATAR, content_type="image/png")
