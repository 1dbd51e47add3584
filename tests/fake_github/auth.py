"""Who is calling: the App with a JWT, or an installation with an installation token."""

from __future__ import annotations

import time
from dataclasses import dataclass

import jwt

from tests.fake_github.model import App, Token
from tests.fake_github.state import GitHubError, State

# GitHub's longest accepted JWT lifetime.
MAX_JWT_SECONDS = 600


@dataclass(frozen=True)
class Credential:
    app: App | None = None  # set for a valid JWT
    token: Token | None = None  # set for a valid installation token


def app_endpoint(path: str) -> bool:
    """Endpoints under `/app` take the App's JWT; every other one an installation token."""
    return path == "/app" or path.startswith("/app/")


def bucket_key(state: State, authorization: str | None) -> str:
    """The rate-limit bucket a request spends from, whether or not its credential is valid."""
    value = (authorization or "").partition(" ")[2]
    token = state.tokens.get(value)
    if token is not None:
        return f"installation:{token.installation_id}"
    return "app" if value.count(".") == 2 else "anonymous"


def verify_jwt(state: State, encoded: str) -> App:
    """The App a JWT was signed for, checked as GitHub checks it."""
    app = state.require_app()
    try:
        claims = jwt.decode(
            encoded,
            app.public_key,
            algorithms=["RS256"],
            options={"require": ["iat", "exp", "iss"], "verify_exp": False, "verify_iat": False},
        )
    except jwt.PyJWTError as error:
        raise GitHubError(401, "A JSON web token could not be decoded") from error
    now = time.time()
    issued, expires = claims["iat"], claims["exp"]
    if str(claims["iss"]) not in (str(app.id), f"Iv1.{app.id:016x}"):
        raise GitHubError(401, "'Issuer' claim ('iss') must be an Integer")
    if not isinstance(issued, int) or issued > now + 1:
        raise GitHubError(
            401,
            "'Issued at' claim ('iat') must be an Integer representing the time that the "
            "assertion was issued.",
        )
    if not isinstance(expires, int) or expires <= now:
        raise GitHubError(
            401,
            "'Expiration time' claim ('exp') must be a numeric value representing the future "
            "time at which the assertion expires.",
        )
    if expires - issued > MAX_JWT_SECONDS:
        raise GitHubError(401, "'Expiration time' claim ('exp') is too far in the future.")
    return app


def authenticate(state: State, authorization: str | None, path: str) -> Credential:
    """Check the `Authorization` header for the credential `path` needs."""
    scheme, _, value = (authorization or "").partition(" ")
    if not value or scheme.lower() not in ("bearer", "token"):
        raise GitHubError(401, "Requires authentication")
    if app_endpoint(path):
        if value.count(".") != 2:
            raise GitHubError(401, "A JSON web token could not be decoded")
        return Credential(app=verify_jwt(state, value))
    token = state.tokens.get(value)
    if token is None or token.expires_at <= state.now():
        raise GitHubError(401, "Bad credentials")
    return Credential(token=token)
