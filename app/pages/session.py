"""The browser's session: who is signed in, the CSRF token of their forms, and the `state` of a
round trip through GitHub (App manifest, OAuth sign-in). All of it lives in one cookie,
encrypted and signed (Fernet), so the server keeps no session rows.
"""

from __future__ import annotations

import base64
import hmac
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp_session import get_session, new_session
from aiohttp_session.cookie_storage import EncryptedCookieStorage
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from rapidvet.app.settings import Settings

COOKIE = "rapidvet_session"
SESSION_SECONDS = 8 * 3600  # as long as GitHub's user access tokens last
_USER, _CSRF = "user", "csrf"


@dataclass(frozen=True)
class Viewer:
    """The signed-in GitHub user."""

    login: str
    token: str = field(repr=False)  # their own access token: asks GitHub what they may read


def storage(settings: Settings) -> EncryptedCookieStorage:
    secure = bool(settings.public_url and settings.public_url.startswith("https://"))
    return EncryptedCookieStorage(
        _cookie_key(settings),
        cookie_name=COOKIE,
        max_age=SESSION_SECONDS,
        httponly=True,
        samesite="Lax",  # sent on the top-level redirects back from GitHub, not on others' forms
        secure=secure,
    )


def _cookie_key(settings: Settings) -> bytes:
    """Derived from RAPIDVET_SECRET_KEY (which itself only seals the App's secrets); without
    it, a key of this process alone: sessions then end when it stops."""
    if settings.secret_key is None:
        return secrets.token_bytes(32)
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"rapidvet session cookie")
    return hkdf.derive(base64.urlsafe_b64decode(settings.secret_key))


async def viewer(request: web.Request) -> Viewer | None:
    user = (await get_session(request)).get(_USER)
    return Viewer(user["login"], user["token"]) if user else None


async def sign_in(request: web.Request, user: Viewer) -> None:
    # A fresh session, so that no identifier planted before signing in survives it.
    session = await new_session(request)
    session[_USER] = {"login": user.login, "token": user.token}


async def sign_out(request: web.Request) -> None:
    (await get_session(request)).invalidate()


async def csrf_token(request: web.Request) -> str:
    """The session's token that every form posting back here carries."""
    session = await get_session(request)
    if _CSRF not in session:
        session[_CSRF] = secrets.token_urlsafe(32)
    return str(session[_CSRF])


async def csrf_matches(request: web.Request, sent: str) -> bool:
    expected = (await get_session(request)).get(_CSRF)
    return bool(expected) and hmac.compare_digest(sent.encode(), str(expected).encode())


async def begin_round_trip(request: web.Request, name: str, **data: Any) -> str:
    """A new `state` for a trip through GitHub named `name`, kept with `data`."""
    state = secrets.token_urlsafe(32)
    session = await get_session(request)
    session[name] = {"state": state, "at": time.time(), **data}
    return state


async def end_round_trip(
    request: web.Request, name: str, state: str, max_seconds: float
) -> dict[str, Any] | None:
    """The data kept by `begin_round_trip` when `state` is the one it gave out and is younger
    than `max_seconds`, else None. Either way the trip is over: a state works once."""
    session = await get_session(request)
    trip = session.pop(name, None)
    if not isinstance(trip, dict) or time.time() - float(trip["at"]) > max_seconds:
        return None
    if not hmac.compare_digest(state.encode(), str(trip["state"]).encode()):
        return None
    return trip
