"""One evaluation of a pull request: read it, judge it with the pure core, report on GitHub.

Reading happens in inputs, judging in workflows/ and checks/, and this module only
turns the judgement into check runs and reviewer requests.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import Any

from gidgethub import BadRequest, RateLimitExceeded
from gidgethub.abc import GitHubAPI

from rapidvet.app.context import Context
from rapidvet.app.github.files import owner_repo
from rapidvet.app.github.retry import SecondaryRateLimited
from rapidvet.app.github.teams import team_has_access, team_members
from rapidvet.app.jobs.isolation import GaveUp, checked
from rapidvet.app.jobs.reconcile import note_evaluation
from rapidvet.app.pulls import timeline
from rapidvet.app.pulls.check_runs import RAPID, STRUCTURE, CheckRun, done, gave_up_runs, publish
from rapidvet.app.pulls.inputs import (
    PullInfo,
    PullInputs,
    read_pull,
    unread_findings,
)
from rapidvet.app.pulls.summary import Summary, keep
from rapidvet.app.store import Store
from rapidvet.app.store.records import ASKED, asked_key, pull_key
from rapidvet.checks.model import Finding, Severity
from rapidvet.checks.page import check_page
from rapidvet.workflows.approval import Conclusion
from rapidvet.workflows.changes import ChangedBlock
from rapidvet.workflows.config_errors import ConfigError
from rapidvet.workflows.decision import Decision, PullRequest, decide
from rapidvet.workflows.pull_request import review_request
from rapidvet.workflows.reviewers import refusals_note

log = logging.getLogger("rapidvet.evaluation")
REQUEST_REVIEWERS = "/repos/{owner}/{repo}/pulls/{number}/requested_reviewers"
# What an ASKED record holds when the holder was asked to review (else why GitHub refused).
WAS_ASKED = "1"
NO_ACCESS = (
    "the team has no access to {repo}, so GitHub refuses to request its review. Give it read "
    "access: Settings → Collaborators and teams → Add teams."
)
RAPID_CONCLUSION = {
    Conclusion.SUCCESS: "success",
    Conclusion.FAILURE: "failure",
    Conclusion.PENDING: "action_required",
    Conclusion.NEUTRAL: "neutral",
}
LEVEL = {Severity.ERROR: "failure", Severity.WARNING: "warning", Severity.NOTICE: "notice"}


@dataclass(frozen=True)
class Evaluation:
    inputs: PullInputs
    decision: Decision
    blocks: tuple[ChangedBlock, ...]
    findings: tuple[tuple[str, Finding], ...]  # (path, finding) on the changed plans
    started: datetime  # when reading began; the reconciler compares it with the last event


def judge(inputs: PullInputs, today: date, started: datetime) -> Evaluation:
    """The decision and the structural findings, from what was read; no I/O."""
    pull, config = inputs.pull, inputs.config.config
    request = review_request(
        config,
        PullRequest(pull.number, pull.author, pull.head_sha, pull.base_sha),
        inputs.files,
        inputs.reviews,
        inputs.texts_at,
        inputs.teams,
        inputs.head_config,
        owner_repo(pull.repo)["owner"],
    )
    decision = decide(request)
    options = config.check_options(today)
    findings: list[tuple[str, Finding]] = []
    for path, (_, head) in inputs.files.items():
        spans = [
            (b.head.line, b.head.end_line) for b in request.blocks if b.path == path and b.head
        ]
        if head is None or not spans:
            continue
        for finding in check_page(head, path, options).findings:
            if any(start <= finding.line <= end for start, end in spans):
                findings.append((path, finding))
    findings += unread_findings(inputs.unread, options)
    return Evaluation(inputs, decision, tuple(request.blocks), tuple(findings), started)


class PullGaveUp(Exception):
    """Judging the pull request was stopped (see `isolation`): what to tell it."""

    def __init__(self, pull: PullInfo, gave_up: GaveUp, started: datetime) -> None:
        super().__init__(gave_up.reason)
        self.pull = pull
        self.reason = gave_up.reason
        self.started = started


async def assess(
    gh: GitHubAPI, repo: str, number: int, today: date, known: dict[str, Any] | None = None
) -> Evaluation:
    """Read and judge one pull request, with the members of the teams that hold roles;
    `known` is the pull request from the webhook payload, when it carries one. Judging runs
    in a child process within the job's budget; PullGaveUp when it ran out."""
    started = datetime.now(UTC)
    inputs = await read_pull(gh, repo, number, known)
    try:
        evaluation = await checked(judge, inputs, today, started)
        teams = {
            r.holder.handle
            for r in evaluation.decision.rows
            if r.holder.is_team and r.holder.handle
        }
        if teams:
            inputs.teams = await team_members(gh, repo, teams)
            evaluation = await checked(judge, inputs, today, started)
    except GaveUp as gave_up:
        raise PullGaveUp(inputs.pull, gave_up, started) from gave_up
    return evaluation


