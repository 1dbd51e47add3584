"""push to the default branch: snapshot its handbook for the dashboard; when rapid.yml
changed, also evaluate the open pull requests against it again, since it says who must
approve them."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from gidgethub import routing, sansio
from gidgethub.abc import GitHubAPI

from rapidvet.app.context import Context
from rapidvet.app.github.files import owner_repo
from rapidvet.app.handbook import reading
from rapidvet.app.pulls.evaluation import evaluate
from rapidvet.checks.layout import is_source
from rapidvet.workflows.config_loader import CONFIG_LOCATIONS

router = routing.Router()
OPEN_PULLS = "/repos/{owner}/{repo}/pulls{?state,base,per_page}"
PUSH_COMMITS_LIMIT = 2048  # GitHub lists at most this many commits in a push payload
VETTED_IN = re.compile(r"^Vetted-in: #(\d+)$", re.MULTILINE)  # a merge record's trailer


def relevant(data: dict[str, Any]) -> bool:
    """A push to the default branch that can change its handbook or rapid.yml."""
    branch = (data.get("repository") or {}).get("default_branch")
    return data.get("ref") == f"refs/heads/{branch}" and (
        changes_handbook(data) or changes_config(data)
    )


def _touched(data: dict[str, Any]) -> set[str]:
    return {
        path
        for commit in data.get("commits") or []
        for kind in ("added", "modified", "removed")
        for path in commit.get(kind) or []
    }


def changes_config(data: dict[str, Any]) -> bool:
    return bool(_touched(data) & set(CONFIG_LOCATIONS))


def changes_handbook(data: dict[str, Any]) -> bool:
    """Whether the push can change a page or the table of contents. A forced push, whose
    commits need not show what changed, and one whose commits GitHub may have cut short
    count as changing it."""
    commits = data.get("commits") or []
    return (
        bool(data.get("forced"))
        or len(commits) >= PUSH_COMMITS_LIMIT
        or any(map(is_source, _touched(data)))
    )


def vetted_in(data: dict[str, Any]) -> list[int]:
    """The pull requests whose merge records the push brings."""
    messages = (str(commit.get("message") or "") for commit in data.get("commits") or [])
    return sorted({int(number) for text in messages for number in VETTED_IN.findall(text)})


@router.register("push")
async def pushed(event: sansio.Event, gh: GitHubAPI, context: Context) -> None:
    data: Any = event.data
    if not relevant(data):
        return
    branch = data["repository"]["default_branch"]
    repo = data["repository"]["full_name"]
    now = datetime.now(UTC)
    await reading.refresh(gh, context.store, repo, branch, context.today(), now, vetted_in(data))
    if not changes_config(data):
        return
    query = {**owner_repo(repo), "state": "open", "base": branch, "per_page": "100"}
    async for pull in gh.getiter(OPEN_PULLS, query):
        await evaluate(gh, context, repo, int(pull["number"]), recheck=True)
