"""installation and installation_repositories: remember which repositories the App sees."""

from __future__ import annotations

import json
from typing import Any

from gidgethub import routing, sansio
from gidgethub.abc import GitHubAPI

from rapidvet.app.handlers.context import Context

router = routing.Router()


def _names(repos: list[dict[str, Any]] | None) -> set[str]:
    return {str(r["full_name"]) for r in repos or []}


@router.register("installation")
@router.register("installation_repositories")
async def installation_changed(event: sansio.Event, gh: GitHubAPI, context: Context) -> None:
    data: Any = event.data
    installation = data["installation"]
    key = str(installation["id"])
    if data.get("action") == "deleted":
        context.store.put_value("installation", key, json.dumps({"deleted": True}))
        return
    known = json.loads(context.store.get_value("installation", key) or "{}")
    repos = set(known.get("repositories", [])) | _names(data.get("repositories"))
    repos |= _names(data.get("repositories_added"))
    repos -= _names(data.get("repositories_removed"))
    account = (installation.get("account") or {}).get("login")
    record = {"account": account, "repositories": sorted(repos)}
    context.store.put_value("installation", key, json.dumps(record))