async def judged(
    gh: GitHubAPI, context: Context, repo: str, number: int, known: dict[str, Any] | None = None
) -> Evaluation | None:
    """`assess`, or None when rapidvet gave up on the pull request: then both check runs
    on its head say so, RAPID review failing (a pull request nobody could judge is not
    approved), and the job ends; the next push is judged afresh."""
    try:
        return await assess(gh, repo, number, context.today(), known)
    except PullGaveUp as gave_up:
        pull = gave_up.pull
        details = context.details_url(pull.repo, pull.number, pull.html_url)
        for run in gave_up_runs(gave_up.reason):
            await publish(gh, context.store, pull.repo, pull.head_sha, run, details)
        # Evaluated as far as the reconciler is concerned: sweeping it again would give up again.
        note_evaluation(context.store, pull_key(pull.repo, pull.number), gave_up.started)
        return None


async def evaluate(
    gh: GitHubAPI,
    context: Context,
    repo: str,
    number: int,
    known: dict[str, Any] | None = None,
    *,
    recheck: bool = False,
) -> None:
    """Judge one pull request and report on it (see `report`), or say rapidvet gave up."""
    evaluation = await judged(gh, context, repo, number, known)
    if evaluation is not None:
        await report(gh, context, evaluation, recheck=recheck)


async def report(
    gh: GitHubAPI, context: Context, evaluation: Evaluation, *, recheck: bool = False
) -> None:
    """Check runs and reviewer requests for a judged pull request. `recheck` re-publishes
    the structure check even when this commit already has one (a user asked for it)."""
    store, pull = context.store, evaluation.inputs.pull
    details = context.details_url(pull.repo, pull.number, pull.html_url)
    if recheck or not done(store, pull.repo, pull.head_sha, STRUCTURE):
        await publish(gh, store, pull.repo, pull.head_sha, structure_run(evaluation), details)
    # Reviewers first: the RAPID check names those GitHub would not let rapidvet ask.
    refused = await request_reviewers(gh, store, evaluation)
    rapid = rapid_run(evaluation)
    rapid = replace(rapid, summary=rapid.summary + refusals_note(refused))
    await publish(gh, store, pull.repo, pull.head_sha, rapid, details)
    keep(store, pull.repo, pull.number, summary(evaluation))
    note_evaluation(store, pull_key(pull.repo, pull.number), evaluation.started)
    timeline.evaluated(store, pull, evaluation.decision)


def summary(evaluation: Evaluation) -> Summary:
    """What the pages show later without asking GitHub again."""
    return Summary.of(
        evaluation.inputs.pull, evaluation.decision, evaluation.blocks, evaluation.findings
    )


def structure_run(evaluation: Evaluation) -> CheckRun:
    findings = evaluation.findings
    errors = sum(1 for _, f in findings if f.severity is Severity.ERROR)
    warnings = len(findings) - errors
    plans = sum(1 for block in evaluation.blocks if block.head is not None)
    if not plans and not findings:
        return CheckRun(STRUCTURE, "neutral", "No VPMOM plans changed", "Nothing to check.")
    rows = ["| file | line | rule | severity | message |", "| --- | --- | --- | --- | --- |"]
    rows += [
        f"| {_cell(p)} | {f.line} | `{f.rule}` | {f.severity} | {_cell(f.message)} |"
        for p, f in findings
    ]
    return CheckRun(
        STRUCTURE,
        "failure" if errors else "success",
        f"{errors} errors, {warnings} warnings in {plans} changed plan(s)",
        "\n".join(rows) if findings else "Every changed plan is well formed.",
        annotations=[_annotation(path, f) for path, f in findings],
    )


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _annotation(path: str, finding: Finding) -> dict[str, object]:
    note: dict[str, object] = {
        "path": path,
        "start_line": finding.line,
        "end_line": finding.end_line or finding.line,
        "annotation_level": LEVEL[finding.severity],
        "title": finding.rule,
        "message": finding.message,
    }
    if finding.fix:
        note["raw_details"] = f"Fix: {finding.fix}"
    return note


