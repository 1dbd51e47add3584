"""When a GitHub request is tried again, and after how long.

Rate limits (429, and 403 when GitHub says a limit was hit) are retried for every method: GitHub
refused the request without acting on it. We wait as GitHub's REST guide asks: `retry-after`
seconds if given, else until `x-ratelimit-reset` when `x-ratelimit-remaining` is 0, else at least
a minute, growing with each try. A wait longer than `max_wait` is not taken in-process: the
error goes up and the job queue retries the whole job later; a secondary limit goes up as
`SecondaryRateLimited`, carrying GitHub's wait, so the queue waits that long and does not spend
its tries on answers GitHub already said would be refused.

Server errors (5xx) and lost connections are retried with exponential backoff and full jitter,
but only where doing the call twice is harmless, because GitHub may have acted before the answer
was lost. Harmless are GET, HEAD, OPTIONS, PUT and DELETE; PATCH too, because every PATCH the App
sends carries the whole target state (check-run output, a ref's sha); and the POSTs in
`RETRY_SAFE_POSTS`. Other POSTs (comments, follow-up pull requests, new refs) fail at once; their
exactly-once guard is the merge record in the store, not the client. A connection that could not
be opened sent nothing, so it is retried for every method.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http import HTTPStatus

import aiohttp
from gidgethub import BadRequest

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "PATCH"})
# POSTs whose repetition creates nothing anyone sees twice.
RETRY_SAFE_POSTS = frozenset(
    {
        # A spare token is harmless; it expires unused.
        "/app/installations/{id}/access_tokens",
        # Git objects are content-addressed; an unreferenced duplicate is garbage-collected.
        "/repos/{owner}/{repo}/git/blobs",
        "/repos/{owner}/{repo}/git/trees",
        "/repos/{owner}/{repo}/git/commits",
        # GitHub shows and enforces the latest check run of a name; the App updates the one
        # whose id it got back, so an orphan earlier twin is hidden.
        "/repos/{owner}/{repo}/check-runs",
        # Requesting a reviewer who is already requested changes nothing.
        "/repos/{owner}/{repo}/pulls/{number}/requested_reviewers",
        # A redelivered webhook is deduplicated by its delivery GUID.
        "/app/hook/deliveries/{id}/attempts",
    }
)
SECONDARY_LIMIT_MESSAGES = (b"secondary rate limit", b"abuse detection")
MINIMUM_LIMIT_WAIT = 60.0  # GitHub: "wait for at least one minute before retrying"
RESET_MARGIN = 1.0  # x-ratelimit-reset has one-second resolution; do not arrive early


def is_retry_safe(method: str, endpoint: str) -> bool:
    """Whether sending this call twice does no harm (see the module docstring)."""
    return method in IDEMPOTENT_METHODS or (method == "POST" and endpoint in RETRY_SAFE_POSTS)


def rate_limit_wait(
    status: int, headers: Mapping[str, str], body: bytes, now: float, attempt: int
) -> float | None:
    """Seconds GitHub asks us to wait, or None when the answer is not a rate limit.

    A 403 is a limit only when GitHub says so (headers or message); otherwise it is a permission
    error, which no amount of waiting fixes.
    """
    if status not in (403, 429):
        return None
    retry_after = _retry_after(headers)
    if retry_after is not None:
        return retry_after
    if headers.get("x-ratelimit-remaining") == "0" and "x-ratelimit-reset" in headers:
        return max(0.0, float(headers["x-ratelimit-reset"]) - now) + RESET_MARGIN
    lowered = body.lower()
    if status == 429 or any(message in lowered for message in SECONDARY_LIMIT_MESSAGES):
        return MINIMUM_LIMIT_WAIT * 2.0 ** (attempt - 1)
    return None


class SecondaryRateLimited(BadRequest):
    """GitHub's secondary limit still refused the call when in-process retries ended."""

    def __init__(self, status: int, retry_after: float) -> None:
        super().__init__(HTTPStatus(status), f"secondary rate limit: retry in {retry_after:.0f}s")
        self.retry_after = retry_after


def secondary_limit(
    status: int, headers: Mapping[str, str], body: bytes, now: float, attempt: int
) -> SecondaryRateLimited | None:
    """The error for an answer refused by a secondary limit, None for any other answer (an
    exhausted primary limit is gidgethub's `RateLimitExceeded`, which knows its reset)."""
    wait = rate_limit_wait(status, headers, body, now, attempt)
    if wait is None or headers.get("x-ratelimit-remaining") == "0":
        return None
    return SecondaryRateLimited(status, wait)


def _retry_after(headers: Mapping[str, str]) -> float | None:
    value = headers.get("retry-after", "").strip()
    return float(value) if value.isdigit() else None


@dataclass(frozen=True)
class RetryPolicy:
    """How many tries a call gets and how long to wait between them."""

    max_attempts: int = 4
    backoff_base: float = 0.5  # seconds; the ceiling doubles with each try
    backoff_cap: float = 8.0
    max_wait: float = 60.0  # longest wait taken in-process; a longer one raises instead
    jitter: Callable[[], float] = random.random  # a factor in [0, 1); tests fix it

    def backoff(self, attempt: int) -> float:
        """Full jitter: uniform in [0, min(cap, base * 2^(attempt-1)))."""
        return min(self.backoff_cap, self.backoff_base * 2.0 ** (attempt - 1)) * self.jitter()

    def after_response(
        self,
        *,
        method: str,
        endpoint: str,
        status: int,
        headers: Mapping[str, str],
        body: bytes,
        attempt: int,
        now: float,
    ) -> float | None:
        """Seconds to wait before trying again, or None to hand this answer to the caller."""
        if attempt >= self.max_attempts:
            return None
        wait = rate_limit_wait(status, headers, body, now, attempt)
        if wait is None:
            if status < 500 or not is_retry_safe(method, endpoint):
                return None
            wait = _retry_after(headers)
            if wait is None:
                wait = self.backoff(attempt)
        return wait if wait <= self.max_wait else None

    def after_error(
        self, *, method: str, endpoint: str, error: BaseException, attempt: int
    ) -> float | None:
        """Seconds to wait before trying again after no answer came, or None to raise."""
        if attempt >= self.max_attempts:
            return None
        never_sent = isinstance(
            error, aiohttp.ClientConnectorError | aiohttp.ConnectionTimeoutError
        )
        if never_sent or is_retry_safe(method, endpoint):
            return self.backoff(attempt)
        return None
