"""merge_group: the merge queue asks for the required checks on a group's head commit."""

from __future__ import annotations

from typing import Any

from gidgethub import routing, sansio
from gidgethub.abc import GitHubAPI

from rapidvet.app.context import Context
from rapidvet.app.pulls.merge_queue import check_group

router = routing.Router()


@router.register("merge_group", action="checks_requested")
async def checks_requested(event: sansio.Event, gh: GitHubAPI, context: Context) -> None:
    data: Any = event.data
    await check_group(gh, context, data["repository"]["full_name"], data["merge_group"])
