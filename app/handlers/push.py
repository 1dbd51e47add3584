"""push: a new rapid.yml on the default branch changes who must approve the open pull
requests against it, so evaluate them again."""

from __future__ import annotations

from typing import Any

from gidgethub import routing, sansio
from gidgethub.abc import GitHubAPI

from rapidvet.app.evaluation import assess, report
from rapidvet.app.handlers.context import Context
from rapidvet.app.repo_files import owner_repo
from rapidvet.workflows.config_loader import CONFIG_LOCATIONS

router = routing.Router()
OPEN_PULLS = "/repos/{owner}/{repo}/pulls{?state,base,per_page}"


def relevant(data: dict[str, Any]) -> bool:
    """A push to the default branch that touches rapid.yml."""
    branch = (data.get("repository") or {}).get("default_branch")
    return data.get("ref") == f"refs/heads/{branch}" and changes_config(data)


def changes_config(data: dict[str, Any]) -> bool:
    touched = {
        path
        for commit in data.get("commits") or []
        for kind in ("added", "modified", "removed")
        for path in commit.get(kind) or []
    }
    return bool(touched & set(CONFIG_LOCATIONS))


@router.register("push")
async def pushed(event: sansio.Event, gh: GitHubAPI, context: Context) -> None:
    data: Any = event.data
    if not relevant(data):
        return
    branch = data["repository"]["default_branch"]
    repo = data["repository"]["full_name"]
    query = {**owner_repo(repo), "state": "open", "base": branch, "per_page": "100"}
    async for pull in gh.getiter(OPEN_PULLS, query):
        evaluation = await assess(gh, repo, int(pull["number"]), context.today())
        await report(gh, context.store, evaluation, recheck=True)
