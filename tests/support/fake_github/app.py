"""The fake GitHub as an aiohttp application.

Each API request passes through `STAGES`, outermost first: the request log; GitHub's response
headers and rate limit accounting; validation against GitHub's OpenAPI description (a request
that does not match is answered 404/422 and recorded as a failure, as is one for an endpoint the
fake lacks); GitHub-style error bodies; injected faults; authentication; ETag/304 handling; then
the endpoint. The control API under `/_fake/` skips them all, and so do the pages of GitHub's
web host (`webhost`), served by the same server: their paths never clash with the API's.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import traceback
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
from aiohttp import web
from yarl import URL

from tests.support.fake_github import branch_rules, git_refs, rest, webhost
from tests.support.fake_github.auth import authenticate, bucket_key
from tests.support.fake_github.control import Control, ControlError
from tests.support.fake_github.faults import SECONDARY_RATE_LIMIT
from tests.support.fake_github.gitstore import GitError
from tests.support.fake_github.keys import (
    BODY,
    CONTROL,
    CREDENTIAL,
    DESCRIPTION,
    DROPPED,
    FAULTED,
    FREE,
    JSON,
    LOG,
    OPERATION,
    PARAMS,
    REDELIVER,
    SHAPES,
    STATE,
    TASKS,
    VALIDATE_RESPONSES,
)
from tests.support.fake_github.openapi import (
    BASE_API_VERSION,
    NO_BODY,
    RequestInvalid,
    load_description,
)
from tests.support.fake_github.responses import error_response, json_response
from tests.support.fake_github.secondary_limits import CONTENT_METHODS
from tests.support.fake_github.shapes import Shapes
from tests.support.fake_github.state import GitHubError, State
from tests.support.fake_github.webhooks import deliver

CONTROL_PREFIX = "/_fake/"
WEB_HANDLERS = frozenset(r.handler for r in webhost.routes if isinstance(r, web.RouteDef))
SECONDARY_LIMIT_DOCS = (
    "https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api"
    "#about-secondary-rate-limits"
)
MAX_REQUEST_BYTES = 150 * 1024 * 1024  # a 100 MB blob, base64-encoded

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _request_id(request: web.Request) -> str:
    return f"FAKE:{request[LOG]['seq']:06X}"


def _record_failure(
    request: web.Request,
    kind: str,
    status: int,
    message: str,
    errors: list[Any],
    operation: str | None = None,
) -> None:
    entry = request[LOG]
    request.app[STATE].failures.append(
        {
            "seq": entry["seq"],
            "kind": kind,
            "method": request.method,
            "path": request.path,
            "query": entry["query"],
            "body": entry["body"],
            "operation": operation,
            "status": status,
            "message": message,
            "errors": [str(error) for error in errors],
        }
    )


def touched_repository(raw_path: str) -> str | None:
    """The `owner/repo` (lower case) a request's path names, as GitHub resolves the path:
    dot segments, plain or percent-encoded, first; None for a path under no repository."""
    parts = URL(f"http://api.github.invalid{raw_path}").path.split("/")  # absolute: resolved
    if len(parts) > 3 and parts[1] == "repos":
        return f"{parts[2]}/{parts[3]}".lower()
    return None


async def log_requests(request: web.Request, handler: Handler) -> web.StreamResponse:
    state = request.app[STATE]
    entry: dict[str, Any] = {
        "seq": len(state.requests) + 1,
        "method": request.method,
        "path": request.path,
        "repository": touched_repository(request.raw_path),
        "query": dict(request.query),
        "body": None,
        "operation": None,
        "auth": None,
        "fault": None,
        "status": None,
    }
    state.requests.append(entry)
    request[LOG] = entry
    try:
        response = await handler(request)
    except Exception as error:  # a bug in the fake itself: answer 500 and fail the test
        _record_failure(
            request, "server", 500, f"{type(error).__name__}: {error}", [traceback.format_exc()]
        )
        response = error_response(500, "Server Error")
    entry["status"] = None if request.get(DROPPED) else response.status
    return response


async def github_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    response = await handler(request)
    state = request.app[STATE]
    bucket = state.bucket(bucket_key(state, request.headers.get("Authorization")))
    if not request.get(FREE):  # 304 answers do not count against the limit
        bucket.spend()
    response.headers.update(
        {
            "X-RateLimit-Limit": str(bucket.limit),
            "X-RateLimit-Remaining": str(bucket.remaining),
            "X-RateLimit-Reset": str(bucket.reset),
            "X-RateLimit-Used": str(bucket.used),
            "X-RateLimit-Resource": "core",
            "X-GitHub-Request-Id": _request_id(request),
            "X-GitHub-Api-Version-Selected": request.headers.get(
                "X-GitHub-Api-Version", BASE_API_VERSION
            ),
        }
    )
    return response


async def _read_json(request: web.Request) -> Any:
    raw = await request.read()
    return json.loads(raw) if raw else NO_BODY


async def validate(request: web.Request, handler: Handler) -> web.StreamResponse:
    description = request.app[DESCRIPTION]
    entry = request[LOG]
    try:
        body = await _read_json(request)
    except ValueError:
        _record_failure(request, "request", 400, "Problems parsing JSON", ["invalid JSON body"])
        return error_response(400, "Problems parsing JSON")
    entry["body"] = None if body is NO_BODY else body
    version = request.headers.get("X-GitHub-Api-Version")
    if version is not None and version not in description.api_versions:
        message = f"Unsupported 'X-GitHub-Api-Version' header specified: {version}"
        _record_failure(request, "request", 400, message, [message])
        return error_response(400, message)
    try:
        operation, params = description.validate_request(
            request.method, request.path, request.query, body
        )
    except RequestInvalid as invalid:
        operation_id = invalid.operation.operation_id if invalid.operation else None
        _record_failure(
            request, "request", invalid.status, invalid.message, invalid.errors, operation_id
        )
        errors = [
            {"code": "invalid", "field": e.field, "message": e.message} for e in invalid.errors
        ]
        return error_response(
            invalid.status,
            invalid.message,
            docs=invalid.operation.docs_url
            if invalid.operation
            else "https://docs.github.com/rest",
            errors=errors if invalid.status == 422 else None,
        )
    entry["operation"] = operation.operation_id
    request[OPERATION] = operation
    request[PARAMS] = params
    request[JSON] = None if body is NO_BODY else body
    if request.match_info.http_exception is not None:
        message = (
            f"the fake GitHub does not implement {operation.operation_id} "
            f"({operation.method} {operation.template})"
        )
        _record_failure(request, "unimplemented", 404, message, [message], operation.operation_id)
        return error_response(404, "Not Found", docs=operation.docs_url)
    response = await handler(request)
    if request.app[VALIDATE_RESPONSES] and BODY in response and not response.get(FAULTED):
        problems = description.validate_response(operation, response.status, response[BODY])
        if problems:
            _record_failure(
                request,
                "response",
                response.status,
                f"the fake's {response.status} answer does not match GitHub's description",
                problems,
                operation.operation_id,
            )
    return response


async def github_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    docs = request[OPERATION].docs_url
    try:
        return await handler(request)
    except GitHubError as error:
        return error_response(error.status, error.message, docs=docs, errors=error.errors)
    except GitError:  # a SHA the repository does not hold
        return error_response(404, "Not Found", docs=docs)


async def inject_faults(request: web.Request, handler: Handler) -> web.StreamResponse:
    fault = request.app[STATE].faults.pick(request.method, request.path)
    if fault is None:
        return await handler(request)
    request[LOG]["fault"] = fault.id
    if fault.delay:
        await asyncio.sleep(fault.delay)
    if fault.drop:
        if request.transport is not None:
            request.transport.abort()
        request[DROPPED] = True
        return web.Response(status=499)  # never sent: the connection is gone
    if fault.status is None:
        return await handler(request)
    headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else None
    response = json_response(fault.body(_request_id(request)), status=fault.status, headers=headers)
    response[FAULTED] = True
    return response


async def check_credentials(request: web.Request, handler: Handler) -> web.StreamResponse:
    state = request.app[STATE]
    credential = authenticate(state, request.headers.get("Authorization"), request.path)
    token, user = credential.token, credential.user
    if user is not None and "repo" in request.match_info:
        # A user token reaches what the user can read, and of private repositories only those
        # the App is installed on.
        wanted = state.repo(request.match_info["owner"], request.match_info["repo"])
        if not state.can_read(user, wanted) or (
            wanted.private and state.installation_for(wanted) is None
        ):
            raise GitHubError(404, "Not Found")
    if token is not None:
        # A token reaches only its installation's repositories and account; others look absent.
        owner = request.match_info.get("owner") or request.match_info.get("org")
        if owner is not None:
            installation = state.installations.get(token.installation_id)
            account = installation.account.login.lower() if installation else None
            name = request.match_info.get("repo")
            repo = state.repos.get(f"{owner}/{name}".lower()) if name else None
            allowed = state.can_access(token, repo) if repo else owner.lower() == account
            if not allowed:
                raise GitHubError(404, "Not Found")
        if state.bucket(f"installation:{token.installation_id}").remaining == 0:
            raise GitHubError(
                403, f"API rate limit exceeded for installation ID {token.installation_id}."
            )
    request[CREDENTIAL] = credential
    request[LOG]["auth"] = credential.describe()
    return await handler(request)


async def secondary_limits(request: web.Request, handler: Handler) -> web.StreamResponse:
    """An installation's content-creating requests beyond GitHub's secondary limit: 403 with
    `retry-after` and GitHub's message (see `secondary_limits`)."""
    token = request[CREDENTIAL].token
    if token is None or request.method not in CONTENT_METHODS:
        return await handler(request)
    state = request.app[STATE]
    wait = state.content_limit.admit(f"installation:{token.installation_id}", state.time())
    if wait is None:
        return await handler(request)
    body = {
        "message": SECONDARY_RATE_LIMIT.format(request_id=_request_id(request)),
        "documentation_url": SECONDARY_LIMIT_DOCS,
    }
    response = json_response(body, status=403, headers={"Retry-After": str(wait)})
    response[FAULTED] = True  # GitHub's description does not list this 403 for every endpoint
    return response


