"""The browser's session: who is signed in, the CSRF token of their forms, and the `state` of a
round trip through GitHub (App manifest, OAuth sign-in). It lives in one cookie, encrypted and
signed (Fernet), but for the signed-in user: the cookie names a sign-in record on the server
(`rapidvet.app.web.signins`), which holds the user's GitHub token and which signing out ends.

The cookie is `Secure` when RAPIDVET_PUBLIC_URL is https, and on any request that came over
HTTPS (through a trusted proxy: as its X-Forwarded-Proto says, see `proxies`).
"""

from __future__ import annotations

import base64
import hmac
import secrets
import time
from typing import Any

from aiohttp import web
from aiohttp_session import Session, get_session, new_session
from aiohttp_session.cookie_storage import EncryptedCookieStorage
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from rapidvet.app.settings import Settings
from rapidvet.app.web.pages.keys import SIGN_INS
from rapidvet.app.web.signins import SESSION_SECONDS, Viewer

COOKIE = "rapidvet_session"
_USER, _CSRF = "user", "csrf"  # _USER: the id of the session's sign-in record
_SETUP = "setup"  # the set-up code was given in this session


class SessionCookies(EncryptedCookieStorage):
    """The encrypted cookie, made `Secure` on a request that came over HTTPS."""

    async def save_session(
        self, request: web.Request, response: web.StreamResponse, session: Session
    ) -> None:
        await super().save_session(request, response, session)
        if request.secure and COOKIE in response.cookies:
            response.cookies[COOKIE]["secure"] = True


def storage(settings: Settings) -> SessionCookies:
    secure = bool(settings.public_url and settings.public_url.startswith("https://"))
    return SessionCookies(
        cookie_key(settings),
        cookie_name=COOKIE,
        max_age=SESSION_SECONDS,
        httponly=True,
        samesite="Lax",  # sent on the top-level redirects back from GitHub, not on others' forms
        secure=secure,
    )


def cookie_key(settings: Settings) -> bytes:
    """Derived from RAPIDVET_SECRET_KEY (which itself only seals the App's secrets); without
    it, a key of this process alone: sessions then end when it stops."""
    if settings.secret_key is None:
        return secrets.token_bytes(32)
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"rapidvet session cookie")
    return hkdf.derive(base64.urlsafe_b64decode(settings.secret_key))


async def viewer(request: web.Request) -> Viewer | None:
    """The signed-in user, while their sign-in record says they are."""
    session_id = (await get_session(request)).get(_USER)
    if not isinstance(session_id, str):
        return None
    return request.app[SIGN_INS].find(session_id)


async def sign_in(request: web.Request, user: Viewer) -> None:
    await _end_sign_in(request)
    # A fresh session, so that no identifier planted before signing in survives it.
    session = await new_session(request)
    session[_USER] = request.app[SIGN_INS].begin(user)


async def sign_out(request: web.Request) -> None:
    await _end_sign_in(request)
    (await get_session(request)).invalidate()


async def _end_sign_in(request: web.Request) -> None:
    session_id = (await get_session(request)).get(_USER)
    if isinstance(session_id, str):
        request.app[SIGN_INS].end(session_id)


async def allow_setup(request: web.Request) -> None:
    """Remember that this browser gave the set-up code, in a fresh session: one planted in the
    browser before does not gain the right."""
    session = await new_session(request)
    session[_SETUP] = True


async def setup_allowed(request: web.Request) -> bool:
    return (await get_session(request)).get(_SETUP) is True


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
