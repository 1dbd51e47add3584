"""installation and installation_repositories: remember which repositories the App sees, and
snapshot the default branch of each repository it is given, for the dashboard."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, Literal

from gidgethub import routing, sansio
from gidgethub.abc import GitHubAPI

from rapidvet.app import snapshots
from rapidvet.app.context import Context
from rapidvet.app.store import Store

router = routing.Router()
INSTALLED = "installed"  # key owner/repo: the id of the installation reaching it, "" once removed
# What the App knows of a repository: installed on it, removed from it, or never told of it.
RepoState = Literal["installed", "removed", "unknown"]


def repository_state(store: Store, repo: str) -> RepoState:
    value = store.get_value(INSTALLED, repo)
    return "unknown" if value is None else "installed" if value else "removed"


def _names(repos: list[dict[str, Any]] | None) -> set[str]:
    return {str(r["full_name"]) for r in repos or []}


def remember(store: Store, repos: Iterable[str], installation: int | None) -> None:
    """Note that the App reaches `repos` through `installation` (None: no longer)."""
    for repo in repos:
        store.put_value(INSTALLED, repo, "" if installation is None else str(installation))


@router.register("installation")
@router.register("installation_repositories")
async def installation_changed(event: sansio.Event, gh: GitHubAPI, context: Context) -> None:
    data: Any = event.data
    installation = data["installation"]
    key = str(installation["id"])
    known = json.loads(context.store.get_value("installation", key) or "{}")
    if data.get("action") == "deleted":
        context.store.put_value("installation", key, json.dumps({"deleted": True}))
        remember(context.store, known.get("repositories", []), None)
        return
    added = _names(data.get("repositories")) | _names(data.get("repositories_added"))
    removed = _names(data.get("repositories_removed"))
    repos = (set(known.get("repositories", [])) | added) - removed
    account = (installation.get("account") or {}).get("login")
    record = {"account": account, "repositories": sorted(repos)}
    context.store.put_value("installation", key, json.dumps(record))
    remember(context.store, removed, None)
    remember(context.store, added - removed, installation["id"])
    for repo in sorted(added - removed):
        branch = await snapshots.default_branch(gh, repo)
        await snapshots.refresh(gh, context.store, repo, branch, context.today(), datetime.now(UTC))
