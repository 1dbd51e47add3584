"""pull_request: evaluate on every change to the pull request, record the merge on close."""

from __future__ import annotations

from typing import Any

from gidgethub import routing, sansio
from gidgethub.abc import GitHubAPI

from rapidvet.app.context import Context
from rapidvet.app.pulls import merge
from rapidvet.app.pulls.evaluation import evaluate, judged

router = routing.Router()


@router.register("pull_request", action="opened")
@router.register("pull_request", action="synchronize")
@router.register("pull_request", action="reopened")
@router.register("pull_request", action="edited")
@router.register("pull_request", action="ready_for_review")
async def evaluate_pull(event: sansio.Event, gh: GitHubAPI, context: Context) -> None:
    data: Any = event.data
    repo, pull = data["repository"]["full_name"], data["pull_request"]
    await evaluate(gh, context, repo, pull["number"], pull)


@router.register("pull_request", action="closed")
async def record_merge(event: sansio.Event, gh: GitHubAPI, context: Context) -> None:
    data: Any = event.data
    repo, pull = data["repository"]["full_name"], data["pull_request"]
    if not pull.get("merged") or merge.recorded(context.store, repo, pull):
        return
    evaluation = await judged(gh, context, repo, pull["number"], pull)
    if evaluation is not None:  # else its check runs say it went unjudged: nothing to record
        await merge.record(gh, context.store, evaluation, context.web_url)
