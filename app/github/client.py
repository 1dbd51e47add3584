"""The gidgethub client every handler gets as `gh`: API version header, credentials fetched per
request, conditional-request cache, retries, and one count per HTTP exchange.

All of it sits in `_request`, below gidgethub's URL expansion and response decoding, so
`getitem`, `getiter`, `post` and the rest keep their documented behaviour and raise gidgethub's
own exceptions (`GitHubBroken`, `BadRequest`, `RateLimitExceeded`) once retries are spent.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import NamedTuple
from urllib.parse import unquote

import aiohttp
import gidgethub.aiohttp
from gidgethub import sansio
from yarl import URL

from rapidvet.app import metrics
from rapidvet.app.github.cache import CachedResponse, CacheKey, ETagCache
from rapidvet.app.github.endpoints import endpoint_template
from rapidvet.app.github.retry import RetryPolicy, secondary_limit

API_VERSION = "2022-11-28"
DEFAULT_RETRY = RetryPolicy()

Sleep = Callable[[float], Awaitable[None]]
Clock = Callable[[], float]
Response = tuple[int, Mapping[str, str], bytes]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Credentials:
    """Where a client gets its Authorization header, and how it drops one GitHub refused (401)."""

    authorization: Callable[[], Awaitable[str]] = field(repr=False)
    refused: Callable[[], None] = field(repr=False)


class OutOfReach(Exception):
    """A job's client was asked for a URL outside what its job may touch. A bug or an attack,
    never a passing fault: the job fails at once, without retries."""


class Call(NamedTuple):
    method: str
    endpoint: str
    status: str  # the HTTP status, or "error" when no answer came


class RapidvetGitHubAPI(gidgethub.aiohttp.GitHubAPI):
    """A gidgethub client for one installation (or the App itself, `installation="app"`).

    `calls` counts every HTTP exchange this client made, retries and 304s included, so a handler's
    cost in API calls can be read off the client it was given.

    `repositories` binds a job's client to the repositories its event came from: it may then
    only call `/repos/{owner}/{repo}/...` of those, their owners' `/orgs/{owner}/teams/...`,
    `/app...` and `/installation/...`; anything else raises `OutOfReach` before it is sent.
    None leaves the client unbound (the App's own client, the set-up page's listing).
    """

    def __init__(
        self,
        session: aiohttp.ClientSession,
        requester: str,
        *,
        installation: str,
        credentials: Credentials | None = None,
        base_url: str = sansio.DOMAIN,
        etag_cache: ETagCache | None = None,
        retry: RetryPolicy = DEFAULT_RETRY,
        sleep: Sleep = asyncio.sleep,
        clock: Clock = time.time,
        repositories: Iterable[str] | None = None,
    ) -> None:
        super().__init__(session, requester, base_url=base_url)
        self.installation = installation
        self.reach = None if repositories is None else Reach.of(repositories)
        self.calls: Counter[Call] = Counter()
        self._credentials = credentials
        self._etag_cache = etag_cache if etag_cache is not None else ETagCache()
        self._retry = retry
        self._sleep = sleep
        self._clock = clock

    def __repr__(self) -> str:
        return f"RapidvetGitHubAPI(installation={self.installation!r}, base_url={self.base_url!r})"

    async def sleep(self, seconds: float) -> None:
        await self._sleep(seconds)

    async def _request(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes = b""
    ) -> Response:
        endpoint = endpoint_template(url, self.base_url)
        if self.reach is not None and not self.reach.allows(url, self.base_url):
            log.error("GitHub %s %s refused: outside the job's repository", method, endpoint)
            raise OutOfReach(f"{method} {endpoint} is outside what this job may touch")
        sent = {name.lower(): value for name, value in headers.items()}
        sent.setdefault("x-github-api-version", API_VERSION)
        # Credentials a caller passed (jwt=, oauth_token=) are used as given; ours go only to
        # GitHub itself, never to another host an absolute URL might name.
        ours = "authorization" not in sent and url.startswith(self.base_url + "/")
        credentials = self._credentials if ours else None
        cache_key = self._cache_key(method, url, sent, body)
        cached = self._etag_cache.get(cache_key) if cache_key is not None else None
        if cached is not None:
            sent.update(cached.validators())
        response = await self._send(method, url, endpoint, sent, body, credentials)
        return self._through_cache(cache_key, cached, response)

    async def _send(
        self,
        method: str,
        url: str,
        endpoint: str,
        sent: dict[str, str],
        body: bytes,
        credentials: Credentials | None,
    ) -> Response:
        """One exchange with GitHub, tried again as the retry policy allows."""
        attempt = 0
        reauthorized = False
        while True:
            attempt += 1
            if credentials is not None:
                sent["authorization"] = await credentials.authorization()
            try:
                response = await super()._request(method, url, sent, body)
            except (aiohttp.ClientError, TimeoutError) as error:
                self._count(method, endpoint, "error", {})
                wait = self._retry.after_error(
                    method=method, endpoint=endpoint, error=error, attempt=attempt
                )
                if wait is None:
                    raise
                reason = type(error).__name__
            else:
                status, headers, answer = response
                self._count(method, endpoint, str(status), headers)
                if status == 401 and credentials is not None and not reauthorized:
                    # A revoked or expired credential: fetch a new one, once.
                    credentials.refused()
                    reauthorized = True
                    continue
                wait = self._retry.after_response(
                    method=method,
                    endpoint=endpoint,
                    status=status,
                    headers=headers,
                    body=answer,
                    attempt=attempt,
                    now=self._clock(),
                )
                if wait is None:
                    limited = secondary_limit(status, headers, answer, self._clock(), attempt)
                    if limited is not None:
                        raise limited
                    return response
                reason = f"status {status}"
            log.warning(
                "GitHub %s %s: %s; try %d in %.1fs", method, endpoint, reason, attempt + 1, wait
            )
            await self.sleep(wait)

    def _cache_key(
        self, method: str, url: str, sent: Mapping[str, str], body: bytes
    ) -> CacheKey | None:
        # A caller's own conditional request is theirs to interpret.
        conditional = "if-none-match" in sent or "if-modified-since" in sent
        if method != "GET" or body or conditional:
            return None
        return CacheKey(self.installation, url, sent.get("accept", ""))

    def _through_cache(
        self, key: CacheKey | None, cached: CachedResponse | None, response: Response
    ) -> Response:
        """A 304 becomes the cached answer; a fresh 200 is remembered."""
        status, headers, body = response
        if cached is not None and status == 304:
            return 200, cached.refreshed(headers), cached.body
        if key is not None and status == 200:
            self._etag_cache.put(key, headers, body)
        return response

    def _count(self, method: str, endpoint: str, status: str, headers: Mapping[str, str]) -> None:
        self.calls[Call(method, endpoint, status)] += 1
        metrics.github_calls_total.labels(endpoint=endpoint, method=method, status=status).inc()
        remaining = headers.get("x-ratelimit-remaining", "")
        if remaining.isdigit():
            metrics.github_rate_limit_remaining.labels(installation=self.installation).set(
                int(remaining)
            )
        log.debug("GitHub %s %s -> %s", method, endpoint, status)


@dataclass(frozen=True)
class Reach:
    """The repositories (lower-case `owner/repo`) a job's client may touch, and their owners."""

    repositories: frozenset[str]
    owners: frozenset[str]

    @classmethod
    def of(cls, repositories: Iterable[str]) -> Reach:
        names = frozenset(name.lower() for name in repositories)
        return cls(names, frozenset(name.partition("/")[0] for name in names))

    def allows(self, url: str, base_url: str) -> bool:
        parts = _path_parts(url, base_url)
        if not parts:
            return False
        match parts:
            case ["repos", owner, repo, *_]:
                return f"{owner}/{repo}".lower() in self.repositories
            case ["orgs", owner, "teams", *_]:
                return owner.lower() in self.owners
            case ["app", *_] | ["installation", *_]:
                return True
        return False


def _path_parts(url: str, base_url: str) -> list[str] | None:
    """The segments of `url` below `base_url` as the server reads them: parsed as aiohttp
    parses it (yarl resolves dot segments, also percent-encoded ones), then each decoded.
    None for another server, or a segment that is empty or still decodes to a dot segment."""
    sent, base = URL(url), URL(base_url)
    prefix = base.raw_path.rstrip("/") + "/"
    if sent.origin() != base.origin() or not sent.raw_path.startswith(prefix):
        return None
    parts = [
        piece
        for segment in sent.raw_path[len(prefix) :].split("/")
        for piece in unquote(segment).replace("\\", "/").split("/")
    ]
    if any(piece in ("", ".", "..") for piece in parts):
        return None
    return parts
