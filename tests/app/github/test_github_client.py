"""The GitHub client against a GitHub played by aiohttp servers on 127.0.0.1.

Nothing in the client is mocked: every case is real HTTP on loopback, with an RSA key made here,
a settable clock and a sleep that only records how long it was asked to wait.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import time
from collections import defaultdict, deque
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import aiohttp
import jwt
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from gidgethub import BadRequest, GitHubBroken, RateLimitExceeded
from multidict import CIMultiDict
from prometheus_client import REGISTRY

from rapidvet.app.github.auth import GitHubApp, InstallationToken, event_repositories
from rapidvet.app.github.cache import CacheKey, ETagCache
from rapidvet.app.github.client import Call, OutOfReach
from rapidvet.app.github.endpoints import endpoint_template
from rapidvet.app.github.retry import RetryPolicy, is_retry_safe, rate_limit_wait
from rapidvet.app.jobs.worker import run_try
from rapidvet.app.settings import Settings
from rapidvet.app.store import Job

APP_ID = 4242
PREFIX = "/api/v3"  # served like GitHub Enterprise Server, so the base path is exercised too
PULL = "/repos/octo/handbook/pulls/7"
COMMENTS = "/repos/octo/handbook/issues/7/comments"
CHECK_RUNS = "/repos/octo/handbook/check-runs"
SECONDARY = {"message": "You have exceeded a secondary rate limit. Please wait a few minutes."}

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def run(test: Callable[..., Coroutine[Any, Any, None]]) -> Callable[..., None]:
    """Run an async test in a fresh event loop (keeps fixtures working through wraps)."""

    @functools.wraps(test)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        asyncio.run(test(*args, **kwargs))

    return wrapper


@pytest.fixture(scope="module")
def key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def pem(key: rsa.RSAPrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


class Sleeps(list[float]):
    """Records the waits asked for; yields to the loop but never really sleeps."""

    async def __call__(self, seconds: float) -> None:
        self.append(seconds)
        await asyncio.sleep(0)


def reply(status: int, body: Any = None, **headers: str) -> Handler:
    async def answer(request: web.Request) -> web.StreamResponse:
        if body is None:
            return web.Response(status=status, headers=headers)
        return web.json_response(body, status=status, headers=headers)

    return answer


async def drop_mid_body(request: web.Request) -> web.StreamResponse:
    """Promise a body, send part of it, then close the connection."""
    response = web.StreamResponse(headers={"Content-Type": "application/json"})
    response.content_length = 100
    await response.prepare(request)
    await response.write(b'{"par')
    assert request.transport is not None
    request.transport.close()
    return response


async def drop_before_answer(request: web.Request) -> web.StreamResponse:
    assert request.transport is not None
    request.transport.close()
    return web.Response()


def stall(seconds: float) -> Handler:
    async def answer(request: web.Request) -> web.StreamResponse:
        await asyncio.sleep(seconds)
        return web.json_response({})

    return answer


@dataclass
class Seen:
    method: str
    path: str
    headers: CIMultiDict[str]


@dataclass
class FakeGitHub:
    """GitHub for one test: issues installation tokens for a valid App JWT, checks every
    request's credentials, answers scripted replies first and then a default, with ETags."""

    public_key: rsa.RSAPublicKey
    clock: Clock
    token_lifetime: float = 3600
    token_delay: float = 0.0
    requests: list[Seen] = field(default_factory=list)
    scripts: defaultdict[tuple[str, str], deque[Handler]] = field(
        default_factory=lambda: defaultdict(deque)
    )
    jwt_claims: list[dict[str, Any]] = field(default_factory=list)
    tokens_issued: list[str] = field(default_factory=list)
    revoked: set[str] = field(default_factory=set)
    refuse_tokens: bool = False
    remaining: int = 5000

    def script(self, method: str, path: str, *handlers: Handler) -> None:
        self.scripts[method, path].extend(handlers)

    def seen(self, method: str, path: str) -> list[Seen]:
        return [r for r in self.requests if (r.method, r.path) == (method, path)]

    @property
    def application(self) -> web.Application:
        application = web.Application()
        application.router.add_route("*", "/{tail:.*}", self.handle)
        return application

    async def handle(self, request: web.Request) -> web.StreamResponse:
        path = request.path.removeprefix(PREFIX)
        self.requests.append(Seen(request.method, path, CIMultiDict(request.headers)))
        if not self.authorized(path, request.headers.get("Authorization", "")):
            return web.json_response({"message": "Bad credentials"}, status=401)
        script = self.scripts[request.method, path]
        if script:
            response = await script.popleft()(request)
        elif path.endswith("/access_tokens"):
            response = await self.issue_token()
        elif request.method == "GET":
            response = self.get(path, request.headers.get("If-None-Match"))
        else:
            response = web.json_response({"created": path}, status=201)
        if response.status != 304:
            self.remaining -= 1
        response.headers.setdefault("X-RateLimit-Limit", "5000")
        response.headers.setdefault("X-RateLimit-Remaining", str(self.remaining))
        response.headers.setdefault("X-RateLimit-Reset", str(int(self.clock()) + 3600))
        return response

    def authorized(self, path: str, authorization: str) -> bool:
        scheme, _, credential = authorization.partition(" ")
        if path.split("/")[1] == "app":
            try:
                claims = jwt.decode(
                    credential,
                    self.public_key,
                    algorithms=["RS256"],
                    options={"verify_exp": False, "verify_iat": False},
                )
            except jwt.InvalidTokenError:
                return False
            self.jwt_claims.append(claims)
            return scheme.lower() == "bearer"
        known = credential in self.tokens_issued and credential not in self.revoked
        return scheme == "token" and known and not self.refuse_tokens

    async def issue_token(self) -> web.StreamResponse:
        await asyncio.sleep(self.token_delay)  # lets concurrent callers pile up
        token = f"ghs_secret{len(self.tokens_issued) + 1:04d}"
        self.tokens_issued.append(token)
        expires = datetime.fromtimestamp(self.clock() + self.token_lifetime, UTC)
        body = {"token": token, "expires_at": expires.strftime("%Y-%m-%dT%H:%M:%SZ")}
        return web.json_response(body, status=201)

    def get(self, path: str, if_none_match: str | None) -> web.StreamResponse:
        etag = f'"etag-{path}"'
        if if_none_match == etag:
            return web.Response(status=304, headers={"ETag": etag})
        return web.json_response({"path": path, "labels": ["a"]}, headers={"ETag": etag})


