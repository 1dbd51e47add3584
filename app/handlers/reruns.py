"""check_run and check_suite: a user asked for a re-run ("Re-run" or the Re-check button)."""

from __future__ import annotations

from typing import Any

from gidgethub import routing, sansio
from gidgethub.abc import GitHubAPI

from rapidvet.app.context import Context
from rapidvet.app.pulls.check_runs import RECHECK
from rapidvet.app.pulls.evaluation import evaluate

router = routing.Router()


async def _recheck(pulls: list[dict[str, Any]], repo: str, gh: GitHubAPI, context: Context) -> None:
    for pull in pulls:
        await evaluate(gh, context, repo, int(pull["number"]), recheck=True)


@router.register("check_run", action="rerequested")
async def check_run_rerequested(event: sansio.Event, gh: GitHubAPI, context: Context) -> None:
    data: Any = event.data
    await _recheck(
        data["check_run"].get("pull_requests", []), data["repository"]["full_name"], gh, context
    )


@router.register("check_run", action="requested_action")
async def recheck_button(event: sansio.Event, gh: GitHubAPI, context: Context) -> None:
    data: Any = event.data
    if (data.get("requested_action") or {}).get("identifier") != RECHECK["identifier"]:
        return
    await _recheck(
        data["check_run"].get("pull_requests", []), data["repository"]["full_name"], gh, context
    )


@router.register("check_suite", action="rerequested")
async def check_suite_rerequested(event: sansio.Event, gh: GitHubAPI, context: Context) -> None:
    data: Any = event.data
    await _recheck(
        data["check_suite"].get("pull_requests", []), data["repository"]["full_name"], gh, context
    )
