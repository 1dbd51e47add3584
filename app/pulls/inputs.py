"""Everything the App reads from GitHub to judge one pull request, read once per job."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from gidgethub.abc import GitHubAPI

from rapidvet.app.github.files import TooLarge, bounded, owner_repo, read_page
from rapidvet.app.handbook.rapid_yml import ConfigRead, config_text, parse_config
from rapidvet.app.jobs.isolation import checked
from rapidvet.checks.model import Finding
from rapidvet.checks.options import CheckOptions
from rapidvet.checks.page import oversized_page
from rapidvet.checks.paths import path_problem, unsafe_path_finding
from rapidvet.workflows.config_errors import ConfigError
from rapidvet.workflows.config_loader import CONFIG_LOCATIONS
from rapidvet.workflows.pull_request import FileVersions, is_markdown
from rapidvet.workflows.rapid_config import RapidConfig
from rapidvet.workflows.reviews import Review, latest_reviews

PULL = "/repos/{owner}/{repo}/pulls/{number}"
FILES = "/repos/{owner}/{repo}/pulls/{number}/files{?per_page}"
REVIEWS = "/repos/{owner}/{repo}/pulls/{number}/reviews{?per_page}"

# The changed pages not read: path -> the size GitHub reported, over the page size limit, or
# None when the path cannot go into a URL safely.
Unread = dict[str, int | None]


@dataclass(frozen=True)
class PullInfo:
    repo: str
    number: int
    author: str
    head_sha: str
    base_sha: str
    base_ref: str
    html_url: str
    merged: bool
    merge_sha: str | None
    merged_at: datetime | None

    @classmethod
    def from_json(cls, repo: str, data: dict[str, Any]) -> PullInfo:
        merged_at = data.get("merged_at")
        return cls(
            repo=repo,
            number=int(data["number"]),
            author=str((data.get("user") or {}).get("login", "")),
            head_sha=str(data["head"]["sha"]),
            base_sha=str(data["base"]["sha"]),
            base_ref=str(data["base"]["ref"]),
            html_url=str(data.get("html_url", "")),
            merged=bool(data.get("merged")),
            merge_sha=data.get("merge_commit_sha"),
            merged_at=datetime.fromisoformat(merged_at) if merged_at else None,
        )


@dataclass
class PullInputs:
    """What one evaluation judges: the pull request, both rapid.yml files, every changed page
    at base and head, the reviews, and the texts each reviewer approved."""

    pull: PullInfo
    config: ConfigRead
    head_config: RapidConfig | None
    files: FileVersions
    reviews: list[Review]
    unread: Unread = field(default_factory=dict)
    texts_at: dict[str, dict[str, str | None]] = field(default_factory=dict)
    teams: dict[str, frozenset[str]] = field(default_factory=dict)
    # Why the head's rapid.yml cannot be read, when the pull request changes it.
    head_error: ConfigError | None = None


async def read_pull(
    gh: GitHubAPI, repo: str, number: int, known: dict[str, Any] | None = None
) -> PullInputs:
    """`known`: the pull request as a webhook payload carries it, which saves reading it."""
    names = {**owner_repo(repo), "number": str(number)}
    pull = PullInfo.from_json(repo, known or await gh.getitem(PULL, names))
    changed = [f async for f in gh.getiter(FILES, {**names, "per_page": "100"})]
    # The policy in force is the base branch's now: a new rapid.yml on main applies to
    # every open pull request at once (and a pull request cannot weaken it).
    config = await checked(parse_config, *await config_text(gh, repo, pull.base_ref))
    head_read = None
    if any(f["filename"] in CONFIG_LOCATIONS for f in changed):
        head_read = await checked(parse_config, *await config_text(gh, repo, pull.head_sha))
    head_error = head_read.error if head_read else None
    head_config = head_read.config if head_read and not head_error else None
    max_bytes = config.config.checks.max_page_bytes
    files, unread = await _file_versions(gh, pull, changed, max_bytes)
    reviews = [_review(r) async for r in gh.getiter(REVIEWS, {**names, "per_page": "100"})]
    inputs = PullInputs(
        pull, config, head_config, files, [r for r in reviews if r], unread, head_error=head_error
    )
    await _texts_at_review_commits(gh, inputs)
    return inputs


async def _file_versions(
    gh: GitHubAPI, pull: PullInfo, changed: list[dict[str, Any]], max_bytes: int
) -> tuple[dict[str, tuple[str | None, str | None]], Unread]:
    """The base and head text of each changed page; apart, the pages not read: those whose
    path cannot go into a URL, and those over `max_bytes`."""

    async def version(path: str, ref: str, absent: bool) -> str | TooLarge | None:
        return None if absent else await read_page(gh, pull.repo, path, ref, max_bytes)

    async def versions(f: dict[str, Any]) -> tuple[str | TooLarge | None, str | TooLarge | None]:
        status, head_path = f.get("status"), f["filename"]
        base_path = f.get("previous_filename") or head_path
        return (
            await version(base_path, pull.base_sha, status == "added"),
            await version(head_path, pull.head_sha, status == "removed"),
        )

    unread: Unread = {}
    safe = []
    for f in (f for f in changed if is_markdown(f["filename"])):
        paths = [p for p in (f["filename"], f.get("previous_filename")) if p is not None]
        unsafe = [p for p in paths if path_problem(p) is not None]
        unread.update(dict.fromkeys(unsafe))
        if not unsafe:
            safe.append(f)
    files: dict[str, tuple[str | None, str | None]] = {}
    for f, (base, head) in zip(safe, await bounded(map(versions, safe)), strict=True):
        if isinstance(base, TooLarge) or isinstance(head, TooLarge):
            unread[f["filename"]] = max(v.size for v in (base, head) if isinstance(v, TooLarge))
        else:
            files[f["filename"]] = (base, head)
    return files, unread


def unread_findings(
    unread: Mapping[str, int | None], options: CheckOptions
) -> list[tuple[str, Finding]]:
    """The findings of the pages not read: `unsafe-path`, or `page-too-large` with the size
    GitHub reported."""
    findings: list[tuple[str, Finding]] = []
    for path, size in unread.items():
        report = (
            [unsafe_path_finding(path, options)]
            if size is None
            else list(oversized_page(path, size, options).findings)
        )
        findings += [(path, f) for f in report if f is not None]
    return findings


def _review(data: dict[str, Any]) -> Review | None:
    if not data.get("submitted_at") or not data.get("user"):
        return None  # a pending review has not been submitted
    return Review(
        id=int(data["id"]),
        user=str(data["user"]["login"]),
        state=str(data["state"]),
        submitted_at=datetime.fromisoformat(data["submitted_at"]),
        commit_id=str(data.get("commit_id") or ""),
    )


async def _texts_at_review_commits(gh: GitHubAPI, inputs: PullInputs) -> None:
    """The changed pages at each commit a standing review was given on, so an approval
    is judged against the content it saw (head content is already in hand)."""
    pull, max_bytes = inputs.pull, inputs.config.config.checks.max_page_bytes
    commits = {
        r.commit_id
        for r in latest_reviews(inputs.reviews).values()
        if r.commit_id and r.commit_id != pull.head_sha
    }
    paths = [p for p, (_, head) in inputs.files.items() if head is not None]
    for commit in sorted(commits):
        texts = await bounded(read_page(gh, pull.repo, p, commit, max_bytes) for p in paths)
        inputs.texts_at[commit] = {
            # A version too large to read is judged as one the reviewer did not see.
            p: None if isinstance(text, TooLarge) else text
            for p, text in zip(paths, texts, strict=True)
        }
    inputs.texts_at[pull.head_sha] = {p: head for p, (_, head) in inputs.files.items()}