@dataclass
class Harness:
    github: FakeGitHub
    app: GitHubApp
    clock: Clock
    sleeps: Sleeps
    private_key: str


@asynccontextmanager
async def started(key: rsa.RSAPrivateKey, **options: Any) -> AsyncIterator[Harness]:
    clock = Clock()
    sleeps = Sleeps()
    github = FakeGitHub(key.public_key(), clock)
    server = TestServer(github.application, host="127.0.0.1")
    await server.start_server()
    settings = Settings(
        app_id=APP_ID,
        private_key=pem(key),
        webhook_secret="unused",
        github_url=str(server.make_url(PREFIX)),
    )
    options.setdefault("retry", RetryPolicy(jitter=lambda: 1.0))
    app = GitHubApp(settings, clock=clock, sleep=sleeps, **options)
    try:
        yield Harness(github, app, clock, sleeps, settings.private_key)
    finally:
        await app.close()
        await server.close()


# --- App JWT and installation tokens ---


@run
async def test_app_jwt_is_rs256_backdated_short_lived_and_names_the_app(key):
    async with started(key) as h:
        token = h.app.jwt()
        assert jwt.get_unverified_header(token)["alg"] == "RS256"
        claims = jwt.decode(token, key.public_key(), algorithms=["RS256"])
        assert claims["iss"] == str(APP_ID)
        assert claims["iat"] == int(h.clock.now) - 60
        assert 0 < claims["exp"] - h.clock.now <= 10 * 60
        assert claims["exp"] - claims["iat"] <= 10 * 60
        await h.app.installation_api(1)
        [sent] = h.github.jwt_claims
        assert sent == claims


