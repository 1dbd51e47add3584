"""The App's side of GitHub authentication: one per process, holding the settings, the one
aiohttp session, the App JWT, the installation-token cache and the conditional-request cache.

Handlers get a `RapidvetGitHubAPI` from `installation_api(id)`; the client asks this object for
a current token on every request, so a long job never sends an expired one.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from types import TracebackType
from typing import Any

import aiohttp
import jwt
from cachetools import TLRUCache

from rapidvet.app.github.cache import DEFAULT_MAX_BYTES, ETagCache
from rapidvet.app.github.client import (
    DEFAULT_RETRY,
    Clock,
    Credentials,
    RapidvetGitHubAPI,
    Sleep,
)
from rapidvet.app.github.retry import RetryPolicy
from rapidvet.app.settings import Settings

REQUESTER = "rapidvet"  # the User-Agent; GitHub asks for the App's name
JWT_BACKDATE = 60  # seconds; GitHub's allowance for clock drift
JWT_LIFETIME = 9 * 60  # GitHub refuses an exp more than 10 minutes ahead
JWT_REUSE = 5 * 60  # a cached JWT still has four minutes to live when it is replaced
TOKEN_MARGIN = 5 * 60  # replace an installation token this long before it expires
MAX_INSTALLATIONS = 4096  # tokens kept at once
DEFAULT_TIMEOUT = aiohttp.ClientTimeout(total=30, connect=10)


@dataclass(frozen=True)
class InstallationToken:
    token: str = field(repr=False)
    expires_at: float  # seconds since the epoch


@dataclass(frozen=True)
class _AppJwt:
    token: str = field(repr=False)
    replace_at: float


def event_repositories(payload: Mapping[str, Any]) -> frozenset[str]:
    """The repositories a webhook delivery may have its job touch: the one it came from, or
    for an installation event, those it adds or lists (GitHub signed the payload)."""
    named = [payload.get("repository")]
    named += payload.get("repositories") or []
    named += payload.get("repositories_added") or []
    return frozenset(
        str(r["full_name"]) for r in named if isinstance(r, dict) and r.get("full_name")
    )


class GitHubApp:
    """The GitHub App: makes App (JWT) and installation (token) clients sharing one session."""

    def __init__(
        self,
        settings: Settings,
        *,
        clock: Clock = time.time,
        sleep: Sleep = asyncio.sleep,
        retry: RetryPolicy = DEFAULT_RETRY,
        timeout: aiohttp.ClientTimeout = DEFAULT_TIMEOUT,
        etag_cache_bytes: int = DEFAULT_MAX_BYTES,
    ) -> None:
        self.settings = settings
        self._clock = clock
        self._sleep = sleep
        self._retry = retry
        self._timeout = timeout
        self._session: aiohttp.ClientSession | None = None
        self._jwt: _AppJwt | None = None
        self._tokens: TLRUCache[int, InstallationToken] = TLRUCache(
            maxsize=MAX_INSTALLATIONS,
            ttu=lambda _id, token, _now: token.expires_at - TOKEN_MARGIN,
            timer=clock,
        )
        # One token request per installation at a time; the others wait for its answer.
        self._token_locks: defaultdict[int, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._etag_cache = ETagCache(etag_cache_bytes)

    def __repr__(self) -> str:
        return f"GitHubApp(app_id={self.settings.app_id}, github_url={self.settings.github_url!r})"

    async def __aenter__(self) -> GitHubApp:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    @property
    def session(self) -> aiohttp.ClientSession:
        """The process's one HTTP session, opened on first use (it needs a running loop)."""
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def jwt(self) -> str:
        """The App's RS256 JWT: issued 60 s in the past, expiring 9 min from now, reused 5 min."""
        now = self._clock()
        if self._jwt is None or now >= self._jwt.replace_at:
            issued = int(now)
            claims = {
                "iat": issued - JWT_BACKDATE,
                "exp": issued + JWT_LIFETIME,
                "iss": str(self.settings.app_id),
            }
            token = jwt.encode(claims, self.settings.private_key, algorithm="RS256")
            self._jwt = _AppJwt(token, now + JWT_REUSE)
        return self._jwt.token

    def app_api(self) -> RapidvetGitHubAPI:
        """A client authenticated as the App (installations, webhook deliveries, manifests)."""
        return self._api("app", Credentials(self._jwt_authorization, self._forget_jwt))

    async def installation_api(
        self, installation_id: int, repositories: Iterable[str] | None = None
    ) -> RapidvetGitHubAPI:
        """A client acting as one installation. The token is fetched here, so an uninstalled or
        suspended installation fails at once rather than in the middle of a handler.

        A job passes the `repositories` its event came from: the client then refuses any other
        (`OutOfReach`), whatever URL a hostile file name or page makes of a path. The token
        reaches every repository of the installation; the job must not."""
        await self.installation_token(installation_id)
        credentials = Credentials(
            partial(self._token_authorization, installation_id),
            partial(self.invalidate, installation_id),
        )
        return self._api(str(installation_id), credentials, repositories)

    async def installation_token(self, installation_id: int) -> str:
        """A token with at least `TOKEN_MARGIN` left, fetched once for concurrent callers."""
        token = self._tokens.get(installation_id)
        if token is None:
            async with self._token_locks[installation_id]:
                token = self._tokens.get(installation_id)
                if token is None:
                    token = await self._create_token(installation_id)
                    self._tokens[installation_id] = token
        return token.token

    def invalidate(self, installation_id: int) -> None:
        """Forget the installation's token (GitHub refused it); the next call fetches another."""
        self._tokens.pop(installation_id, None)

    async def _create_token(self, installation_id: int) -> InstallationToken:
        answer = await self.app_api().post(
            "/app/installations/{installation_id}/access_tokens",
            {"installation_id": installation_id},
            data=b"",
        )
        expires_at = datetime.fromisoformat(answer["expires_at"]).timestamp()
        return InstallationToken(answer["token"], expires_at)

    def _api(
        self,
        installation: str,
        credentials: Credentials,
        repositories: Iterable[str] | None = None,
    ) -> RapidvetGitHubAPI:
        return RapidvetGitHubAPI(
            self.session,
            REQUESTER,
            installation=installation,
            credentials=credentials,
            base_url=self.settings.github_url,
            etag_cache=self._etag_cache,
            retry=self._retry,
            sleep=self._sleep,
            clock=self._clock,
            repositories=repositories,
        )

    async def _jwt_authorization(self) -> str:
        return f"Bearer {self.jwt()}"

    async def _token_authorization(self, installation_id: int) -> str:
        return f"token {await self.installation_token(installation_id)}"

    def _forget_jwt(self) -> None:
        self._jwt = None
