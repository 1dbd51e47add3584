"""Recording a merged pull request on GitHub: one commit through the Git Data API (or a
follow-up pull request), then one comment. Exactly once per merged pull request.

Why it holds under redelivery, retries and crashes: the store keeps what is done per
(repository, pull request, merge commit); the page edit is idempotent, so a commit that
landed before a crash is found already applied on the next try; the comment carries a
marker and is looked for before posting.
"""

from __future__ import annotations

import asyncio
import logging
import random
from dataclasses import asdict, dataclass, replace
from functools import partial
from typing import Any

from gidgethub import BadRequest
from gidgethub.abc import GitHubAPI

from rapidvet.app.github.files import owner_repo, read_text
from rapidvet.app.handbook import unvetted_merges
from rapidvet.app.handbook.unvetted_merges import PlanMerge
from rapidvet.app.jobs.isolation import checked
from rapidvet.app.pulls import timeline
from rapidvet.app.pulls.evaluation import Evaluation
from rapidvet.app.store import Store
from rapidvet.app.store.records import MERGE_COMMENT_INTENT, MERGE_RECORD, merge_key
from rapidvet.checks.model import Severity
from rapidvet.checks.paths import url_path
from rapidvet.workflows.merge_message import merge_record_marker
from rapidvet.workflows.merge_record import (
    BlockDecision,
    MergedFile,
    MergedPullRequest,
    MergeRecord,
    block_decisions,
    record_merge,
)

log = logging.getLogger("rapidvet.merge")
REF = "/repos/{owner}/{repo}/git/ref/{+ref}"
REFS = "/repos/{owner}/{repo}/git/refs"
UPDATE_REF = "/repos/{owner}/{repo}/git/refs/{+ref}"
COMMIT = "/repos/{owner}/{repo}/git/commits/{commit_sha}"
COMMITS = "/repos/{owner}/{repo}/git/commits"
BLOBS = "/repos/{owner}/{repo}/git/blobs"
TREES = "/repos/{owner}/{repo}/git/trees"
PULLS = "/repos/{owner}/{repo}/pulls"
COMMENTS = "/repos/{owner}/{repo}/issues/{number}/comments{?per_page}"
TRIES = 10  # ref updates lost to concurrent pushes before giving up
# Before each new try, a random pause of up to this many seconds, doubled per lost try
# (capped at a second): recorders that lost the race to each other spread out instead of
# racing again at once. Without it, a few merges recorded at once ran out of 5 tries.
RETRY_PAUSE = 0.05


class MergeRecordFailed(Exception):
    """The base branch kept moving; the comment says the record was not written."""


class BranchProtected(Exception):
    """A branch rule (ruleset or classic protection) refused the App's commit: trying again
    cannot help, a follow-up pull request can."""


# How GitHub words a ref update a branch rule refused (a 422, like a lost race).
RULE_REFUSALS = ("Repository rule violations found", "Protected branch update failed")


@dataclass
class Progress:
    """What is done for one merged pull request, kept in the store between tries."""

    commit: str | None = None
    comment: int | None = None
    refused: str | None = None  # why the base branch refused a direct record, if it did

    @classmethod
    def of(cls, store: Store, key: str) -> Progress:
        """The progress kept for a merge (merge_key), or none yet."""
        return cls(**(MERGE_RECORD.get(store, key) or {}))

    def keep(self, store: Store, key: str) -> None:
        MERGE_RECORD.put(store, key, asdict(self))


def recorded(store: Store, repo: str, pull: dict[str, Any]) -> bool:
    """Whether this merged pull request's record and comment are done (a redelivery)."""
    key = merge_key(repo, pull["number"], pull["merge_commit_sha"])
    return Progress.of(store, key).comment is not None