@run
async def test_app_jwt_is_reused_for_minutes_then_replaced(key):
    async with started(key) as h:
        first = h.app.jwt()
        h.clock.now += 4 * 60
        assert h.app.jwt() == first
        h.clock.now += 2 * 60
        second = h.app.jwt()
        assert second != first
        claims = jwt.decode(second, options={"verify_signature": False})
        assert claims["iat"] == int(h.clock.now) - 60


@run
async def test_one_token_request_serves_many_calls(key):
    async with started(key) as h:
        for _ in range(3):
            gh = await h.app.installation_api(7)
            await gh.getitem(PULL)
            await gh.post(COMMENTS, data={"body": "hi"})
        assert h.github.tokens_issued == ["ghs_secret0001"]
        assert len(h.github.seen("POST", "/app/installations/7/access_tokens")) == 1


@run
async def test_token_is_replaced_five_minutes_before_it_expires(key):
    async with started(key) as h:
        gh = await h.app.installation_api(7)
        await gh.getitem(PULL)
        h.clock.now += 3600 - 5 * 60 - 1
        await gh.getitem(PULL)
        assert len(h.github.tokens_issued) == 1
        h.clock.now += 2
        await gh.getitem(PULL)
        assert len(h.github.tokens_issued) == 2
        assert h.github.requests[-1].headers["Authorization"] == "token ghs_secret0002"


@run
async def test_concurrent_callers_share_one_token_request(key):
    async with started(key) as h:
        h.github.token_delay = 0.05
        apis = await asyncio.gather(*(h.app.installation_api(7) for _ in range(10)))
        await asyncio.gather(*(gh.getitem(PULL) for gh in apis))
        assert h.github.tokens_issued == ["ghs_secret0001"]


@run
async def test_installations_get_their_own_tokens(key):
    async with started(key) as h:
        await (await h.app.installation_api(7)).getitem(PULL)
        await (await h.app.installation_api(8)).getitem(PULL)
        assert len(h.github.tokens_issued) == 2
        assert "/app/installations/8/access_tokens" in [r.path for r in h.github.requests]


@run
async def test_refused_token_is_dropped_and_replaced_once(key):
    async with started(key) as h:
        gh = await h.app.installation_api(7)
        h.github.revoked.add("ghs_secret0001")
        assert await gh.getitem(PULL) == {"path": PULL, "labels": ["a"]}
        assert [r.headers["Authorization"] for r in h.github.seen("GET", PULL)] == [
            "token ghs_secret0001",
            "token ghs_secret0002",
        ]
        h.github.refuse_tokens = True  # a new token does not help: the 401 stands
        with pytest.raises(BadRequest) as refused:
            await gh.getitem(PULL)
        assert refused.value.status_code == 401


OFF_REACH = [
    "/repos/octo/secret/contents/plans/secret.md",
    "/repos/octo/handbook/contents/../../secret/contents/plans/secret.md",
    "/repos/octo/handbook/contents/%2e%2e/%2E%2e/secret/contents/plans/secret.md",
    "/repos/octo/handbook/contents/a%2F..%2F..%2F..%2Fsecret",
    "/repos/octo/handbook%2F..%2Fsecret/pulls",
    "/repos/octo/handbook2/pulls",
    "/orgs/other/teams/t/members",
    "/user/installations",
    "http://127.0.0.2:9/repos/octo/handbook/pulls/7",
]


@run
async def test_a_job_client_reaches_only_its_own_repository(key):
    """Compared on the path as aiohttp sends it: encoded or plain dot segments do not slip by."""
    async with started(key) as h:
        gh = await h.app.installation_api(7, ["Octo/Handbook"])
        await gh.getitem(PULL)
        await gh.getitem("/repos/octo/handbook/contents/a%252e%252e/b.md?ref=main")
        await gh.getitem("/orgs/octo/teams/ops/members")
        await gh.getitem("/installation/repositories")
        for url in OFF_REACH:
            with pytest.raises(OutOfReach, match="outside what this job may touch"):
                await gh.getitem(url)
        paths = [r.path for r in h.github.requests]
        assert not [p for p in paths if "secret" in p or p.startswith(("/user", "/orgs/other"))]
        unbound = await h.app.installation_api(7)
        await unbound.getitem("/repos/octo/other/pulls/1")


