"""Who is calling: the App with a JWT, an installation with an installation token, a user with
a user access token, or nobody (the manifest conversion needs no credential)."""

from __future__ import annotations

import re
from dataclasses import dataclass

import jwt

from tests.support.fake_github.model import App, Token, User
from tests.support.fake_github.state import GitHubError, State

# GitHub's longest accepted JWT lifetime.
MAX_JWT_SECONDS = 600
_APP_PATHS = re.compile(r"/app(/.*)?|/repos/[^/]+/[^/]+/installation")
_ANONYMOUS_PATHS = re.compile(r"/app-manifests/[^/]+/conversions")


@dataclass(frozen=True)
class Credential:
    app: App | None = None  # set for a valid JWT
    token: Token | None = None  # set for a valid installation token
    user: User | None = None  # set for a valid user access token

    def describe(self) -> str:
        if self.token is not None:
            return f"installation:{self.token.installation_id}"
        if self.user is not None:
            return f"user:{self.user.login}"
        return "app" if self.app is not None else "anonymous"


def app_endpoint(path: str) -> bool:
    """Endpoints under `/app`, and finding a repository's installation, take the App's JWT."""
    return _APP_PATHS.fullmatch(path) is not None


def bucket_key(state: State, authorization: str | None) -> str:
    """The rate-limit bucket a request spends from, whether or not its credential is valid."""
    value = (authorization or "").partition(" ")[2]
    token = state.tokens.get(value)
    if token is not None:
        return f"installation:{token.installation_id}"
    if value in state.user_tokens:
        return f"user:{state.user_tokens[value].login.lower()}"
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
    now = state.time()
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
    if _ANONYMOUS_PATHS.fullmatch(path):
        return Credential()
    scheme, _, value = (authorization or "").partition(" ")
    if not value or scheme.lower() not in ("bearer", "token"):
        raise GitHubError(401, "Requires authentication")
    if app_endpoint(path):
        if value.count(".") != 2:
            raise GitHubError(401, "A JSON web token could not be decoded")
        return Credential(app=verify_jwt(state, value))
    user_token = state.user_tokens.get(value)
    if user_token is not None and user_token.expires_at > state.now():
        return Credential(user=state.user(user_token.login))
    token = state.tokens.get(value)
    if token is None or token.expires_at <= state.now():
        raise GitHubError(401, "Bad credentials")
    if path == "/user" or path.startswith("/user/"):
        raise GitHubError(403, "Resource not accessible by integration")
    return Credential(token=token)