async def record(gh: GitHubAPI, store: Store, evaluation: Evaluation, web_url: str) -> Progress:
    pull = evaluation.inputs.pull
    if not pull.merged or pull.merge_sha is None or pull.merged_at is None:
        return Progress()
    key = merge_key(pull.repo, pull.number, pull.merge_sha)
    progress = Progress.of(store, key)
    if progress.comment is not None:
        return progress
    config = evaluation.inputs.config.config
    owner, repo = pull.repo.split("/", 1)
    merged = MergedPullRequest(
        pull.number,
        pull.merged_at,
        pull.base_sha,
        pull.head_sha,
        pull.merge_sha,
        web_url,
        owner,
        repo,
    )
    decisions = block_decisions(evaluation.decision.rows, _failure(evaluation))
    mode = config.merge.record
    outcome: MergeRecord | None = None
    failure = None
    if decisions and mode != "off" and progress.commit is None:
        try:
            outcome = await _write(gh, evaluation, merged, decisions, progress, mode == "direct")
        except MergeRecordFailed as err:
            failure = str(err)
        progress.keep(store, key)
    if outcome is None:
        outcome = await _current_record(gh, evaluation, merged, decisions)
    _keep_merges(store, pull.base_ref, merged, decisions, outcome)
    body = outcome.comment + _refused_note(pull.base_ref, _follow_up_name(evaluation), progress)
    if failure is not None:
        body += f"\n\n**Not recorded:** {failure}"
    first_try = MERGE_COMMENT_INTENT.claim(store, key)
    progress.comment = await _comment_once(gh, pull.repo, pull.number, merged, body, first_try)
    # On the timeline before the comment is kept as done: a worker killed in between is
    # retried from here, and merge_recorded leaves out the events it already wrote. Kept
    # first, the retry would have found the record done and the timeline without it.
    timeline.merge_recorded(
        store, pull, progress.commit, progress.comment, web_url, refused=progress.refused
    )
    progress.keep(store, key)
    return progress


async def _write(
    gh: GitHubAPI,
    evaluation: Evaluation,
    merged: MergedPullRequest,
    decisions: list[Any],
    progress: Progress,
    direct: bool,
) -> MergeRecord | None:
    """Commit the record on the base branch (`direct`) or a follow-up pull request's branch;
    when a branch rule refuses the direct commit, through a follow-up pull request after all."""
    if direct:
        try:
            base = evaluation.inputs.pull.base_ref
            progress.commit, outcome = await _commit(gh, evaluation, merged, decisions, base)
            return outcome
        except BranchProtected as refused:
            log.info("a branch rule refused the direct record; opening a follow-up pull request")
            progress.refused = str(refused)
    branch = await _follow_up_branch(gh, evaluation)
    progress.commit, outcome = await _commit(gh, evaluation, merged, decisions, branch)
    if outcome is not None:
        await _follow_up_pull(gh, evaluation, branch, outcome)
    return outcome


def _keep_merges(
    store: Store,
    branch: str,
    merged: MergedPullRequest,
    decisions: list[BlockDecision],
    outcome: MergeRecord,
) -> None:
    """Remember this merge as each changed plan's last: for the dashboard, one merged
    without vetting is "changed since vetted" until a later merge vets it."""
    missing = {s.decision.key: s.decision.missing for s in outcome.unvetted}
    merge = PlanMerge(branch, merged.merge_sha, merged.merged_at, merged.number)
    unvetted_merges.keep(
        store,
        f"{merged.owner}/{merged.repo}",
        ((d.key, replace(merge, missing=missing.get(d.key, ()))) for d in decisions),
    )


def _refused_note(base: str, follow_up: str, progress: Progress) -> str:
    """What the decision comment adds when the base branch refused the direct record."""
    if progress.refused is None:
        return ""
    reason = progress.refused.strip().replace("\n\n", " ")
    return (
        f"\n\n**Recorded through a follow-up pull request:** `{base}` refused the App's direct "
        f"commit ({reason}), so the record waits on the branch `{follow_up}` for a merge. "
        "To record directly, add the App to the rule's bypass list (`rapidvet doctor` says "
        "which rule)."
    )


async def _files(
    gh: GitHubAPI, evaluation: Evaluation, ref: str, paths: list[str]
) -> list[MergedFile]:
    files = []
    for path in paths:
        text = await read_text(gh, evaluation.inputs.pull.repo, path, ref)
        if text is not None:
            base = evaluation.inputs.files[path][0]
            files.append(MergedFile(path, text, base))
    return files


def _paths(evaluation: Evaluation) -> list[str]:
    return sorted({b.path for b in evaluation.blocks if b.head is not None})


async def _current_record(
    gh: GitHubAPI, evaluation: Evaluation, merged: MergedPullRequest, decisions: list[Any]
) -> MergeRecord:
    """The record as it reads against the merge commit: for the comment text."""
    files = await _files(gh, evaluation, merged.merge_sha, _paths(evaluation))
    return await _record(evaluation, merged, files, decisions)


async def _record(
    evaluation: Evaluation, merged: MergedPullRequest, files: list[MergedFile], decisions: list[Any]
) -> MergeRecord:
    """The record worked out in a checking child: it parses and edits the merged pages."""
    config = evaluation.inputs.config.config
    record = partial(
        record_merge,
        kinds=config.checks.kinds,
        limit=config.merge.previous_versions_limit,
        record_unvetted=config.merge.record_unvetted,
    )
    return await checked(record, merged, files, decisions)


