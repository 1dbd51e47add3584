"""installation and installation_repositories: remember each installation's repositories (the
set-up page lists them), and snapshot the default branch of each repository the App is given,
for the dashboard."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from gidgethub import routing, sansio
from gidgethub.abc import GitHubAPI

from rapidvet.app.context import Context
from rapidvet.app.handbook import reading
from rapidvet.app.store.records import INSTALLATION

router = routing.Router()


def _names(repos: list[dict[str, Any]] | None) -> set[str]:
    return {str(r["full_name"]) for r in repos or []}


@router.register("installation")
@router.register("installation_repositories")
async def installation_changed(event: sansio.Event, gh: GitHubAPI, context: Context) -> None:
    data: Any = event.data
    installation = data["installation"]
    key = str(installation["id"])
    known = INSTALLATION.get(context.store, key) or {}
    if data.get("action") == "deleted":
        INSTALLATION.put(context.store, key, {"deleted": True})
        return
    added = _names(data.get("repositories")) | _names(data.get("repositories_added"))
    removed = _names(data.get("repositories_removed"))
    repos = (set(known.get("repositories", [])) | added) - removed
    account = (installation.get("account") or {}).get("login")
    record = {"account": account, "repositories": sorted(repos)}
    INSTALLATION.put(context.store, key, record)
    for repo in sorted(added - removed):
        branch = await reading.default_branch(gh, repo)
        await reading.refresh(gh, context.store, repo, branch, context.today(), datetime.now(UTC))
