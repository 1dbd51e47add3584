"""The two check runs on a pull request's head commit, created once and updated after.

GitHub takes at most 50 annotations per request, so the first 50 go with the create call
and the rest follow in PATCHes (GitHub appends them). A record in the store makes each
check run get created once per commit even when a job is retried after a crash.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gidgethub.abc import GitHubAPI

from rapidvet.app.github.files import owner_repo
from rapidvet.app.pulls import timeline
from rapidvet.app.store import Store
from rapidvet.app.store.records import CHECK_RUN, CHECK_RUN_INTENT, check_run_key

STRUCTURE = "VPMOM structure"
RAPID = "RAPID review"
ANNOTATIONS_PER_REQUEST = 50
CREATE = "/repos/{owner}/{repo}/check-runs"
UPDATE = "/repos/{owner}/{repo}/check-runs/{check_run_id}"
FOR_REF = "/repos/{owner}/{repo}/commits/{ref}/check-runs{?check_name}"
# GitHub's limit on a check run's summary and on its text
# (/en/rest/checks/runs#create-a-check-run), and room kept for the line saying what was cut.
MAX_OUTPUT_CHARS = 65535
OMISSION_ROOM = 100
RECHECK = {
    "label": "Re-check",
    "description": "Evaluate the plans and reviews again",
    "identifier": "recheck",
}


@dataclass(frozen=True)
class CheckRun:
    name: str
    conclusion: str  # success | failure | neutral | action_required
    title: str
    summary: str
    text: str = ""
    annotations: list[dict[str, Any]] = field(default_factory=list)


def gave_up_runs(reason: str) -> list[CheckRun]:
    """Both check runs of a pull request rapidvet stopped checking, `reason` saying why."""
    title = "rapidvet gave up on this pull request"
    summary = (
        f"rapidvet gave up on this pull request: {reason}. Its plans were not checked and its"
        " RAPID review was not judged, so this check fails. A smaller change (or fewer or"
        " smaller pages) is checked again on the next push; an administrator can raise the"
        " limits (RAPIDVET_JOB_SECONDS, RAPIDVET_JOB_MEMORY_MB)."
    )
    return [CheckRun(name, "failure", title, summary) for name in (STRUCTURE, RAPID)]


def fit(text: str) -> str:
    """`text` cut at a line to GitHub's limit on a check run's summary and text, ending in
    how many lines were left out; GitHub refuses the whole update otherwise."""
    if len(text) <= MAX_OUTPUT_CHARS:
        return text
    lines = text.splitlines(keepends=True)
    kept, size = 0, 0
    while size + len(lines[kept]) <= MAX_OUTPUT_CHARS - OMISSION_ROOM:
        size += len(lines[kept])
        kept += 1
    more = len(lines) - kept
    return f"{''.join(lines[:kept])}\n… {more} more lines: see the details page.\n"


async def publish(
    gh: GitHubAPI, store: Store, repo: str, head_sha: str, run: CheckRun, details_url: str
) -> int:
    """Create the check run for this commit, or update the one already there; its id."""
    key = check_run_key(repo, head_sha, run.name)
    known = CHECK_RUN.get(store, key)
    if known is None and not CHECK_RUN_INTENT.claim(store, key):
        # An earlier try got as far as creating it: find it rather than make a second.
        known = await _existing(gh, repo, head_sha, run.name)
    output = {"title": run.title, "summary": fit(run.summary), "text": fit(run.text)}
    body = {"conclusion": run.conclusion, "details_url": details_url, "actions": [RECHECK]}
    if known is not None:
        updated = await gh.patch(
            UPDATE, {**owner_repo(repo), "check_run_id": known}, data={**body, "output": output}
        )
        timeline.check_run(store, repo, head_sha, updated, created=False)
        return known
    first, rest = (
        run.annotations[:ANNOTATIONS_PER_REQUEST],
        run.annotations[ANNOTATIONS_PER_REQUEST:],
    )
    created: Any = await gh.post(
        CREATE,
        owner_repo(repo),
        data={
            **body,
            "name": run.name,
            "head_sha": head_sha,
            "status": "completed",
            "external_id": f"rapidvet:{run.name}",
            "output": {**output, "annotations": first},
        },
    )
    check_run_id = int(created["id"])
    CHECK_RUN.put(store, key, check_run_id)
    timeline.check_run(store, repo, head_sha, created, created=True)
    for start in range(0, len(rest), ANNOTATIONS_PER_REQUEST):
        chunk = rest[start : start + ANNOTATIONS_PER_REQUEST]
        await gh.patch(
            UPDATE,
            {**owner_repo(repo), "check_run_id": check_run_id},
            data={
                "output": {"title": run.title, "summary": output["summary"], "annotations": chunk}
            },
        )
    return check_run_id


async def _existing(gh: GitHubAPI, repo: str, head_sha: str, name: str) -> int | None:
    data: Any = await gh.getitem(FOR_REF, {**owner_repo(repo), "ref": head_sha, "check_name": name})
    ours = [r for r in data.get("check_runs", []) if r.get("external_id") == f"rapidvet:{name}"]
    return int(min(r["id"] for r in ours)) if ours else None


def done(store: Store, repo: str, head_sha: str, name: str) -> bool:
    return CHECK_RUN.get(store, check_run_key(repo, head_sha, name)) is not None