def _failure(evaluation: Evaluation) -> str | None:
    """Why the whole RAPID review failed whatever the approvals, if it did: then no plan
    of the pull request was vetted."""
    inputs = evaluation.inputs
    if inputs.config.error is not None or inputs.head_error is not None:
        return "the RAPID policy (rapid.yml) could not be read"
    errors = [n for n in evaluation.decision.notes if n.severity is Severity.ERROR]
    return f"the RAPID review failed: {errors[0].message}" if errors else None


async def _commit(
    gh: GitHubAPI,
    evaluation: Evaluation,
    merged: MergedPullRequest,
    decisions: list[Any],
    branch: str,
) -> tuple[str | None, MergeRecord]:
    """Write the record as one commit on `branch`: read the tip, edit, blobs, tree, commit,
    move the ref without force; when someone pushed in between, read again and redo."""
    names = owner_repo(evaluation.inputs.pull.repo)
    for attempt in range(TRIES):
        if attempt:
            await asyncio.sleep(random.uniform(0, min(1.0, RETRY_PAUSE * 2**attempt)))
        ref: Any = await gh.getitem(REF, {**names, "ref": url_path(f"heads/{branch}")})
        tip = ref["object"]["sha"]
        files = await _files(gh, evaluation, tip, _paths(evaluation))
        outcome = await _record(evaluation, merged, files, decisions)
        if not outcome.changed:
            return None, outcome  # already recorded (an earlier try landed) or nothing to do
        tip_commit: Any = await gh.getitem(COMMIT, {**names, "commit_sha": tip})
        tree = []
        for file in outcome.files:
            if file.changed:
                blob: Any = await gh.post(
                    BLOBS, names, data={"content": file.new_text, "encoding": "utf-8"}
                )
                tree.append(
                    {"path": file.path, "mode": "100644", "type": "blob", "sha": blob["sha"]}
                )
        new_tree: Any = await gh.post(
            TREES, names, data={"base_tree": tip_commit["tree"]["sha"], "tree": tree}
        )
        commit: Any = await gh.post(
            COMMITS,
            names,
            data={"message": outcome.commit_message, "tree": new_tree["sha"], "parents": [tip]},
        )
        try:
            await gh.patch(
                UPDATE_REF,
                {**names, "ref": url_path(f"heads/{branch}")},
                data={"sha": commit["sha"], "force": False},
            )
        except BadRequest as err:
            if err.status_code == 422 and str(err).startswith(RULE_REFUSALS):
                raise BranchProtected(str(err)) from err
            if err.status_code in (409, 422):
                log.info("base branch moved while recording; reading it again")
                continue
            raise
        return str(commit["sha"]), outcome
    raise MergeRecordFailed(f"the branch {branch} kept moving; {TRIES} tries to commit failed")


def _follow_up_name(evaluation: Evaluation) -> str:
    return f"rapidvet/vetting-{evaluation.inputs.pull.number}"


async def _follow_up_branch(gh: GitHubAPI, evaluation: Evaluation) -> str:
    """A branch off the base tip for `merge.record: pull_request`; reused when it exists."""
    pull = evaluation.inputs.pull
    names = owner_repo(pull.repo)
    branch = _follow_up_name(evaluation)
    ref: Any = await gh.getitem(REF, {**names, "ref": url_path(f"heads/{pull.base_ref}")})
    try:
        await gh.post(
            REFS, names, data={"ref": f"refs/heads/{branch}", "sha": ref["object"]["sha"]}
        )
    except BadRequest as err:
        if err.status_code != 422:  # 422: it exists already, from an earlier try
            raise
    return branch


async def _follow_up_pull(
    gh: GitHubAPI, evaluation: Evaluation, branch: str, outcome: MergeRecord
) -> None:
    pull = evaluation.inputs.pull
    title, _, body = outcome.commit_message.partition("\n")
    try:
        await gh.post(
            PULLS,
            owner_repo(pull.repo),
            data={"title": title, "head": branch, "base": pull.base_ref, "body": body.strip()},
        )
    except BadRequest as err:
        if err.status_code != 422:  # 422: a pull request for the branch is open already
            raise


async def _comment_once(
    gh: GitHubAPI, repo: str, number: int, merged: MergedPullRequest, body: str, first_try: bool
) -> int:
    """Post the comment; after an interrupted try, first look for the one it may have posted."""
    marker = merge_record_marker(number, merged.merge_sha)
    names: dict[str, str | int] = {**owner_repo(repo), "number": number}
    if not first_try:
        async for comment in gh.getiter(COMMENTS, {**names, "per_page": 100}):
            if marker in (comment.get("body") or ""):
                return int(comment["id"])
    created: Any = await gh.post(COMMENTS, names, data={"body": body})
    return int(created["id"])
