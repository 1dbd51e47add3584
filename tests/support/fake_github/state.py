"""The fake GitHub's in-memory world and the operations GitHub performs on it.

REST handlers and the test-control API both call these methods; refusals are `GitHubError`s
carrying the status and message GitHub would answer with.
"""

from __future__ import annotations

import itertools
import re
import secrets
import string
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.support.fake_github.diffs import FileChange, diff_trees, merge_trees
from tests.support.fake_github.faults import Faults
from tests.support.fake_github.gitstore import BLOB_MODES, Entry, Signature
from tests.support.fake_github.manifests import manifest_problems
from tests.support.fake_github.model import (
    App,
    Delivery,
    Installation,
    ManifestCode,
    OAuthCode,
    PullRequest,
    Repo,
    Team,
    Token,
    User,
    UserToken,
)
from tests.support.fake_github.secondary_limits import ContentLimit

TOKEN_LIFETIME = timedelta(hours=1)
MANIFEST_CODE_LIFETIME = timedelta(hours=1)  # GitHub's limit on converting a manifest's code
OAUTH_CODE_LIFETIME = timedelta(minutes=10)
USER_TOKEN_LIFETIME = timedelta(hours=8)
DEFAULT_WEB_USER = "octocat"  # who is signed in on the web host until a test says otherwise
RATE_LIMIT = 5000
ANONYMOUS_RATE_LIMIT = 60
# The committer of commits GitHub makes and signs itself: web merges, and an App's API commits.
WEB_FLOW = ("GitHub", "noreply@github.com")


