"""Answers shaped like GitHub's: JSON bodies, error bodies and `Link`-header pagination."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any, TypeVar

from aiohttp import web

from tests.support.fake_github.keys import BODY, PARAMS

T = TypeVar("T")
DEFAULT_PER_PAGE = 30
MAX_PER_PAGE = 100


def json_response(
    body: Any, *, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    response = web.Response(
        body=json.dumps(body).encode(),
        status=status,
        headers=headers,
        content_type="application/json",
        charset="utf-8",
    )
    response[BODY] = body
    return response


def error_response(
    status: int,
    message: str,
    *,
    docs: str = "https://docs.github.com/rest",
    errors: list[Any] | None = None,
    headers: dict[str, str] | None = None,
) -> web.Response:
    body: dict[str, Any] = {"message": message, "documentation_url": docs, "status": str(status)}
    if errors is not None:
        body["errors"] = errors
    return json_response(body, status=status, headers=headers)


def _link(request: web.Request, **query: int | str) -> str:
    return str(request.url.update_query(**{k: str(v) for k, v in query.items()}))


def paginate(
    request: web.Request, items: Sequence[T], *, limit: int | None = None
) -> tuple[list[T], dict[str, str]]:
    """One page of `items` (`page`/`per_page` query) and its `Link` header.

    `limit` caps what can be listed at all, as GitHub stops a pull request's files at 3000.
    """
    params = request[PARAMS]
    per_page = max(1, min(params.get("per_page", DEFAULT_PER_PAGE), MAX_PER_PAGE))
    page = max(1, params.get("page", 1))
    total = len(items) if limit is None else min(len(items), limit)
    last = max(1, math.ceil(total / per_page))
    start = (page - 1) * per_page
    chunk = list(items[start : min(start + per_page, total)])
    links = []
    if page > 1:
        links += [f'<{_link(request, page=page - 1)}>; rel="prev"']
    if page < last:
        links += [f'<{_link(request, page=page + 1)}>; rel="next"']
        links += [f'<{_link(request, page=last)}>; rel="last"']
    if page > 1:
        links += [f'<{_link(request, page=1)}>; rel="first"']
    return chunk, ({"Link": ", ".join(links)} if links else {})


def paged_response(
    request: web.Request, items: Sequence[Any], *, limit: int | None = None
) -> web.Response:
    chunk, headers = paginate(request, items, limit=limit)
    return json_response(chunk, headers=headers)