async def conditional_requests(request: web.Request, handler: Handler) -> web.StreamResponse:
    response = await handler(request)
    if request.method != "GET" or response.status != 200 or not isinstance(response, web.Response):
        return response
    assert isinstance(response.body, bytes)
    etag = f'W/"{hashlib.sha256(response.body).hexdigest()}"'
    response.headers["ETag"] = etag
    response.headers["Cache-Control"] = "private, max-age=60, s-maxage=60"
    wanted = {
        tag.strip().removeprefix("W/")
        for tag in request.headers.get("If-None-Match", "").split(",")
    }
    if etag.removeprefix("W/") in wanted:
        request[FREE] = True
        return web.Response(status=304, headers={"ETag": etag})
    return response


Stage = Callable[[web.Request, Handler], Awaitable[web.StreamResponse]]
STAGES: tuple[Stage, ...] = (
    log_requests,
    github_headers,
    validate,
    github_errors,
    inject_faults,
    check_credentials,
    secondary_limits,
    conditional_requests,
)


@web.middleware
async def github_api(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Run API requests through `STAGES`; control requests and the web host's pages go straight
    to their handler."""
    if request.path.startswith(CONTROL_PREFIX) or request.match_info.handler in WEB_HANDLERS:
        return await handler(request)
    for stage in reversed(STAGES):
        handler = _wrap(stage, handler)
    return await handler(request)


def _wrap(stage: Stage, inner: Handler) -> Handler:
    async def run(request: web.Request) -> web.StreamResponse:
        return await stage(request, inner)

    return run


async def _control(request: web.Request) -> web.Response:
    arguments = await request.json() if request.can_read_body else {}
    try:
        result = await request.app[CONTROL].call(request.match_info["operation"], arguments)
    except ControlError as error:
        return web.json_response({"error": str(error)}, status=400)
    return web.json_response({"result": result})


async def _client_session(app: web.Application) -> AsyncIterator[None]:
    """A client session for webhook deliveries, and cancellation of unfinished ones."""
    async with aiohttp.ClientSession() as session:
        app[CONTROL].session = session
        yield
        for task in app[TASKS]:
            task.cancel()
        await asyncio.gather(*app[TASKS], return_exceptions=True)


def _redeliver(app: web.Application, delivery_id: int) -> None:
    """Send a recorded delivery again, in the background, as GitHub does on request."""
    original = app[STATE].delivery(delivery_id)
    session = app[CONTROL].session
    assert session is not None
    task = asyncio.create_task(
        deliver(
            app[STATE],
            session,
            original.event,
            original.payload,
            guid=original.guid,
            redelivery=True,
        )
    )
    app[TASKS].add(task)
    task.add_done_callback(app[TASKS].discard)


def create_app(state: State | None = None, *, validate_responses: bool = True) -> web.Application:
    """The fake GitHub for `state` (a new, empty one by default).

    `validate_responses` also checks the fake's own answers against GitHub's description and
    records mismatches as failures, which keeps the fake honest.
    """
    state = state or State()
    shapes = Shapes(state)
    app = web.Application(
        client_max_size=MAX_REQUEST_BYTES,
        middlewares=[github_api],
    )
    app[STATE] = state
    app[SHAPES] = shapes
    app[DESCRIPTION] = load_description()
    app[VALIDATE_RESPONSES] = validate_responses
    app[CONTROL] = Control(state, shapes, None)
    app[TASKS] = set()

    app[REDELIVER] = lambda delivery_id: _redeliver(app, delivery_id)
    app.router.add_post(CONTROL_PREFIX + "{operation}", _control)
    app.add_routes(webhost.routes)
    app.add_routes(rest.routes)
    app.add_routes(git_refs.routes)
    app.add_routes(branch_rules.routes)
    app.cleanup_ctx.append(_client_session)
    return app
