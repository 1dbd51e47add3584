"""The test-control API: build the world, inject faults, read back what the fake received.

Every operation takes and returns JSON values, so it works the same in process
(`FakeGitHub.call`) and over HTTP (`POST /_fake/<operation>` with the arguments as a JSON
object). Users and organizations spring into existence when first named.
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

from aiohttp import ClientSession

from tests.support.fake_github import merge_queue
from tests.support.fake_github.model import Protection, Repo, Review, Ruleset, Team
from tests.support.fake_github.secondary_limits import ContentLimit
from tests.support.fake_github.shapes import Shapes
from tests.support.fake_github.state import RATE_LIMIT, GitHubError, State
from tests.support.fake_github.webhooks import WebhookBuilder, deliver, receives

REVIEW_STATES = ("APPROVED", "CHANGES_REQUESTED", "COMMENTED")
TEAM_PERMISSIONS = ("pull", "triage", "push", "maintain", "admin")
OPERATIONS = (
    "register_app",
    "create_manifest_code",
    "sign_in_as",
    "set_org_role",
    "create_installation",
    "create_repo",
    "create_branch",
    "commit",
    "open_pull_request",
    "add_review",
    "dismiss_review",
    "merge_pull_request",
    "enqueue_pull_request",
    "land_merge_group",
    "set_team_members",
    "add_collaborators",
    "set_team_repository",
    "add_ruleset",
    "protect_branch",
    "add_fault",
    "remove_fault",
    "clear_faults",
    "set_rate_limit",
    "expire_tokens",
    "advance_clock",
    "set_secondary_limit",
    "webhook",
    "send_webhook",
    "receives",
    "deliveries",
    "pull_request",
    "check_runs",
    "comments",
    "branch_sha",
    "read_file",
    "requests",
    "failures",
    "take_failures",
    "clear_log",
)


class ControlError(Exception):
    """A control operation that could not be carried out (unknown name, bad arguments...)."""


class Control:
    def __init__(self, state: State, shapes: Shapes, session: ClientSession | None) -> None:
        self.state = state
        self.shapes = shapes
        self.session = session
        self.webhooks = WebhookBuilder(state, shapes)

    async def call(self, operation: str, arguments: dict[str, Any]) -> Any:
        if operation not in OPERATIONS:
            raise ControlError(f"no control operation {operation!r}")
        method = getattr(self, operation)
        try:
            inspect.signature(method).bind(**arguments)
        except TypeError as error:
            raise ControlError(f"{operation}: {error}") from error
        try:
            result = method(**arguments)
            return await result if inspect.isawaitable(result) else result
        except (GitHubError, LookupError, ValueError) as error:
            raise ControlError(f"{operation}: {error}") from error

    def _repo(self, full_name: str) -> Repo:
        owner, _, name = full_name.partition("/")
        return self.state.repo(owner, name)

    # -- the world -----------------------------------------------------------------------------

    def register_app(
        self,
        app_id: int,
        public_key: str,
        *,
        slug: str = "rapidvet",
        name: str = "rapidvet",
        owner: str = "rapidvet-dev",
        webhook_url: str | None = None,
        webhook_secret: str | None = None,
    ) -> dict[str, Any]:
        """The App whose JWTs (RS256, signed by the key matching `public_key`) are accepted."""
        app = self.state.register_app(
            app_id,
            public_key,
            slug=slug,
            name=name,
            owner=owner,
            webhook_url=webhook_url,
            webhook_secret=webhook_secret,
        )
        return self.shapes.app(app)

    def create_manifest_code(
        self, manifest: dict[str, Any], *, org: str | None = None
    ) -> dict[str, Any]:
        """Register the App a manifest describes, as posting it to GitHub's "new App" page does
        (owned by `org`, or else the signed-in web user): the App, and the code that
        `POST /app-manifests/{code}/conversions` turns into its credentials."""
        code = self.state.create_app_from_manifest(manifest, org)
        return {"code": code, "app": self.shapes.app(self.state.require_app())}

    def sign_in_as(self, login: str) -> str:
        """Who is signed in on the web host: owns Apps registered for no organization, and
        authorizes the App on its OAuth page."""
        self.state.web_user = self.state.user(login).login
        return self.state.web_user

    def set_org_role(self, org: str, login: str, role: str | None = "admin") -> str | None:
        """Make `login` an "admin" (owner) or "member" of organization `org`; None removes
        them (membership through a team remains)."""
        if role not in ("admin", "member", None):
            raise ValueError(f"role must be admin, member or None, not {role!r}")
        self.state.user(org, "Organization")
        key = (org.lower(), self.state.user(login).login.lower())
        if role is None:
            self.state.org_roles.pop(key, None)
        else:
            self.state.org_roles[key] = role
        return self.state.org_role(org, login)

    def create_installation(
        self, account: str, *, account_type: str = "Organization"
    ) -> dict[str, Any]:
        """Install the App on `account`: all its repositories, present and future, are included."""
        self.state.require_app()
        return self.shapes.installation(self.state.create_installation(account, account_type))

    def create_repo(
        self,
        full_name: str,
        *,
        files: dict[str, str] | None = None,
        folder: str | None = None,
        default_branch: str = "main",
        private: bool = False,
    ) -> dict[str, Any]:
        """A repository whose first commit holds `files` (path -> text) and `folder`'s files."""
        contents: dict[str, bytes] = {}
        if folder is not None:
            root = Path(folder)
            contents |= {
                path.relative_to(root).as_posix(): path.read_bytes()
                for path in sorted(root.rglob("*"))
                if path.is_file()
            }
        contents |= {path: text.encode() for path, text in (files or {}).items()}
        repo = self.state.create_repo(
            full_name, contents, default_branch=default_branch, private=private
        )
        return self.shapes.repo(repo)

    def create_branch(
        self, repo: str, branch: str, *, from_ref: str | None = None
    ) -> dict[str, Any]:
        found = self._repo(repo)
        sha = self.state.resolve(found, from_ref or found.default_branch)
        if sha is None:
            raise GitHubError(404, f"no ref {from_ref}")
        self.state.create_ref(found, f"refs/heads/{branch}", sha)
        return self.shapes.ref(found, f"refs/heads/{branch}", sha)

    def commit(
        self,
        repo: str,
        branch: str,
        files: dict[str, str | None],
        *,
        message: str = "Update files",
        author: str = "author",
    ) -> dict[str, Any]:
        """A commit on `branch` writing `files` (path -> text; None deletes the file)."""
        found = self._repo(repo)
        changes = {path: None if text is None else text.encode() for path, text in files.items()}
        sha = self.state.commit_files(found, branch, changes, message, self.state.user(author))
        return self.shapes.git_commit(found, found.git.commit(sha))

    def open_pull_request(
        self,
        repo: str,
        head: str,
        *,
        base: str | None = None,
        title: str = "Update the plan",
        body: str = "",
        user: str = "author",
        draft: bool = False,
    ) -> dict[str, Any]:
        found = self._repo(repo)
        pull = self.state.open_pull(
            found,
            head,
            base or found.default_branch,
            title=title,
            body=body,
            user=self.state.user(user),
            draft=draft,
        )
        return self.shapes.pull(found, pull)

    def add_review(
        self,
        repo: str,
        number: int,
        user: str,
        state: str = "APPROVED",
        *,
        body: str = "",
        commit_id: str | None = None,
    ) -> dict[str, Any]:
        """A submitted review (APPROVED, CHANGES_REQUESTED or COMMENTED) on the head commit."""
        if state.upper() not in REVIEW_STATES:
            raise GitHubError(422, f"review state must be one of {', '.join(REVIEW_STATES)}")
        found = self._repo(repo)
        pull = self.state.pull(found, number)
        reviewer = self.state.user(user)
        review = Review(
            self.state.next_id(),
            reviewer,
            state.upper(),
            body,
            commit_id or pull.head_sha,
            self.state.now(),
        )
        pull.reviews.append(review)
        # Reviewing answers a review request, as on GitHub.
        pull.requested_users = [u for u in pull.requested_users if u.lower() != user.lower()]
        found.collaborators.add(user.lower())
        return self.shapes.review(found, pull, review)

    def dismiss_review(
        self, repo: str, number: int, review_id: int, *, message: str = "Dismissed"
    ) -> dict[str, Any]:
        found = self._repo(repo)
        pull = self.state.pull(found, number)
        review = next((r for r in pull.reviews if r.id == review_id), None)
        if review is None:
            raise GitHubError(404, f"pull request #{number} has no review {review_id}")
        review.state = "DISMISSED"
        review.body = review.body or message
        return self.shapes.review(found, pull, review)

    def merge_pull_request(
        self, repo: str, number: int, *, method: str = "merge", user: str = "maintainer"
    ) -> dict[str, Any]:
        """Merge (a merge commit) or squash the pull request into its base branch."""
        found = self._repo(repo)
        pull = self.state.pull(found, number)
        self.state.merge_pull(found, pull, method=method, user=self.state.user(user))
        return self.shapes.pull(found, pull)

    def enqueue_pull_request(self, repo: str, number: int, *, user: str = "maintainer") -> str:
        """Add the pull request to its base branch's merge queue; the group's temporary ref."""
        found = self._repo(repo)
        pull = self.state.pull(found, number)
        return merge_queue.enqueue(self.state, found, pull, self.state.user(user))

    def land_merge_group(
        self, repo: str, number: int, *, user: str = "maintainer"
    ) -> dict[str, Any]:
        """The pull request's merge group passed: GitHub merges it (see merge_queue.land)."""
        found = self._repo(repo)
        pull = self.state.pull(found, number)
        merge_queue.land(self.state, found, pull, self.state.user(user))
        return self.shapes.pull(found, pull)

    def set_team_members(
        self, org: str, team_slug: str, members: list[str], *, name: str | None = None
    ) -> dict[str, Any]:
        key = (org.lower(), team_slug.lower())
        team = self.state.teams.get(key)
        if team is None:
            self.state.user(org, "Organization")
            team = Team(self.state.next_id(), org.lower(), team_slug, name or team_slug)
            self.state.teams[key] = team
        team.members = [self.state.user(login).login for login in members]
        return self.shapes.team(team)

    def set_team_repository(
        self, org: str, team_slug: str, repo: str, permission: str | None
    ) -> str | None:
        """Give the team `permission` (pull, triage, push, maintain, admin) on `repo`, as
        PUT /orgs/{org}/teams/{team_slug}/repos/{owner}/{repo} does; None removes its access
        (DELETE on the same path). Teams start with push on every repository."""
        if permission not in (*TEAM_PERMISSIONS, None):
            raise ValueError(f"permission must be one of {TEAM_PERMISSIONS} or None")
        found = self._repo(repo)
        if found.owner.login.lower() != org.lower():
            raise ValueError(f"{repo} is not a repository of {org}")
        self.state.team(org, team_slug).repositories[found.full_name.lower()] = permission
        return self.state.team_permission(found, team_slug)

    def add_collaborators(self, repo: str, logins: list[str]) -> list[str]:
        found = self._repo(repo)
        found.collaborators |= {self.state.user(login).login.lower() for login in logins}
        return sorted(found.collaborators)

    def add_ruleset(
        self,
        repo: str,
        rules: list[dict[str, Any]],
        *,
        name: str = "protect main",
        include: list[str] | None = None,
        bypass_apps: list[int] | None = None,
    ) -> dict[str, Any]:
        """An active branch ruleset of GitHub `rules` objects (`{"type": "pull_request"}`...)
        on the branches `include` names (default: the default branch), bypassed by the App ids
        in `bypass_apps`."""
        found = self._repo(repo)
        ruleset = Ruleset(
            self.state.next_id(),
            name,
            include or ["~DEFAULT_BRANCH"],
            rules,
            bypass_apps or [],
        )
        found.branch_rules.rulesets[ruleset.id] = ruleset
        return {"id": ruleset.id}

    def protect_branch(
        self,
        repo: str,
        branch: str,
        *,
        required_checks: list[str] | None = None,
        require_pull_request: bool = False,
        bypass_apps: list[str] | None = None,
    ) -> dict[str, Any]:
        """Classic branch protection: required check names, pull requests required (bypassed
        by the App slugs in `bypass_apps`)."""
        protection = Protection(required_checks or [], require_pull_request, bypass_apps or [])
        self._repo(repo).branch_rules.protections[branch] = protection
        return {"branch": branch}

    # -- faults and limits ---------------------------------------------------------------------

    def add_fault(
        self,
        path: str,
        *,
        method: str | None = None,
        status: int | None = None,
        message: str | None = None,
        retry_after: int | None = None,
        delay: float = 0.0,
        drop: bool = False,
        times: int | None = None,
        probability: float = 1.0,
    ) -> dict[str, Any]:
        """A fault for requests whose path matches the regex `path` (see `faults.Fault`)."""
        fault = self.state.faults.add(
            path,
            method=method,
            status=status,
            message=message,
            retry_after=retry_after,
            delay=delay,
            drop=drop,
            times=times,
            probability=probability,
        )
        return fault.describe()

    def remove_fault(self, fault_id: int) -> None:
        self.state.faults.remove(fault_id)

    def clear_faults(self) -> None:
        self.state.faults.clear()

    def set_rate_limit(
        self, remaining: int, *, installation_id: int | None = None, limit: int = RATE_LIMIT
    ) -> dict[str, int]:
        """Set what is left of an installation's (or, without one, the App's) hourly limit."""
        key = f"installation:{installation_id}" if installation_id is not None else "app"
        bucket = self.state.bucket(key)
        bucket.limit, bucket.used = limit, limit - remaining
        return {"limit": bucket.limit, "remaining": bucket.remaining, "reset": bucket.reset}

    def expire_tokens(self) -> int:
        """Expire every installation token issued so far (the App must fetch new ones)."""
        for token in self.state.tokens.values():
            token.expires_at = self.state.now()
        return len(self.state.tokens)

    def advance_clock(self, seconds: float) -> str:
        """Move GitHub's clock forward: tokens, JWTs and limit windows age; GitHub's new time."""
        if seconds < 0:
            raise ValueError("GitHub's clock only moves forward")
        self.state.clock_offset += seconds
        return self.state.now().isoformat()

    def set_secondary_limit(self, limit: int, *, window_seconds: float = 60.0) -> None:
        """Allow each installation `limit` content-creating requests per `window_seconds`
        (GitHub: 80 per minute), counting afresh."""
        self.state.content_limit = ContentLimit(limit, window_seconds)

    # -- webhooks ------------------------------------------------------------------------------

    def webhook(self, name: str, **params: Any) -> dict[str, Any]:
        """The payload of webhook `name` ("pull_request.opened"...); see `WebhookBuilder.build`."""
        event, payload = self.webhooks.build(name, **params)
        return {"event": event, "payload": payload}

    async def send_webhook(self, name: str, **params: Any) -> dict[str, Any]:
        """Build webhook `name`, sign it and POST it to the App's webhook URL, as GitHub does."""
        assert self.session is not None, "the server is not running"
        event, payload = self.webhooks.build(name, **params)
        delivery = await deliver(self.state, self.session, event, payload)
        return self.shapes.delivery(delivery)

    def receives(self, event: str) -> bool:
        """Whether GitHub would deliver `event` to the registered App (see `webhooks.receives`)."""
        return receives(self.state.require_app(), event)

    def deliveries(self) -> list[dict[str, Any]]:
        return [self.shapes.delivery(d) for d in self.state.deliveries]

    # -- reading back --------------------------------------------------------------------------

    def pull_request(self, repo: str, number: int) -> dict[str, Any]:
        found = self._repo(repo)
        return self.shapes.pull(found, self.state.pull(found, number))

    def check_runs(self, repo: str, *, head_sha: str | None = None) -> list[dict[str, Any]]:
        """Every check run (with its annotations under "annotations"), oldest first."""
        found = self._repo(repo)
        return [
            self.shapes.check_run(found, run)
            | {"annotations": [self.shapes.annotation(found, run, a) for a in run.annotations]}
            for run in found.check_runs.values()
            if head_sha in (None, run.head_sha)
        ]

    def comments(self, repo: str, number: int) -> list[dict[str, Any]]:
        found = self._repo(repo)
        return [self.shapes.comment(found, c) for c in found.comments if c.issue_number == number]

    def branch_sha(self, repo: str, branch: str) -> str | None:
        return self._repo(repo).refs.get(f"refs/heads/{branch}")

    def read_file(self, repo: str, path: str, *, ref: str | None = None) -> str | None:
        """The text of `path` at `ref` (default branch by default), None when absent."""
        found = self._repo(repo)
        entry = found.git.lookup(self.state.tree_of(found, ref or found.default_branch), path)
        if entry is None or entry.type != "blob":
            return None
        return found.git.blob(entry.sha).decode()

    def requests(self, *, since: int = 0) -> list[dict[str, Any]]:
        """Every GitHub API request received (method, path, query, body, status...)."""
        return [entry for entry in self.state.requests if entry["seq"] > since]

    def failures(self) -> list[dict[str, Any]]:
        """Requests that broke GitHub's description, hit unimplemented endpoints, or crashed."""
        return list(self.state.failures)

    def take_failures(self) -> list[dict[str, Any]]:
        """The failures so far, forgetting them (for tests that provoke them on purpose)."""
        taken, self.state.failures[:] = list(self.state.failures), []
        return taken

    def clear_log(self) -> None:
        self.state.requests.clear()
        self.state.failures.clear()