class GitHubError(Exception):
    """A refusal as GitHub words it: HTTP status, message and optional `errors` list."""

    def __init__(self, status: int, message: str, errors: list[dict[str, Any]] | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = errors


@dataclass
class RateBucket:
    limit: int = RATE_LIMIT
    used: int = 0
    reset: int = field(default_factory=lambda: int(time.time()) + 3600)

    @property
    def remaining(self) -> int:
        return max(self.limit - self.used, 0)

    def spend(self) -> None:
        now = int(time.time())
        if now >= self.reset:
            self.used, self.reset = 0, now + 3600
        self.used += 1


class OAuthError(Exception):
    """A refused token exchange: GitHub answers it 200 with `error` and a description."""

    def __init__(self, error: str, description: str) -> None:
        super().__init__(description)
        self.error = error
        self.description = description


def generate_key_pair() -> tuple[str, str]:
    """A fresh RSA key pair as (private PEM, public PEM)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


def _random_text(length: int) -> str:
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(length))


def _invalid_pull(*errors: dict[str, str]) -> GitHubError:
    return GitHubError(
        422, "Validation Failed", [{"resource": "PullRequest", **error} for error in errors]
    )


def signature(user: User, when: datetime) -> Signature:
    """The noreply identity GitHub gives an account's web and API commits."""
    return Signature(user.login, f"{user.id}+{user.login}@users.noreply.github.com", when)


class State:
    """Everything the fake GitHub knows; one per server."""

    def __init__(self, *, html_url: str = "https://github.com", seed: int = 0) -> None:
        self.api_url = "http://127.0.0.1"  # the server sets its real address once it listens
        self.html_url = html_url
        self._ids = itertools.count(1001)
        self.users: dict[str, User] = {}
        self.app: App | None = None
        self.installations: dict[int, Installation] = {}
        self.tokens: dict[str, Token] = {}
        self.web_user = DEFAULT_WEB_USER
        self.user_tokens: dict[str, UserToken] = {}
        self.manifest_codes: dict[str, ManifestCode] = {}
        self.oauth_codes: dict[str, OAuthCode] = {}
        self.org_roles: dict[tuple[str, str], str] = {}  # (org, login), lower case -> role
        self.teams: dict[tuple[str, str], Team] = {}
        self.repos: dict[str, Repo] = {}  # lower-case full name -> repo
        self.deliveries: list[Delivery] = []
        self.requests: list[dict[str, Any]] = []
        self.failures: list[dict[str, Any]] = []
        self.faults = Faults(seed)
        self.rate_limits: dict[str, RateBucket] = {}
        self.content_limit = ContentLimit()
        self.clock_offset = 0.0  # seconds GitHub's clock is ahead of this machine's
        self._diffs: dict[tuple[int, str | None, str], list[FileChange]] = {}

    # -- basics --------------------------------------------------------------------------------

    def time(self) -> float:
        """GitHub's clock, in seconds since the epoch: tests move it with `advance_clock`."""
        return time.time() + self.clock_offset

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.time(), UTC).replace(microsecond=0)

    def next_id(self) -> int:
        return next(self._ids)

    def user(self, login: str, kind: str = "User") -> User:
        """The account called `login`, created on first mention."""
        key = login.lower()
        if key not in self.users:
            self.users[key] = User(login, self.next_id(), kind)
        return self.users[key]

    def repo(self, owner: str, name: str) -> Repo:
        repo = self.repos.get(f"{owner}/{name}".lower())
        if repo is None:
            raise GitHubError(404, "Not Found")
        return repo

    def team(self, org: str, slug: str) -> Team:
        team = self.teams.get((org.lower(), slug.lower()))
        if team is None:
            raise GitHubError(404, "Not Found")
        return team

    def require_app(self) -> App:
        if self.app is None:
            raise GitHubError(401, "Integration not found")
        return self.app

    def installation(self, installation_id: int) -> Installation:
        if installation_id not in self.installations:
            raise GitHubError(404, "Not Found")
        return self.installations[installation_id]

    def installation_for(self, repo: Repo) -> Installation | None:
        return next(
            (i for i in self.installations.values() if repo.full_name in i.repositories), None
        )

    def bucket(self, key: str) -> RateBucket:
        """The hourly rate limit of "installation:<id>", "app" or "anonymous" requests."""
        if key not in self.rate_limits:
            limit = ANONYMOUS_RATE_LIMIT if key == "anonymous" else RATE_LIMIT
            self.rate_limits[key] = RateBucket(limit)
        return self.rate_limits[key]

    # -- app and installations -----------------------------------------------------------------

    def register_app(
        self,
        app_id: int,
        public_key: str,
        *,
        slug: str,
        name: str,
        owner: str,
        webhook_url: str | None,
        webhook_secret: str | None,
        owner_type: str = "Organization",
    ) -> App:
        bot = self.user(f"{slug}[bot]", "Bot")
        self.app = App(
            app_id,
            slug,
            name,
            self.user(owner, owner_type),
            bot,
            public_key,
            self.now(),
            webhook_url,
            webhook_secret,
        )
        return self.app

    def create_app_from_manifest(self, manifest: Mapping[str, Any], org: str | None) -> str:
        """Register the App `manifest` describes, owned by `org` or else the signed-in web
        user, as GitHub's "new App" page does; return the code that reveals its credentials."""
        taken = {self.app.name.lower()} if self.app else set()
        problems = manifest_problems(manifest, taken)
        if problems:
            raise GitHubError(422, "; ".join(problems))
        hook = manifest["hook_attributes"]
        name = str(manifest.get("name") or "app")
        private, public = generate_key_pair()
        app = self.register_app(
            self.next_id(),
            public,
            slug=re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-"),
            name=name,
            owner=org or self.web_user,
            owner_type="Organization" if org else "User",
            webhook_url=hook["url"],
            webhook_secret=_random_text(40),
        )
        app.client_secret = _random_text(40)
        app.callback_urls = list(manifest.get("callback_urls") or [])
        app.permissions = dict(manifest.get("default_permissions") or {})
        app.events = list(manifest.get("default_events") or [])
        code = _random_text(20)
        self.manifest_codes[code] = ManifestCode(code, private, self.now())
        return code

    def convert_manifest(self, code: str) -> tuple[App, str]:
        """The App a manifest code stands for and its private key: once, within the hour."""
        grant = self.manifest_codes.pop(code, None)
        if grant is None or self.now() - grant.created_at > MANIFEST_CODE_LIFETIME:
            raise GitHubError(404, "Not Found")
        return self.require_app(), grant.private_key

    def authorize(self, client_id: str, redirect_uri: str) -> str:
        """The signed-in web user's consent to the App, as a code to send to `redirect_uri`."""
        app = self.require_app()
        if client_id != app.client_id:
            raise GitHubError(404, "Not Found")
        if not any(redirect_uri.startswith(url) for url in app.callback_urls):
            raise GitHubError(400, "The redirect_uri is not associated with this application.")
        code = _random_text(20)
        login = self.user(self.web_user).login
        self.oauth_codes[code] = OAuthCode(code, login, redirect_uri, self.now())
        return code

    def exchange_code(
        self, client_id: str, client_secret: str, code: str, redirect_uri: str | None
    ) -> UserToken:
        """A user access token for an authorization code, which works once."""
        app = self.require_app()
        if (client_id, client_secret) != (app.client_id, app.client_secret):
            raise OAuthError(
                "incorrect_client_credentials",
                "The client_id and/or client_secret passed are incorrect.",
            )
        grant = self.oauth_codes.pop(code, None)
        if (
            grant is None
            or self.now() - grant.created_at > OAUTH_CODE_LIFETIME
            or redirect_uri not in (None, grant.redirect_uri)
        ):
            raise OAuthError("bad_verification_code", "The code passed is incorrect or expired.")
        token = UserToken("ghu_" + _random_text(36), grant.login, self.now() + USER_TOKEN_LIFETIME)
        self.user_tokens[token.value] = token
        return token

    def org_role(self, org: str, login: str) -> str | None:
        """`login`'s role in organization `org` ("admin", "member"), None for outsiders."""
        role = self.org_roles.get((org.lower(), login.lower()))
        return role or ("member" if self.is_member(org, login) else None)

    def can_read(self, user: User, repo: Repo) -> bool:
        """Whether `user` may read `repo`: it is public, or they own it, collaborate on it or
        belong to its organization."""
        login = user.login.lower()
        return (
            not repo.private
            or login in repo.collaborators
            or self.org_role(repo.owner.login, login) is not None
        )

    def create_installation(self, account: str, account_type: str) -> Installation:
        installation = Installation(self.next_id(), self.user(account, account_type), self.now())
        installation.repositories = {
            repo.full_name
            for repo in self.repos.values()
            if repo.owner.login.lower() == account.lower()
        }
        self.installations[installation.id] = installation
        return installation

    def issue_token(self, installation: Installation, repositories: list[str] | None) -> Token:
        scope = None
        if repositories is not None:
            names = {f"{installation.account.login}/{name}".lower() for name in repositories}
            scope = frozenset(r for r in installation.repositories if r.lower() in names)
            if len(scope) != len(names):
                raise GitHubError(422, "There is at least one repository that does not exist")
        value = "ghs_" + _random_text(36)
        token = Token(value, installation.id, self.now() + TOKEN_LIFETIME, scope)
        self.tokens[value] = token
        return token

    def can_access(self, token: Token, repo: Repo) -> bool:
        installation = self.installations.get(token.installation_id)
        if installation is None or repo.full_name not in installation.repositories:
            return False
        return token.repositories is None or repo.full_name in token.repositories

    # -- repositories and Git ------------------------------------------------------------------

    def create_repo(
        self, full_name: str, files: Mapping[str, bytes], *, default_branch: str, private: bool
    ) -> Repo:
        owner_login, _, name = full_name.partition("/")
        if full_name.lower() in self.repos:
            raise GitHubError(422, f"{full_name} already exists")
        owner = self.users.get(owner_login.lower()) or self.user(owner_login, "Organization")
        repo = Repo(self.next_id(), owner, name, default_branch, private, self.now())
        repo.collaborators.add(owner.login.lower())
        self.repos[full_name.lower()] = repo
        for installation in self.installations.values():
            if installation.account.login.lower() == owner_login.lower():
                installation.repositories.add(repo.full_name)
        author = signature(owner, self.now())
        tree = self.write_tree(repo, None, files)
        sha = repo.git.put_commit(tree, (), "Initial commit", author, author)
        repo.refs[f"refs/heads/{default_branch}"] = sha
        repo.pushed_at = self.now()
        return repo

    def resolve(self, repo: Repo, ref: str) -> str | None:
        """The commit a SHA, branch, tag or `heads/...`/`refs/...` name points at."""
        if ref in repo.git.commits:
            return ref
        name = ref.removeprefix("refs/")
        for candidate in (f"refs/{name}", f"refs/heads/{name}", f"refs/tags/{name}"):
            if candidate in repo.refs:
                return repo.refs[candidate]
        matches = [sha for sha in repo.git.commits if len(ref) >= 7 and sha.startswith(ref)]
        return matches[0] if len(matches) == 1 else None

    def tree_of(self, repo: Repo, ref: str) -> str:
        sha = self.resolve(repo, ref)
        if sha is None:
            raise GitHubError(404, f"No commit found for the ref {ref}")
        return repo.git.commit(sha).tree

    def write_tree(
        self, repo: Repo, base_tree: str | None, files: Mapping[str, bytes | None]
    ) -> str:
        """A tree: `base_tree`'s files with `files` written (None deletes a path)."""
        current = dict(repo.git.files(base_tree)) if base_tree else {}
        for path, data in files.items():
            if data is None:
                current.pop(path, None)
            else:
                mode = current[path].mode if path in current else BLOB_MODES[0]
                current[path] = Entry(mode, "blob", repo.git.put_blob(data))
        return repo.git.build(current)

    def commit_files(
        self, repo: Repo, branch: str, files: Mapping[str, bytes | None], message: str, author: User
    ) -> str:
        """A commit on top of `branch` that writes `files`, moving the branch to it."""
        parent = repo.refs.get(f"refs/heads/{branch}")
        if parent is None:
            raise GitHubError(404, f"Branch not found: {branch}")
        tree = self.write_tree(repo, repo.git.commit(parent).tree, files)
        who = signature(author, self.now())
        sha = repo.git.put_commit(tree, (parent,), message, who, who)
        self.move_ref(repo, f"refs/heads/{branch}", sha)
        return sha

    def move_ref(self, repo: Repo, ref: str, sha: str) -> None:
        """Point `ref` at `sha` and let open pull requests on that branch follow it."""
        repo.refs[ref] = sha
        repo.pushed_at = self.now()
        branch = ref.removeprefix("refs/heads/")
        for pull in repo.pulls.values():
            if pull.state == "open" and pull.head_ref == branch and pull.head_sha != sha:
                pull.head_sha = sha
                pull.base_sha = repo.refs.get(f"refs/heads/{pull.base_ref}", pull.base_sha)
                pull.updated_at = self.now()

    def update_ref(self, repo: Repo, ref: str, sha: str, *, force: bool) -> str:
        """Move `ref` ("heads/main") to `sha`, fast-forward only unless forced; return its
        full name."""
        full = f"refs/{ref.removeprefix('refs/')}"
        if full not in repo.refs:
            raise GitHubError(422, "Reference does not exist")
        if sha not in repo.git.commits:
            raise GitHubError(422, "Object does not exist")
        if not force and not repo.git.is_ancestor(repo.refs[full], sha):
            raise GitHubError(422, "Update is not a fast forward")
        self.move_ref(repo, full, sha)
        return full

    def create_ref(self, repo: Repo, ref: str, sha: str) -> None:
        if not ref.startswith("refs/") or ref.count("/") < 2:
            raise GitHubError(422, f"{ref} is not a valid ref name.")
        if ref in repo.refs:
            raise GitHubError(422, "Reference already exists")
        if sha not in repo.git.commits:
            raise GitHubError(422, "Object does not exist")
        self.move_ref(repo, ref, sha)

    def diff(self, repo: Repo, old_tree: str | None, new_tree: str) -> list[FileChange]:
        key = (repo.id, old_tree, new_tree)
        if key not in self._diffs:  # trees never change, so neither do their diffs
            self._diffs[key] = diff_trees(repo.git, old_tree, new_tree)
        return self._diffs[key]

    def compare(self, repo: Repo, base: str, head: str) -> tuple[str | None, list[FileChange]]:
        """The merge base of two commits and the files changed from it to `head`."""
        merge_base = repo.git.merge_base(base, head)
        old_tree = repo.git.commit(merge_base).tree if merge_base else None
        return merge_base, self.diff(repo, old_tree, repo.git.commit(head).tree)

    # -- pull requests -------------------------------------------------------------------------

    def pull(self, repo: Repo, number: int) -> PullRequest:
        if number not in repo.pulls:
            raise GitHubError(404, "Not Found")
        return repo.pulls[number]

    def next_number(self, repo: Repo) -> int:
        # Issues and pull requests share one sequence; this fake only has pull requests.
        return max(repo.pulls, default=0) + 1

    def open_pull(
        self,
        repo: Repo,
        head: str,
        base: str,
        *,
        title: str,
        body: str | None,
        user: User,
        draft: bool,
    ) -> PullRequest:
        head = head.partition(":")[2] or head  # "owner:branch" is accepted too
        head_sha = repo.refs.get(f"refs/heads/{head}")
        base_sha = repo.refs.get(f"refs/heads/{base}")
        if head_sha is None or base_sha is None:
            missing = [name for name, sha in (("head", head_sha), ("base", base_sha)) if not sha]
            raise _invalid_pull(*({"field": name, "code": "invalid"} for name in missing))
        if repo.git.is_ancestor(head_sha, base_sha):
            raise _invalid_pull(
                {"code": "custom", "message": f"No commits between {base} and {head}"}
            )
        if any(
            other.state == "open" and (other.head_ref, other.base_ref) == (head, base)
            for other in repo.pulls.values()
        ):
            message = f"A pull request already exists for {repo.owner.login}:{head}."
            raise _invalid_pull({"code": "custom", "message": message})
        now = self.now()
        pull = PullRequest(
            self.next_number(repo),
            self.next_id(),
            title,
            body,
            user,
            head,
            base,
            base_sha,
            head_sha,
            draft,
            now,
            now,
        )
        repo.pulls[pull.number] = pull
        repo.collaborators.add(user.login.lower())
        return pull

    def pull_changes(self, repo: Repo, pull: PullRequest) -> list[FileChange]:
        return self.compare(repo, pull.base_sha, pull.head_sha)[1]

    def merged_files(self, repo: Repo, pull: PullRequest) -> dict[str, Entry] | None:
        """The files merging `pull` into its base branch would give, None on a conflict."""
        base_head = repo.refs[f"refs/heads/{pull.base_ref}"]
        merge_base = repo.git.merge_base(base_head, pull.head_sha)
        return merge_trees(
            repo.git,
            repo.git.commit(merge_base).tree if merge_base else None,
            repo.git.commit(base_head).tree,
            repo.git.commit(pull.head_sha).tree,
        )

    def is_member(self, org: str, login: str) -> bool:
        return any(
            team.org == org.lower() and login.lower() in (m.lower() for m in team.members)
            for team in self.teams.values()
        )

    def author_association(self, repo: Repo, user: User) -> str:
        if user.login.lower() == repo.owner.login.lower():
            return "OWNER"
        if self.is_member(repo.owner.login, user.login):
            return "MEMBER"
        return "COLLABORATOR" if user.login.lower() in repo.collaborators else "NONE"

    def team_permission(self, repo: Repo, slug: str) -> str | None:
        """The permission the team `slug` of `repo`'s owner has on `repo`, None for no access
        (or no such team)."""
        team = self.teams.get((repo.owner.login.lower(), slug.lower()))
        if team is None:
            return None
        return team.repositories.get(repo.full_name.lower(), "push")

    def request_reviewers(
        self, repo: Repo, pull: PullRequest, users: list[str], teams: list[str]
    ) -> None:
        if any(login.lower() == pull.user.login.lower() for login in users):
            raise GitHubError(422, "Review cannot be requested from pull request author.")
        strangers = [
            login
            for login in users
            if login.lower() not in repo.collaborators
            and not self.is_member(repo.owner.login, login)
        ]
        # GitHub's words (/rest/pulls/review-requests#request-reviewers-for-a-pull-request):
        # a team needs at least read access to the repository to be requested.
        if strangers:
            raise GitHubError(
                422,
                "Reviews may only be requested from collaborators. One or more of the users or "
                f"teams you specified is not a collaborator of the {repo.full_name} repository.",
            )
        if any(self.team_permission(repo, slug) is None for slug in teams):
            raise GitHubError(
                422,
                "Reviews may only be requested from collaborators. One or more of the teams you "
                f"specified is not a collaborator of the {repo.full_name} repository.",
            )
        for login in users:
            if login.lower() not in (r.lower() for r in pull.requested_users):
                pull.requested_users.append(self.user(login).login)
        for slug in teams:
            if slug.lower() not in (t.lower() for t in pull.requested_teams):
                pull.requested_teams.append(self.team(repo.owner.login, slug).slug)

    def merge_pull(self, repo: Repo, pull: PullRequest, *, method: str, user: User) -> str:
        """Merge or squash `pull` into its base branch; return the new commit's SHA."""
        if pull.state != "open":
            raise GitHubError(405, "Pull Request is not mergeable")
        files = self.merged_files(repo, pull)
        if files is None:
            raise GitHubError(405, "Pull Request is not mergeable")
        base_ref = f"refs/heads/{pull.base_ref}"
        now = self.now()
        committer = Signature(*WEB_FLOW, now)
        if method == "merge":
            parents: tuple[str, ...] = (repo.refs[base_ref], pull.head_sha)
            message = (
                f"Merge pull request #{pull.number} from {repo.owner.login}/{pull.head_ref}"
                f"\n\n{pull.title}"
            )
            author = signature(user, now)
        elif method == "squash":
            parents = (repo.refs[base_ref],)
            message = f"{pull.title} (#{pull.number})\n\n{pull.body or ''}".rstrip() + "\n"
            author = signature(pull.user, now)
        else:
            raise GitHubError(422, f"Invalid merge method: {method}")
        sha = repo.git.put_commit(repo.git.build(files), parents, message, author, committer)
        self.move_ref(repo, base_ref, sha)
        pull.state, pull.merged_at, pull.closed_at, pull.updated_at = "closed", now, now, now
        pull.merge_commit_sha, pull.merged_by = sha, user
        return sha

    # -- webhooks ------------------------------------------------------------------------------

    def record_delivery(
        self,
        guid: str,
        event: str,
        payload: dict[str, Any],
        *,
        redelivery: bool,
        status_code: int,
        status: str,
        duration: float,
    ) -> Delivery:
        delivery = Delivery(
            self.next_id(),
            guid,
            event,
            payload.get("action"),
            payload,
            self.now(),
            redelivery,
            duration,
            status,
            status_code,
            payload.get("installation", {}).get("id"),
            payload.get("repository", {}).get("id"),
        )
        self.deliveries.append(delivery)
        return delivery

    def delivery(self, delivery_id: int) -> Delivery:
        found = next((d for d in self.deliveries if d.id == delivery_id), None)
        if found is None:
            raise GitHubError(404, "Not Found")
        return found