@run
async def test_a_job_off_its_repositories_fails_at_once():
    async def off_reach(job: Job) -> None:
        raise OutOfReach("GET /repos/{owner}/{repo} is outside what this job may touch")

    job = Job(1, "d1", "pull_request", "opened", 7, "octo/handbook#7", {}, 1, datetime.now(UTC))
    outcome = await run_try(job, off_reach, max_attempts=5)
    assert outcome.error is not None and outcome.retry_in is None


def test_a_delivery_binds_its_job_to_the_repositories_it_names():
    repo = {"full_name": "octo/handbook"}
    assert event_repositories({"repository": repo, "pull_request": {}}) == {"octo/handbook"}
    added = {"repositories_added": [repo, {"full_name": "octo/ops"}], "repositories_removed": []}
    assert event_repositories(added) == {"octo/handbook", "octo/ops"}
    assert event_repositories({"installation": {"id": 7}}) == frozenset()


@run
async def test_invalidate_forces_a_new_token(key):
    async with started(key) as h:
        await h.app.installation_api(7)
        h.app.invalidate(7)
        await h.app.installation_api(7)
        assert len(h.github.tokens_issued) == 2


@run
async def test_every_request_sends_the_api_version(key):
    async with started(key) as h:
        gh = await h.app.installation_api(7)
        await gh.getitem(PULL)
        await gh.getitem(PULL)
        await gh.patch(CHECK_RUNS + "/5", data={"status": "completed"})
        await h.app.app_api().getitem("/app")
        assert len(h.github.requests) == 5
        assert {r.headers.get("X-GitHub-Api-Version") for r in h.github.requests} == {"2022-11-28"}


# --- conditional requests ---


@run
async def test_second_get_is_conditional_and_a_304_returns_the_cached_body(key):
    async with started(key) as h:
        gh = await h.app.installation_api(7)
        first = await gh.getitem(PULL)
        first["labels"].append("changed by the caller")
        again = await (await h.app.installation_api(7)).getitem(PULL)
        assert again == {"path": PULL, "labels": ["a"]}
        conditional = h.github.seen("GET", PULL)[1]
        assert conditional.headers["If-None-Match"] == f'"etag-{PULL}"'
        assert h.github.remaining == 4998  # the token and the first GET; the 304 was free


@run
async def test_conditional_cache_is_per_installation_url_and_query(key):
    async with started(key) as h:
        seven = await h.app.installation_api(7)
        await seven.getitem(PULL)
        await (await h.app.installation_api(8)).getitem(PULL)
        await seven.getitem(PULL + "/files?page=2")
        await seven.getitem(PULL + "/files?page=3")
        assert all("If-None-Match" not in r.headers for r in h.github.requests)


@run
async def test_a_changed_resource_replaces_the_cached_one(key):
    async with started(key) as h:
        gh = await h.app.installation_api(7)
        await gh.getitem(PULL)
        h.github.script("GET", PULL, reply(200, {"path": PULL, "labels": ["b"]}, ETag='"v2"'))
        assert (await gh.getitem(PULL))["labels"] == ["b"]
        h.github.script("GET", PULL, reply(304))
        assert (await gh.getitem(PULL))["labels"] == ["b"]
        assert h.github.seen("GET", PULL)[-1].headers["If-None-Match"] == '"v2"'


def page(number: int, etag: str, last: bool = False) -> Handler:
    async def answer(request: web.Request) -> web.StreamResponse:
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304)
        headers = {"ETag": etag}
        if not last:
            following = request.url.with_query(page=str(number + 1))
            headers["Link"] = f'<{following}>; rel="next"'
        return web.json_response([{"page": number}], headers=headers)

    return answer


