"""The records the fake GitHub keeps in memory."""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tests.support.fake_github.gitstore import GitStore


@dataclass
class User:
    login: str
    id: int
    type: str = "User"  # "User", "Organization" or "Bot"


@dataclass
class App:
    id: int
    slug: str
    name: str
    owner: User
    bot: User  # the "<slug>[bot]" account that signs the App's comments, checks and commits
    public_key: str
    created_at: datetime
    webhook_url: str | None = None
    webhook_secret: str | None = None
    client_secret: str = ""  # the App's OAuth client, for signing users in
    callback_urls: list[str] = field(default_factory=list)
    permissions: dict[str, str] | None = None  # None: the fake's default set
    events: list[str] | None = None

    @property
    def client_id(self) -> str:
        return f"Iv1.{self.id:016x}"


@dataclass
class Installation:
    id: int
    account: User
    created_at: datetime
    repositories: set[str] = field(default_factory=set)  # full names


@dataclass
class Token:
    value: str
    installation_id: int
    expires_at: datetime
    repositories: frozenset[str] | None  # None: every repository of the installation


@dataclass
class UserToken:
    """A user access token the App got through OAuth: it acts as that user."""

    value: str
    login: str
    expires_at: datetime


@dataclass
class ManifestCode:
    """What `POST /app-manifests/{code}/conversions` reveals once: the new App's private key."""

    code: str
    private_key: str
    created_at: datetime


@dataclass
class OAuthCode:
    """A user's consent on GitHub's authorization page, to exchange for a user token once."""

    code: str
    login: str
    redirect_uri: str
    created_at: datetime


@dataclass
class Team:
    id: int
    org: str
    slug: str
    name: str
    members: list[str] = field(default_factory=list)
    # Organization repository (lower-case full name) -> the team's permission on it, None
    # where it was removed; one not named here: "push" (the fake's default, so the teams
    # tests create may be asked to review).
    repositories: dict[str, str | None] = field(default_factory=dict)


@dataclass
class Review:
    id: int
    user: User
    state: str  # upper case, as the REST API reports it
    body: str
    commit_id: str
    submitted_at: datetime


@dataclass
class Comment:
    id: int
    issue_number: int
    user: User
    body: str
    created_at: datetime
    by_app: bool


@dataclass
class CheckRun:
    id: int
    name: str
    head_sha: str
    suite_id: int
    app_id: int
    status: str
    conclusion: str | None
    started_at: datetime
    completed_at: datetime | None
    external_id: str
    details_url: str | None
    output: dict[str, str | None] = field(default_factory=dict)  # title, summary, text
    annotations: list[dict[str, Any]] = field(default_factory=list)
    actions: list[dict[str, str]] = field(default_factory=list)


@dataclass
class PullRequest:
    number: int
    id: int
    title: str
    body: str | None
    user: User
    head_ref: str
    base_ref: str
    base_sha: str
    head_sha: str  # follows the head branch while open
    draft: bool
    created_at: datetime
    updated_at: datetime
    state: str = "open"
    closed_at: datetime | None = None
    merged_at: datetime | None = None
    merge_commit_sha: str | None = None
    merged_by: User | None = None
    requested_users: list[str] = field(default_factory=list)
    requested_teams: list[str] = field(default_factory=list)
    reviews: list[Review] = field(default_factory=list)


@dataclass
class Ruleset:
    """An active branch ruleset: `include` holds ref patterns ("~DEFAULT_BRANCH", "~ALL",
    "refs/heads/main", fnmatch wildcards); `rules` GitHub's rule objects; `bypass_apps` the App
    ids on its bypass list."""

    id: int
    name: str
    include: list[str]
    rules: list[dict[str, Any]]
    bypass_apps: list[int] = field(default_factory=list)


@dataclass
class Protection:
    """Classic protection of one branch: required check names, whether pull requests (with
    reviews) are required, and the App slugs allowed to bypass that requirement."""

    required_checks: list[str]
    require_pull_request: bool = False
    bypass_apps: list[str] = field(default_factory=list)


@dataclass
class BranchRules:
    rulesets: dict[int, Ruleset] = field(default_factory=dict)
    protections: dict[str, Protection] = field(default_factory=dict)  # branch -> protection

    def rulesets_for(self, branch: str, default_branch: str) -> list[Ruleset]:
        ref = f"refs/heads/{branch}"

        def applies(pattern: str) -> bool:
            if pattern == "~ALL":
                return True
            if pattern == "~DEFAULT_BRANCH":
                return branch == default_branch
            return fnmatch.fnmatchcase(ref, pattern)

        return [r for r in self.rulesets.values() if any(applies(p) for p in r.include)]


@dataclass
class Repo:
    id: int
    owner: User
    name: str
    default_branch: str
    private: bool
    created_at: datetime
    git: GitStore = field(default_factory=GitStore)
    refs: dict[str, str] = field(default_factory=dict)  # "refs/heads/main" -> commit SHA
    pulls: dict[int, PullRequest] = field(default_factory=dict)
    comments: list[Comment] = field(default_factory=list)
    check_runs: dict[int, CheckRun] = field(default_factory=dict)
    check_suites: dict[str, int] = field(default_factory=dict)  # head SHA -> suite id
    collaborators: set[str] = field(default_factory=set)
    pushed_at: datetime | None = None
    branch_rules: BranchRules = field(default_factory=BranchRules)

    @property
    def full_name(self) -> str:
        return f"{self.owner.login}/{self.name}"


@dataclass
class Delivery:
    """One webhook delivery attempt, as `GET /app/hook/deliveries` lists it."""

    id: int
    guid: str
    event: str
    action: str | None
    payload: dict[str, Any]
    delivered_at: datetime
    redelivery: bool
    duration: float
    status: str
    status_code: int
    installation_id: int | None
    repository_id: int | None
