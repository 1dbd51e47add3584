"""Check runs on a merge queue's group, so a repository requiring "RAPID review" can use
GitHub's merge queue.

GitHub sends `merge_group` (`checks_requested`) with the group's `head_sha`, the commit the
required checks must be reported on. A group holds its own pull request, named in `head_ref`
(`refs/heads/gh-readonly-queue/<base>/pr-<number>-<sha>`), and every group ahead of it in the
queue: GitHub chains groups, each on the previous one's head. The earlier pull requests are
read from the queue's other temporary branches whose heads are among the group's commits not
yet on the base branch (compare API), rather than from commit messages, which anyone writes.

Each pull request's verdict is its own check runs on its current head, judged again first
when the stored evaluation is for another head (a push whose webhook was missed). The group
passes only when each of them passes: a pull request changed after its approvals fails it.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any

from gidgethub.abc import GitHubAPI

from rapidvet.app.context import Context
from rapidvet.app.github.files import owner_repo
from rapidvet.app.pulls.check_runs import RAPID, STRUCTURE, CheckRun, publish
from rapidvet.app.pulls.evaluation import evaluate
from rapidvet.app.pulls.summary import stored
from rapidvet.checks.paths import url_path
from rapidvet.workflows.approval import RowState

COMMIT_SHA = re.compile(r"[0-9a-f]{40}")
QUEUE_REF = re.compile(r"refs/heads/gh-readonly-queue/(.+)/pr-([0-9]{1,9})-[0-9a-f]{40}")
PULL = "/repos/{owner}/{repo}/pulls/{number}"
COMPARE = "/repos/{owner}/{repo}/compare/{+basehead}"
MATCHING_REFS = "/repos/{owner}/{repo}/git/matching-refs/{+ref}"
RUNS = "/repos/{owner}/{repo}/commits/{ref}/check-runs"
PASSING = ("success", "neutral")  # what GitHub counts as a passed required check
log = logging.getLogger("rapidvet.merge_queue")


@dataclass(frozen=True)
class Verdict:
    """One pull request of the group: its check runs' conclusions on its current head."""

    number: int
    url: str
    conclusions: dict[str, str]  # check run name -> conclusion ("missing" when none)
    titles: dict[str, str]
    stale: bool  # approvals were given on content it no longer has

    def passes(self, name: str) -> bool:
        return self.conclusions[name] in PASSING


async def check_group(gh: GitHubAPI, context: Context, repo: str, group: dict[str, Any]) -> None:
    """Report both check runs on the group's head commit."""
    head_sha = str(group.get("head_sha", ""))
    if not COMMIT_SHA.fullmatch(head_sha):  # it goes into a compare URL: never a path
        log.warning("merge group of %s without a commit SHA as its head: not checked", repo)
        return
    numbers = await group_pulls(gh, repo, group)
    if numbers is None:
        reason = "rapidvet cannot tell which pull requests this merge group holds"
        runs = [
            CheckRun(n, "failure", reason, f"{reason}, so it fails.") for n in (STRUCTURE, RAPID)
        ]
        details = f"{context.web_url}/{repo}"
    else:
        verdicts = [await verdict(gh, context, repo, n) for n in numbers]
        runs = [group_run(name, verdicts) for name in (STRUCTURE, RAPID)]
        details = context.details_url(repo, numbers[-1], verdicts[-1].url)
    for run in runs:
        await publish(gh, context.store, repo, head_sha, run, details)


async def group_pulls(gh: GitHubAPI, repo: str, group: dict[str, Any]) -> list[int] | None:
    """The pull requests in the group, first in line first; None when its ref is not a queue
    ref GitHub makes (then nothing can be vouched for)."""
    named = QUEUE_REF.fullmatch(str(group.get("head_ref", "")))
    if named is None:
        return None
    base, newest = named[1], int(named[2])
    names = owner_repo(repo)
    compared: Any = await gh.getitem(
        COMPARE, {**names, "basehead": f"{url_path(base)}...{group['head_sha']}"}
    )
    ahead = [c["sha"] for c in compared.get("commits", [])]
    if compared.get("total_commits", len(ahead)) > len(ahead):
        return None  # more commits than one answer lists: the group cannot be read whole
    refs: Any = await gh.getitem(
        MATCHING_REFS, {**names, "ref": url_path(f"heads/gh-readonly-queue/{base}")}
    )
    earlier = {
        int(found[2]): ahead.index(ref["object"]["sha"])
        for ref in refs
        if (found := QUEUE_REF.fullmatch(ref["ref"])) and ref["object"]["sha"] in ahead
    }
    earlier.pop(newest, None)
    return [*sorted(earlier, key=earlier.__getitem__), newest]


async def verdict(gh: GitHubAPI, context: Context, repo: str, number: int) -> Verdict:
    """The pull request's check runs on its current head, judged afresh when the stored
    evaluation is for another head."""
    names = owner_repo(repo)
    pull: Any = await gh.getitem(PULL, {**names, "number": number})
    head = pull["head"]["sha"]
    summary = stored(context.store, repo, number)
    if summary is None or summary.head_sha != head:
        await evaluate(gh, context, repo, number, pull)
        summary = stored(context.store, repo, number)
    listed: Any = await gh.getitem(RUNS, {**names, "ref": head})
    ours = {
        r["name"]: r
        for r in sorted(listed.get("check_runs", []), key=lambda r: r["id"])
        if r.get("external_id") == f"rapidvet:{r['name']}"
    }
    fresh = summary is not None and summary.head_sha == head and pull["state"] == "open"
    return Verdict(
        number,
        str(pull["html_url"]),
        {
            n: (ours[n]["conclusion"] if n in ours and fresh else "missing")
            for n in (STRUCTURE, RAPID)
        },
        {
            n: (ours[n]["output"]["title"] if n in ours else "not judged")
            for n in (STRUCTURE, RAPID)
        },
        summary is not None and any(row.state == RowState.STALE for row in summary.rows),
    )


def group_run(name: str, verdicts: list[Verdict]) -> CheckRun:
    """`name`'s check run on the group: success only when it passes on every pull request."""
    failing = [v for v in verdicts if not v.passes(name)]
    lines = [_line(name, v) for v in verdicts]
    if not failing:
        title = f"{name} passes on all {len(verdicts)} pull request(s) in this merge group"
        return CheckRun(name, "success", title, "\n".join(lines))
    title = f"{name} does not pass on " + ", ".join(f"#{v.number}" for v in failing)
    return CheckRun(name, "failure", title, "\n".join(lines))


def _line(name: str, v: Verdict) -> str:
    changed = (
        " It changed after its approvals (they are stale)." if name == RAPID and v.stale else ""
    )
    return f"- #{v.number}: {v.conclusions[name]}: {v.titles[name]}.{changed}"