@run
async def test_pagination_follows_next_links_of_cached_pages(key):
    async with started(key) as h:
        files = PULL + "/files"
        pages = [page(1, '"p1"'), page(2, '"p2"', last=True)]
        h.github.script("GET", files, *pages, *pages)
        gh = await h.app.installation_api(7)
        first = [item async for item in gh.getiter(files)]
        again = [item async for item in gh.getiter(files)]
        assert first == again == [{"page": 1}, {"page": 2}]
        assert gh.calls[Call("GET", "/repos/{owner}/{repo}/pulls/{number}/files", "304")] == 2


def test_etag_cache_is_bounded_in_bytes_least_recently_used_out():
    cache = ETagCache(max_bytes=3000)
    keys = [CacheKey("7", f"/repos/o/r/contents/{n}", "json") for n in range(5)]
    for k in keys[:4]:
        cache.put(k, {"ETag": '"x"'}, b"x" * 700)
    assert cache.get(keys[0]) is not None  # now the most recently used
    cache.put(keys[4], {"ETag": '"x"'}, b"x" * 700)
    cache.put(CacheKey("7", "/big", "json"), {"ETag": '"x"'}, b"x" * 800)  # over a quarter
    cache.put(CacheKey("7", "/plain", "json"), {}, b"{}")  # no validator: nothing to ask with
    assert [cache.get(k) is not None for k in keys] == [True, False, True, True, True]
    assert cache.get(CacheKey("7", "/big", "json")) is None
    assert cache.get(CacheKey("7", "/plain", "json")) is None


# --- retries ---


@run
async def test_bad_gateway_twice_then_success(key):
    async with started(key) as h:
        h.github.script("GET", PULL, reply(502), reply(502))
        gh = await h.app.installation_api(7)
        assert await gh.getitem(PULL) == {"path": PULL, "labels": ["a"]}
        assert len(h.github.seen("GET", PULL)) == 3
        assert h.sleeps == [0.5, 1.0]  # base 0.5 s doubling; jitter pinned at its top
        assert gh.calls[Call("GET", "/repos/{owner}/{repo}/pulls/{number}", "502")] == 2


def test_backoff_is_full_jitter_below_a_doubling_capped_ceiling():
    policy = RetryPolicy(backoff_base=1.0, backoff_cap=5.0, jitter=lambda: 0.5)
    assert [policy.backoff(n) for n in (1, 2, 3, 4, 5)] == [0.5, 1.0, 2.0, 2.5, 2.5]


@run
async def test_too_many_requests_waits_retry_after(key):
    async with started(key) as h:
        h.github.script("GET", PULL, reply(429, {"message": "slow down"}, **{"Retry-After": "7"}))
        gh = await h.app.installation_api(7)
        await gh.getitem(PULL)
        assert h.sleeps == [7.0]


@run
async def test_secondary_rate_limit_403_is_waited_out_even_for_a_comment(key):
    async with started(key) as h:
        h.github.script("POST", COMMENTS, reply(403, SECONDARY, **{"Retry-After": "3"}))
        gh = await h.app.installation_api(7)
        await gh.post(COMMENTS, data={"body": "decision record"})
        assert h.sleeps == [3.0]
        assert len(h.github.seen("POST", COMMENTS)) == 2


@run
async def test_secondary_rate_limit_without_retry_after_waits_a_minute(key):
    async with started(key) as h:
        h.github.script("GET", PULL, reply(403, SECONDARY), reply(403, SECONDARY))
        gh = await h.app.installation_api(7)
        with pytest.raises(BadRequest):
            await gh.getitem(PULL)
        assert h.sleeps == [60.0]  # the next wait, two minutes, is over max_wait: give up


@run
async def test_secondary_limit_past_max_wait_hands_the_job_queue_githubs_wait(key):
    async with started(key) as h:
        h.github.script("POST", COMMENTS, reply(403, SECONDARY, **{"Retry-After": "600"}))
        gh = await h.app.installation_api(7)

        async def comment(job: Job) -> None:
            await gh.post(COMMENTS, data={"body": "decision record"})

        job = Job(1, "d1", "pull_request", "opened", 7, "octo/handbook#7", {}, 1, datetime.now(UTC))
        outcome = await run_try(job, comment, max_attempts=5)
        assert h.sleeps == []  # ten minutes is not waited in-process
        # The queue waits what GitHub asked, not its two-second backoff that would be refused.
        assert outcome.retry_in is not None and outcome.retry_in >= 601
        assert "secondary rate limit" in str(outcome.error)


