"""pull_request_review: a review changes the RAPID state, so evaluate again."""

from __future__ import annotations

from typing import Any

from gidgethub import routing, sansio
from gidgethub.abc import GitHubAPI

from rapidvet.app.context import Context
from rapidvet.app.pulls.evaluation import evaluate

router = routing.Router()


@router.register("pull_request_review", action="submitted")
@router.register("pull_request_review", action="edited")
@router.register("pull_request_review", action="dismissed")
async def reviewed(event: sansio.Event, gh: GitHubAPI, context: Context) -> None:
    data: Any = event.data
    if data["pull_request"].get("state") == "closed":
        return
    repo, pull = data["repository"]["full_name"], data["pull_request"]
    await evaluate(gh, context, repo, pull["number"], pull)