def rapid_run(evaluation: Evaluation) -> CheckRun:
    inputs = evaluation.inputs
    if inputs.config.error is not None:
        return _invalid_config_run(
            inputs.config.error,
            "is invalid",
            "The RAPID policy on the base branch cannot be read",
        )
    if inputs.head_error is not None:
        # Merged, it would leave every pull request without a policy: refuse it here.
        return _invalid_config_run(
            inputs.head_error,
            "on this pull request's branch is invalid",
            "The RAPID policy this pull request proposes cannot be read",
        )
    decision = evaluation.decision
    return CheckRun(
        RAPID,
        RAPID_CONCLUSION[decision.conclusion],
        decision.title,
        decision.summary,
        decision.text,
    )


def _invalid_config_run(error: ConfigError, title: str, summary: str) -> CheckRun:
    problems = error.problems
    return CheckRun(
        RAPID,
        "failure",
        f"{problems[0].source} {title}",
        f"{summary}:\n\n"
        + "\n".join(f"- `{p.source}:{p.line}:{p.column}` {p.message}" for p in problems),
        annotations=[
            {
                "path": p.source,
                "start_line": p.line,
                "end_line": p.line,
                "annotation_level": "failure",
                "title": "rapid.yml",
                "message": p.message,
            }
            for p in problems
        ],
    )


def content_key(evaluation: Evaluation) -> str:
    """Identity of the changed plans' current text: a reviewer is asked again only when it
    changes."""
    hashes = sorted(block.hash for block in evaluation.blocks)
    return hashlib.sha256("\n".join(hashes).encode()).hexdigest()[:16]


async def request_reviewers(gh: GitHubAPI, store: Store, evaluation: Evaluation) -> dict[str, str]:
    """Ask the suggested reviewers, each once for this content of the plans. Returns those
    GitHub would not let rapidvet ask, now or on an earlier evaluation of the same content
    (handle -> why), for the RAPID check to name."""
    if evaluation.inputs.config.error is not None:
        return {}
    pull, policy = evaluation.inputs.pull, evaluation.inputs.config.config.policy
    asks = evaluation.decision.requests
    users = list(asks.blocking.users) + (list(asks.input.users) if policy.request_input else [])
    teams = list(asks.blocking.teams) + (list(asks.input.teams) if policy.request_input else [])
    # A name is "@login" for a user, the slug for a team, as the "asked" records key them.
    names = [f"@{u}" for u in dict.fromkeys(users)] + list(dict.fromkeys(teams))
    content = content_key(evaluation)

    def key(name: str) -> str:
        return asked_key(pull.repo, pull.number, name, content)

    new = [name for name in names if ASKED.get(store, key(name)) is None]
    if new:
        refused = await _ask(gh, pull.repo, pull.number, new)
        asked = [name for name in new if name not in refused]
        if asked:
            timeline.reviewers_requested(
                store,
                pull,
                [name[1:] for name in asked if name.startswith("@")],
                [name for name in asked if not name.startswith("@")],
            )
        for name in new:
            ASKED.put(store, key(name), refused.get(name, WAS_ASKED))
    owner = owner_repo(pull.repo)["owner"]
    outcomes = {name: ASKED.get(store, key(name)) for name in names}
    return {
        name if name.startswith("@") else f"@{owner}/{name}": outcome
        for name, outcome in outcomes.items()
        if outcome not in (None, WAS_ASKED)
    }


async def _ask(gh: GitHubAPI, repo: str, number: int, names: list[str]) -> dict[str, str]:
    """Request reviews from `names`, but not from teams without access to `repo` (GitHub
    would refuse the whole request); those that could not be asked, with why."""
    refused = {
        name: NO_ACCESS.format(repo=repo)
        for name in names
        if not name.startswith("@") and not await team_has_access(gh, repo, name)
    }
    rest = [name for name in names if name not in refused]
    return refused | (await _post_requests(gh, repo, number, rest) if rest else {})


async def _post_requests(gh: GitHubAPI, repo: str, number: int, names: list[str]) -> dict[str, str]:
    """One request for all `names`; the ones GitHub refused, with its reason."""
    try:
        await gh.post(
            REQUEST_REVIEWERS,
            {**owner_repo(repo), "number": number},
            data={
                "reviewers": [name[1:] for name in names if name.startswith("@")],
                "team_reviewers": [name for name in names if not name.startswith("@")],
            },
        )
    except BadRequest as err:
        if isinstance(err, RateLimitExceeded | SecondaryRateLimited):
            raise  # not a refusal of these reviewers: the job waits and asks again
        log.warning("review request refused (%s) for %s#%s", err.status_code, repo, number)
        if err.status_code != 422 or len(names) == 1:
            return dict.fromkeys(names, f"GitHub refused the request: {err}")
        # One holder GitHub will not ask refuses them all: ask each alone, to ask the
        # others and learn whom it refused.
        refused: dict[str, str] = {}
        for name in names:
            refused |= await _post_requests(gh, repo, number, [name])
        return refused
    return {}