@run
async def test_exhausted_primary_limit_waits_until_reset(key):
    async with started(key) as h:
        reset = str(int(h.clock.now) + 30)
        limited = reply(
            403,
            {"message": "API rate limit exceeded"},
            **{"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset},
        )
        h.github.script("GET", PULL, limited)
        gh = await h.app.installation_api(7)
        await gh.getitem(PULL)
        assert h.sleeps == [pytest.approx(31.0, abs=1.0)]


@run
async def test_limit_resetting_beyond_max_wait_raises_at_once(key):
    async with started(key) as h:
        reset = str(int(h.clock.now) + 3600)
        h.github.script(
            "GET",
            PULL,
            reply(
                403,
                {"message": "API rate limit exceeded"},
                **{
                    "X-RateLimit-Remaining": "0",
                    "X-RateLimit-Reset": reset,
                },
            ),
        )
        gh = await h.app.installation_api(7)
        with pytest.raises(RateLimitExceeded):
            await gh.getitem(PULL)
        assert h.sleeps == []


@run
async def test_permission_403_is_not_retried(key):
    async with started(key) as h:
        denied = {"message": "Resource not accessible by integration"}
        h.github.script("GET", PULL, reply(403, denied))
        gh = await h.app.installation_api(7)
        with pytest.raises(BadRequest) as refused:
            await gh.getitem(PULL)
        assert refused.value.status_code == 403
        assert len(h.github.seen("GET", PULL)) == 1


@run
async def test_max_attempts_spent_raises_gidgethubs_error(key):
    async with started(key) as h:
        h.github.script("GET", PULL, *[reply(503)] * 4, reply(200, {}))
        gh = await h.app.installation_api(7)
        with pytest.raises(GitHubBroken):
            await gh.getitem(PULL)
        assert len(h.github.seen("GET", PULL)) == 4
        assert len(h.sleeps) == 3


@run
async def test_server_error_on_a_comment_is_not_retried(key):
    async with started(key) as h:
        h.github.script("POST", COMMENTS, reply(502))
        gh = await h.app.installation_api(7)
        with pytest.raises(GitHubBroken):
            await gh.post(COMMENTS, data={"body": "decision record"})
        assert len(h.github.seen("POST", COMMENTS)) == 1


@run
async def test_server_error_on_a_retry_safe_post_is_retried(key):
    async with started(key) as h:
        h.github.script("POST", CHECK_RUNS, reply(500))
        h.github.script("POST", "/app/installations/7/access_tokens", reply(502))
        gh = await h.app.installation_api(7)
        assert await gh.post(CHECK_RUNS, data={"name": "RAPID review"}) == {"created": CHECK_RUNS}
        assert len(h.github.seen("POST", CHECK_RUNS)) == 2
        assert len(h.github.seen("POST", "/app/installations/7/access_tokens")) == 2


@run
async def test_connection_dropped_mid_response_is_retried(key):
    async with started(key) as h:
        h.github.script("GET", PULL, drop_mid_body, drop_mid_body)
        gh = await h.app.installation_api(7)
        assert await gh.getitem(PULL) == {"path": PULL, "labels": ["a"]}
        assert len(h.github.seen("GET", PULL)) == 3
        assert gh.calls[Call("GET", "/repos/{owner}/{repo}/pulls/{number}", "error")] == 2


@run
async def test_dropped_comment_is_not_sent_again(key):
    async with started(key) as h:
        h.github.script("POST", COMMENTS, drop_before_answer)
        gh = await h.app.installation_api(7)
        with pytest.raises(aiohttp.ClientError):
            await gh.post(COMMENTS, data={"body": "decision record"})
        assert len(h.github.seen("POST", COMMENTS)) == 1


@run
async def test_timeout_is_retried(key):
    async with started(key, timeout=aiohttp.ClientTimeout(total=0.2)) as h:
        h.github.script("GET", PULL, stall(1.0))
        gh = await h.app.installation_api(7)
        assert await gh.getitem(PULL) == {"path": PULL, "labels": ["a"]}
        assert len(h.sleeps) == 1


@run
async def test_credentials_are_not_sent_to_other_hosts(key):
    seen: list[str | None] = []

    async def record(request: web.Request) -> web.StreamResponse:
        seen.append(request.headers.get("Authorization"))
        return web.json_response({})

    elsewhere = web.Application()
    elsewhere.router.add_get("/{tail:.*}", record)
    async with started(key) as h, TestServer(elsewhere, host="127.0.0.1") as other:
        gh = await h.app.installation_api(7)
        await gh.getitem(str(other.make_url("/repos/octo/handbook")))
        assert seen == [None]


@run
async def test_refused_connection_is_retried_for_any_method_then_raised(key):
    async with started(key) as h:
        gh = await h.app.installation_api(7)
        closed = TestServer(web.Application(), host="127.0.0.1")
        await closed.start_server()
        gone = str(closed.make_url(""))
        await closed.close()
        with pytest.raises(aiohttp.ClientConnectorError):
            await gh.post(gone + "/repos/octo/handbook/issues/7/comments", data={"body": "x"})
        assert len(h.sleeps) == 3


# --- metrics and logs ---


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


@run
async def test_metrics_label_endpoint_templates_and_track_rate_limit(key):
    async with started(key) as h:
        labels = {"endpoint": "/repos/{owner}/{repo}/pulls/{number}", "method": "GET"}
        ok_before = sample("github_calls_total", status="200", **labels)
        bad_before = sample("github_calls_total", status="502", **labels)
        h.github.script("GET", PULL, reply(502))
        gh = await h.app.installation_api(7)
        await gh.getitem(PULL)
        await gh.getitem("/repos/other/place/pulls/12")
        assert sample("github_calls_total", status="200", **labels) == ok_before + 2
        assert sample("github_calls_total", status="502", **labels) == bad_before + 1
        token_call = {
            "endpoint": "/app/installations/{id}/access_tokens",
            "method": "POST",
            "status": "201",
        }
        assert sample("github_calls_total", **token_call) >= 1
        assert sample("github_rate_limit_remaining", installation="7") == h.github.remaining
        assert sample("github_rate_limit_remaining", installation="app") == 5000 - 1
        samples = [s for metric in REGISTRY.collect() for s in metric.samples]
        endpoints = {s.labels["endpoint"] for s in samples if "endpoint" in s.labels}
        assert not [e for e in endpoints if "octo" in e or "handbook" in e or "/7" in e]
        assert sum(gh.calls.values()) == 3


@run
async def test_no_token_jwt_or_key_reaches_logs_or_reprs(key, caplog):
    caplog.set_level(logging.DEBUG)
    async with started(key) as h:
        h.github.script("GET", PULL, reply(502), drop_before_answer)
        gh = await h.app.installation_api(7)
        await gh.getitem(PULL)
        h.github.revoked.add("ghs_secret0001")
        await gh.getitem(PULL)  # a 401, a new token, a 304
        await h.app.app_api().getitem("/app")
        secrets = [*h.github.tokens_issued, h.app.jwt(), h.private_key.strip()]
        secrets += [line for line in h.private_key.splitlines() if "PRIVATE KEY" not in line]
        token = InstallationToken(h.github.tokens_issued[0], 0.0)
        shown = [repr(h.app), repr(gh), repr(h.app.app_api()), repr(token), repr(h.app.settings)]
        assert len(h.github.tokens_issued) == 2
        assert any("GitHub GET /repos/{owner}/{repo}/pulls/{number}" in m for m in caplog.messages)
        text = caplog.text + "".join(shown)
        assert [secret for secret in secrets if secret in text] == []


@pytest.mark.parametrize(
    ("url", "template"),
    [
        ("/repos/octo/handbook/pulls/7", "/repos/{owner}/{repo}/pulls/{number}"),
        ("/repos/octo/handbook/pulls/7/files?page=2", "/repos/{owner}/{repo}/pulls/{number}/files"),
        (
            "/repos/o/r/pulls/7/reviews/99/dismissals",
            "/repos/{owner}/{repo}/pulls/{number}/reviews/{id}/dismissals",
        ),
        ("/repos/o/r/issues/comments/31", "/repos/{owner}/{repo}/issues/comments/{id}"),
        (
            "/repos/o/r/check-runs/5/annotations",
            "/repos/{owner}/{repo}/check-runs/{id}/annotations",
        ),
        (
            "/repos/o/r/contents/ops/sales/FY20 plan.md?ref=main",
            "/repos/{owner}/{repo}/contents/{path}",
        ),
        ("/repos/o/r/contents", "/repos/{owner}/{repo}/contents"),
        ("/repos/o/r/git/refs/heads/feature/x", "/repos/{owner}/{repo}/git/refs/{ref}"),
        ("/repos/o/r/git/ref/heads/main", "/repos/{owner}/{repo}/git/ref/{ref}"),
        ("/repos/o/r/git/refs", "/repos/{owner}/{repo}/git/refs"),
        (
            "/repos/o/r/git/trees/" + "a" * 40 + "?recursive=1",
            "/repos/{owner}/{repo}/git/trees/{sha}",
        ),
        (
            "/repos/o/r/commits/" + "0f" * 20 + "/check-runs",
            "/repos/{owner}/{repo}/commits/{sha}/check-runs",
        ),
        (
            "/orgs/acme/teams/mlt/memberships/jane",
            "/orgs/{org}/teams/{team_slug}/memberships/{username}",
        ),
        ("/app/installations/123/access_tokens", "/app/installations/{id}/access_tokens"),
        ("/app/hook/deliveries/9876/attempts", "/app/hook/deliveries/{id}/attempts"),
        ("/app-manifests/abc123/conversions", "/app-manifests/{code}/conversions"),
        ("/repos/o/r/environments/Prod%20EU", "/repos/{owner}/{repo}/environments/{value}"),
        ("https://ghe.example.com/api/v3/repos/o/r", "/repos/{owner}/{repo}"),
    ],
)
def test_endpoint_template(url, template):
    base = "https://ghe.example.com/api/v3"
    assert endpoint_template(base + url if url.startswith("/") else url, base) == template


@pytest.mark.parametrize(
    ("method", "endpoint", "safe"),
    [
        ("GET", "/repos/{owner}/{repo}/pulls/{number}", True),
        ("PATCH", "/repos/{owner}/{repo}/check-runs/{id}", True),
        ("PUT", "/repos/{owner}/{repo}/pulls/{number}/reviews/{id}/dismissals", True),
        ("POST", "/repos/{owner}/{repo}/git/blobs", True),
        ("POST", "/repos/{owner}/{repo}/issues/{number}/comments", False),
        ("POST", "/repos/{owner}/{repo}/git/refs", False),
        ("POST", "/repos/{owner}/{repo}/pulls", False),
    ],
)
def test_which_calls_may_be_sent_twice(method, endpoint, safe):
    assert is_retry_safe(method, endpoint) is safe


def test_rate_limit_wait_reads_github_headers_and_messages():
    now = 1_000_000.0
    assert rate_limit_wait(429, {"retry-after": "7"}, b"", now, 1) == 7.0
    reset = {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "1000010"}
    assert rate_limit_wait(403, reset, b"", now, 1) == 11.0
    assert rate_limit_wait(403, {}, json.dumps(SECONDARY).encode(), now, 2) == 120.0
    assert rate_limit_wait(429, {}, b"", now, 1) == 60.0
    assert rate_limit_wait(403, {"x-ratelimit-remaining": "12"}, b"{}", now, 1) is None
    assert rate_limit_wait(502, {"retry-after": "7"}, b"", now, 1) is None
