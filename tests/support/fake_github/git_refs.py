"""Listing references by prefix (GitHub's "List matching references"), which apps use to
find the merge queue's temporary branches."""

from __future__ import annotations

from aiohttp import web

from tests.support.fake_github.keys import SHAPES, STATE
from tests.support.fake_github.responses import json_response

routes = web.RouteTableDef()


@routes.get("/repos/{owner}/{repo}/git/matching-refs/{ref:.+}")
async def matching_refs(request: web.Request) -> web.Response:
    """Every ref whose name starts with `refs/{ref}`, sorted by name, unpaginated as GitHub's."""
    repo = request.app[STATE].repo(request.match_info["owner"], request.match_info["repo"])
    prefix = "refs/" + request.match_info["ref"]
    found = sorted((ref, sha) for ref, sha in repo.refs.items() if ref.startswith(prefix))
    return json_response([request.app[SHAPES].ref(repo, ref, sha) for ref, sha in found])
