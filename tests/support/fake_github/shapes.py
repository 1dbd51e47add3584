"""The JSON GitHub's REST API answers with, built from the fake's records.

Shapes follow the schemas of GitHub's OpenAPI description (the tests validate every response
against them). API URLs point at the fake itself, so a client following them stays on loopback.
"""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any
from urllib.parse import quote

from tests.support.fake_github.diffs import FileChange
from tests.support.fake_github.gitstore import Commit, Entry, Signature
from tests.support.fake_github.model import (
    App,
    CheckRun,
    Comment,
    Delivery,
    Installation,
    PullRequest,
    Repo,
    Review,
    Team,
    User,
)
from tests.support.fake_github.state import WEB_FLOW, State

WEB_FLOW_EMAIL = "noreply@github.com"  # who commits GitHub's merges (state.WEB_FLOW)
APP_PERMISSIONS = {
    "checks": "write",
    "contents": "write",
    "issues": "write",
    "members": "read",
    "metadata": "read",
    "pull_requests": "write",
}
APP_EVENTS = [
    "check_run",
    "check_suite",
    "pull_request",
    "pull_request_review",
    "push",
]
_PGP_SIGNATURE = "-----BEGIN PGP SIGNATURE-----\n\nwsBcBAABCAAQBQJ\n-----END PGP SIGNATURE-----\n"
# Repository URL fields: key -> path below the repository's API URL (templates as GitHub sends).
_REPO_URLS = {
    "archive_url": "/{archive_format}{/ref}",
    "assignees_url": "/assignees{/user}",
    "blobs_url": "/git/blobs{/sha}",
    "branches_url": "/branches{/branch}",
    "collaborators_url": "/collaborators{/collaborator}",
    "comments_url": "/comments{/number}",
    "commits_url": "/commits{/sha}",
    "compare_url": "/compare/{base}...{head}",
    "contents_url": "/contents/{+path}",
    "contributors_url": "/contributors",
    "deployments_url": "/deployments",
    "downloads_url": "/downloads",
    "events_url": "/events",
    "forks_url": "/forks",
    "git_commits_url": "/git/commits{/sha}",
    "git_refs_url": "/git/refs{/sha}",
    "git_tags_url": "/git/tags{/sha}",
    "hooks_url": "/hooks",
    "issue_comment_url": "/issues/comments{/number}",
    "issue_events_url": "/issues/events{/number}",
    "issues_url": "/issues{/number}",
    "keys_url": "/keys{/key_id}",
    "labels_url": "/labels{/name}",
    "languages_url": "/languages",
    "merges_url": "/merges",
    "milestones_url": "/milestones{/number}",
    "notifications_url": "/notifications{?since,all,participating}",
    "pulls_url": "/pulls{/number}",
    "releases_url": "/releases{/id}",
    "stargazers_url": "/stargazers",
    "statuses_url": "/statuses/{sha}",
    "subscribers_url": "/subscribers",
    "subscription_url": "/subscription",
    "tags_url": "/tags",
    "teams_url": "/teams",
    "trees_url": "/git/trees{/sha}",
}
_USER_URLS = {
    "followers_url": "/followers",
    "following_url": "/following{/other_user}",
    "gists_url": "/gists{/gist_id}",
    "starred_url": "/starred{/owner}{/repo}",
    "subscriptions_url": "/subscriptions",
    "organizations_url": "/orgs",
    "repos_url": "/repos",
    "events_url": "/events{/privacy}",
    "received_events_url": "/received_events",
}


def timestamp(when: datetime | None) -> str | None:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ") if when else None


def node_id(kind: str, key: int | str) -> str:
    """GitHub's legacy global node id: base64 of "0<len>:<Kind><key>"."""
    return base64.b64encode(f"0{len(kind)}:{kind}{key}".encode()).decode()


def link(href: str) -> dict[str, str]:
    return {"href": href}


class Shapes:
    """Renders records for one server (its API URL and the html URL used in links)."""

    def __init__(self, state: State) -> None:
        self.state = state

    @property
    def api(self) -> str:
        return self.state.api_url

    @property
    def html(self) -> str:
        return self.state.html_url

    def repo_api(self, repo: Repo) -> str:
        return f"{self.api}/repos/{repo.full_name}"

    def repo_html(self, repo: Repo) -> str:
        return f"{self.html}/{repo.full_name}"

    # -- accounts ------------------------------------------------------------------------------

    def user(self, user: User) -> dict[str, Any]:
        url = f"{self.api}/users/{quote(user.login)}"
        return {
            "login": user.login,
            "id": user.id,
            "node_id": node_id(user.type, user.id),
            "avatar_url": f"https://avatars.githubusercontent.com/u/{user.id}?v=4",
            "gravatar_id": "",
            "url": url,
            "html_url": f"{self.html}/{quote(user.login)}",
            **{key: url + suffix for key, suffix in _USER_URLS.items()},
            "type": user.type,
            "user_view_type": "public",
            "site_admin": False,
        }

    def public_user(self, user: User) -> dict[str, Any]:
        """The signed-in user as `GET /user` shows them (public profile)."""
        return self.user(user) | {
            "name": None,
            "company": None,
            "blog": None,
            "location": None,
            "email": None,
            "hireable": None,
            "bio": None,
            "public_repos": 0,
            "public_gists": 0,
            "followers": 0,
            "following": 0,
            "created_at": timestamp(self.state.now()),
            "updated_at": timestamp(self.state.now()),
        }

    def org_membership(self, org: User, user: User, role: str) -> dict[str, Any]:
        url = f"{self.api}/orgs/{quote(org.login)}"
        return {
            "url": f"{url}/memberships/{quote(user.login)}",
            "state": "active",
            "role": role,
            "organization_url": url,
            "organization": self.organization(org),
            "user": self.user(user),
        }

    def organization(self, org: User) -> dict[str, Any]:
        """The organization-simple shape (memberships, webhook payloads)."""
        url = f"{self.api}/orgs/{quote(org.login)}"
        return {
            "login": org.login,
            "id": org.id,
            "node_id": node_id("Organization", org.id),
            "url": url,
            "repos_url": f"{url}/repos",
            "events_url": f"{url}/events",
            "hooks_url": f"{url}/hooks",
            "issues_url": f"{url}/issues",
            "members_url": f"{url}/members{{/member}}",
            "public_members_url": f"{url}/public_members{{/member}}",
            "avatar_url": f"https://avatars.githubusercontent.com/u/{org.id}?v=4",
            "description": None,
        }

    def team(self, team: Team) -> dict[str, Any]:
        url = f"{self.api}/organizations/{self.state.user(team.org).id}/team/{team.id}"
        return {
            "id": team.id,
            "node_id": node_id("Team", team.id),
            "url": url,
            "html_url": f"{self.html}/orgs/{team.org}/teams/{team.slug}",
            "name": team.name,
            "slug": team.slug,
            "description": None,
            "privacy": "closed",
            "notification_setting": "notifications_enabled",
            "permission": "pull",
            "members_url": f"{url}/members{{/member}}",
            "repositories_url": f"{url}/repos",
            "type": "organization",
            "parent": None,
        }

    def app(self, app: App) -> dict[str, Any]:
        return {
            "id": app.id,
            "slug": app.slug,
            "client_id": app.client_id,
            "node_id": node_id("Integration", app.id),
            "owner": self.user(app.owner),
            "name": app.name,
            "description": None,
            "external_url": f"{self.html}/apps/{app.slug}",
            "html_url": f"{self.html}/apps/{app.slug}",
            "created_at": timestamp(app.created_at),
            "updated_at": timestamp(app.created_at),
            "permissions": APP_PERMISSIONS if app.permissions is None else app.permissions,
            "events": APP_EVENTS if app.events is None else app.events,
            "installations_count": len(self.state.installations),
        }

    def installation(self, installation: Installation) -> dict[str, Any]:
        app = self.state.require_app()
        account = installation.account
        return {
            "id": installation.id,
            "client_id": app.client_id,
            "account": self.user(account),
            "repository_selection": "selected",
            "access_tokens_url": f"{self.api}/app/installations/{installation.id}/access_tokens",
            "repositories_url": f"{self.api}/installation/repositories",
            "html_url": f"{self.html}/organizations/{account.login}/settings/installations/"
            f"{installation.id}",
            "app_id": app.id,
            "app_slug": app.slug,
            "target_id": account.id,
            "target_type": account.type,
            "permissions": APP_PERMISSIONS,
            "events": APP_EVENTS,
            "created_at": timestamp(installation.created_at),
            "updated_at": timestamp(installation.created_at),
            "single_file_name": None,
            "has_multiple_single_files": False,
            "single_file_paths": [],
            "suspended_by": None,
            "suspended_at": None,
        }

    def repo(self, repo: Repo) -> dict[str, Any]:
        api, html = self.repo_api(repo), self.repo_html(repo)
        host = self.html.split("://", 1)[-1]
        return {
            "id": repo.id,
            "node_id": node_id("Repository", repo.id),
            "name": repo.name,
            "full_name": repo.full_name,
            "private": repo.private,
            "owner": self.user(repo.owner),
            "html_url": html,
            "description": None,
            "fork": False,
            "url": api,
            **{key: api + suffix for key, suffix in _REPO_URLS.items()},
            "git_url": f"git://{host}/{repo.full_name}.git",
            "ssh_url": f"git@{host}:{repo.full_name}.git",
            "clone_url": f"{html}.git",
            "svn_url": html,
            "mirror_url": None,
            "homepage": None,
            "language": "Markdown",
            "forks_count": 0,
            "forks": 0,
            "stargazers_count": 0,
            "watchers_count": 0,
            "watchers": 0,
            "size": sum(len(blob) for blob in repo.git.blobs.values()) // 1024,
            "default_branch": repo.default_branch,
            "open_issues_count": sum(p.state == "open" for p in repo.pulls.values()),
            "open_issues": sum(p.state == "open" for p in repo.pulls.values()),
            "is_template": False,
            "topics": [],
            "has_issues": True,
            "has_projects": False,
            "has_wiki": False,
            "has_pages": False,
            "has_downloads": True,
            "has_discussions": False,
            "archived": False,
            "disabled": False,
            "visibility": "private" if repo.private else "public",
            "pushed_at": timestamp(repo.pushed_at or repo.created_at),
            "created_at": timestamp(repo.created_at),
            "updated_at": timestamp(repo.pushed_at or repo.created_at),
            "allow_forking": True,
            "web_commit_signoff_required": False,
            "license": None,
            "network_count": 0,
            "subscribers_count": 0,
        }

    # -- pull requests -------------------------------------------------------------------------

    def _branch(self, repo: Repo, ref: str, sha: str) -> dict[str, Any]:
        return {
            "label": f"{repo.owner.login}:{ref}",
            "ref": ref,
            "sha": sha,
            "user": self.user(repo.owner),
            "repo": self.repo(repo),
        }

    def pull_simple(self, repo: Repo, pull: PullRequest) -> dict[str, Any]:
        """The shape of pull requests in lists (`pull-request-simple`)."""
        api = f"{self.repo_api(repo)}/pulls/{pull.number}"
        issue = f"{self.repo_api(repo)}/issues/{pull.number}"
        html = f"{self.repo_html(repo)}/pull/{pull.number}"
        statuses = f"{self.repo_api(repo)}/statuses/{pull.head_sha}"
        return {
            "url": api,
            "id": pull.id,
            "node_id": node_id("PullRequest", pull.id),
            "html_url": html,
            "diff_url": f"{html}.diff",
            "patch_url": f"{html}.patch",
            "issue_url": issue,
            "commits_url": f"{api}/commits",
            "review_comments_url": f"{api}/comments",
            "review_comment_url": f"{self.repo_api(repo)}/pulls/comments{{/number}}",
            "comments_url": f"{issue}/comments",
            "statuses_url": statuses,
            "number": pull.number,
            "state": pull.state,
            "locked": False,
            "title": pull.title,
            "user": self.user(pull.user),
            "body": pull.body,
            "labels": [],
            "milestone": None,
            "active_lock_reason": None,
            "created_at": timestamp(pull.created_at),
            "updated_at": timestamp(pull.updated_at),
            "closed_at": timestamp(pull.closed_at),
            "merged_at": timestamp(pull.merged_at),
            "merge_commit_sha": pull.merge_commit_sha,
            "assignee": None,
            "assignees": [],
            "requested_reviewers": [self.user(self.state.user(u)) for u in pull.requested_users],
            "requested_teams": [
                self.team(self.state.team(repo.owner.login, t)) for t in pull.requested_teams
            ],
            "head": self._branch(repo, pull.head_ref, pull.head_sha),
            "base": self._branch(repo, pull.base_ref, pull.base_sha),
            "_links": {
                "self": link(api),
                "html": link(html),
                "issue": link(issue),
                "comments": link(f"{issue}/comments"),
                "review_comments": link(f"{api}/comments"),
                "review_comment": link(f"{self.repo_api(repo)}/pulls/comments{{/number}}"),
                "commits": link(f"{api}/commits"),
                "statuses": link(statuses),
            },
            "author_association": self.state.author_association(repo, pull.user),
            "auto_merge": None,
            "draft": pull.draft,
        }

    def pull(self, repo: Repo, pull: PullRequest) -> dict[str, Any]:
        """A single pull request (`pull-request`): the list shape plus merge state and counts."""
        changes = self.state.pull_changes(repo, pull)
        # An open pull request counts against its base branch, a closed one against its base.
        base = repo.refs.get(f"refs/heads/{pull.base_ref}", pull.base_sha)
        if pull.state == "closed":
            base = pull.base_sha
        commits = set(repo.git.ancestors(pull.head_sha)) - set(repo.git.ancestors(base))
        mergeable = None if pull.merged_at else self.state.merged_files(repo, pull) is not None
        return {
            **self.pull_simple(repo, pull),
            "merged": pull.merged_at is not None,
            "mergeable": mergeable,
            "rebaseable": mergeable,
            "mergeable_state": {True: "clean", False: "dirty", None: "unknown"}[mergeable],
            "merged_by": self.user(pull.merged_by) if pull.merged_by else None,
            "comments": sum(c.issue_number == pull.number for c in repo.comments),
            "review_comments": 0,
            "maintainer_can_modify": False,
            "commits": len(commits),
            "additions": sum(change.additions for change in changes),
            "deletions": sum(change.deletions for change in changes),
            "changed_files": len(changes),
        }

    def pull_minimal(self, repo: Repo, pull: PullRequest) -> dict[str, Any]:
        short_repo = {"id": repo.id, "url": self.repo_api(repo), "name": repo.name}
        return {
            "id": pull.id,
            "number": pull.number,
            "url": f"{self.repo_api(repo)}/pulls/{pull.number}",
            "head": {"ref": pull.head_ref, "sha": pull.head_sha, "repo": short_repo},
            "base": {"ref": pull.base_ref, "sha": pull.base_sha, "repo": short_repo},
        }

    def review(self, repo: Repo, pull: PullRequest, review: Review) -> dict[str, Any]:
        html = f"{self.repo_html(repo)}/pull/{pull.number}#pullrequestreview-{review.id}"
        api = f"{self.repo_api(repo)}/pulls/{pull.number}"
        return {
            "id": review.id,
            "node_id": node_id("PullRequestReview", review.id),
            "user": self.user(review.user),
            "body": review.body,
            "state": review.state,
            "html_url": html,
            "pull_request_url": api,
            "_links": {"html": link(html), "pull_request": link(api)},
            "submitted_at": timestamp(review.submitted_at),
            "commit_id": review.commit_id,
            "author_association": self.state.author_association(repo, review.user),
        }

    def file_change(self, repo: Repo, ref: str, change: FileChange) -> dict[str, Any]:
        path = quote(change.filename)
        shape: dict[str, Any] = {
            "sha": change.sha,
            "filename": change.filename,
            "status": change.status,
            "additions": change.additions,
            "deletions": change.deletions,
            "changes": change.additions + change.deletions,
            "blob_url": f"{self.repo_html(repo)}/blob/{ref}/{path}",
            "raw_url": f"{self.repo_html(repo)}/raw/{ref}/{path}",
            "contents_url": f"{self.repo_api(repo)}/contents/{path}?ref={ref}",
        }
        if change.patch is not None:
            shape["patch"] = change.patch
        if change.previous_filename is not None:
            shape["previous_filename"] = change.previous_filename
        return shape

    # -- Git data ------------------------------------------------------------------------------

    def blob(self, repo: Repo, sha: str) -> dict[str, Any]:
        data = repo.git.blob(sha)
        return {
            "sha": sha,
            "node_id": node_id("Blob", f"{repo.id}:{sha}"),
            "size": len(data),
            "url": f"{self.repo_api(repo)}/git/blobs/{sha}",
            "content": wrapped_base64(data),
            "encoding": "base64",
        }

    def tree(self, repo: Repo, sha: str, *, recursive: bool) -> dict[str, Any]:
        entries = repo.git.walk(sha) if recursive else repo.git.tree(sha).items()
        return {
            "sha": sha,
            "url": f"{self.repo_api(repo)}/git/trees/{sha}",
            "tree": [self.tree_entry(repo, path, entry) for path, entry in entries],
            "truncated": False,
        }

    def tree_entry(self, repo: Repo, path: str, entry: Entry) -> dict[str, Any]:
        shape: dict[str, Any] = {"path": path, "mode": entry.mode, "type": entry.type}
        shape["sha"] = entry.sha
        if entry.type == "blob":
            shape["size"] = len(repo.git.blob(entry.sha))
        if entry.type != "commit":
            shape["url"] = f"{self.repo_api(repo)}/git/{entry.type}s/{entry.sha}"
        return shape

    def git_commit(self, repo: Repo, commit: Commit) -> dict[str, Any]:
        api = f"{self.repo_api(repo)}/git/commits/{commit.sha}"
        return {
            "sha": commit.sha,
            "node_id": node_id("Commit", f"{repo.id}:{commit.sha}"),
            "url": api,
            "html_url": f"{self.repo_html(repo)}/commit/{commit.sha}",
            "author": _signature(commit.author),
            "committer": _signature(commit.committer),
            "tree": {"sha": commit.tree, "url": f"{self.repo_api(repo)}/git/trees/{commit.tree}"},
            "message": commit.message,
            "parents": [
                {
                    "sha": parent,
                    "url": f"{self.repo_api(repo)}/git/commits/{parent}",
                    "html_url": f"{self.repo_html(repo)}/commit/{parent}",
                }
                for parent in commit.parents
            ],
            "verification": self.verification(commit),
        }

    def verification(self, commit: Commit) -> dict[str, Any]:
        # GitHub signs the commits it commits itself: web merges, and an App's API commits
        # made without a custom author or committer.
        verified = (commit.committer.name, commit.committer.email) == WEB_FLOW
        return {
            "verified": verified,
            "reason": "valid" if verified else "unsigned",
            "signature": _PGP_SIGNATURE if verified else None,
            "payload": f"tree {commit.tree}\n" if verified else None,
            "verified_at": timestamp(commit.committer.date) if verified else None,
        }

    def commit(self, repo: Repo, commit: Commit) -> dict[str, Any]:
        """A commit as the commits and compare endpoints list it (`commit`)."""
        api = f"{self.repo_api(repo)}/commits/{commit.sha}"
        git = self.git_commit(repo, commit)
        return {
            "url": api,
            "sha": commit.sha,
            "node_id": git["node_id"],
            "html_url": git["html_url"],
            "comments_url": f"{api}/comments",
            "commit": {
                "url": git["url"],
                "author": git["author"],
                "committer": git["committer"],
                "message": commit.message,
                "tree": git["tree"],
                "comment_count": 0,
                "verification": git["verification"],
            },
            "author": self._account_of(commit.author.email),
            "committer": self._account_of(commit.committer.email),
            "parents": git["parents"],
        }

    def _account_of(self, email: str) -> dict[str, Any] | None:
        if email == WEB_FLOW_EMAIL:  # GitHub's own merges: its `web-flow` account
            return self.user(self.state.user("web-flow"))
        login = email.split("@users.noreply")[0].partition("+")[2]
        user = self.state.users.get(login.lower()) if login else None
        return self.user(user) if user else None

    def ref(self, repo: Repo, ref: str, sha: str) -> dict[str, Any]:
        return {
            "ref": ref,
            "node_id": node_id("Ref", f"{repo.id}:{ref}"),
            "url": f"{self.repo_api(repo)}/git/{ref}",
            "object": {
                "type": "commit",
                "sha": sha,
                "url": f"{self.repo_api(repo)}/git/commits/{sha}",
            },
        }

    def content(self, repo: Repo, path: str, entry: Entry, ref: str) -> dict[str, Any]:
        """One item of the contents API (a file, folder, symlink or submodule)."""
        kind = {"tree": "dir", "commit": "submodule"}.get(entry.type, "file")
        if entry.mode == "120000":
            kind = "symlink"
        quoted = quote(path)
        api = f"{self.repo_api(repo)}/contents/{quoted}?ref={quote(ref)}"
        html = f"{self.repo_html(repo)}/{'tree' if kind == 'dir' else 'blob'}/{ref}/{quoted}"
        git = f"{self.repo_api(repo)}/git/{'trees' if kind == 'dir' else 'blobs'}/{entry.sha}"
        raw = f"https://raw.githubusercontent.com/{repo.full_name}/{ref}/{quoted}"
        return {
            "type": kind,
            "size": len(repo.git.blob(entry.sha)) if entry.type == "blob" else 0,
            "name": path.rpartition("/")[2],
            "path": path,
            "sha": entry.sha,
            "url": api,
            "git_url": git,
            "html_url": html,
            "download_url": raw if kind == "file" else None,
            "_links": {"self": api, "git": git, "html": html},
        }

    # -- checks and comments -------------------------------------------------------------------

    def check_run(self, repo: Repo, run: CheckRun) -> dict[str, Any]:
        app = self.state.require_app()
        api = f"{self.repo_api(repo)}/check-runs/{run.id}"
        pulls = [
            self.pull_minimal(repo, p)
            for p in repo.pulls.values()
            if p.state == "open" and p.head_sha == run.head_sha
        ]
        return {
            "id": run.id,
            "head_sha": run.head_sha,
            "node_id": node_id("CheckRun", run.id),
            "external_id": run.external_id,
            "url": api,
            "html_url": f"{self.repo_html(repo)}/runs/{run.id}",
            "details_url": run.details_url or f"{self.html}/apps/{app.slug}",
            "status": run.status,
            "conclusion": run.conclusion,
            "started_at": timestamp(run.started_at),
            "completed_at": timestamp(run.completed_at),
            "output": {
                "title": run.output.get("title"),
                "summary": run.output.get("summary"),
                "text": run.output.get("text"),
                "annotations_count": len(run.annotations),
                "annotations_url": f"{api}/annotations",
            },
            "name": run.name,
            "check_suite": {"id": run.suite_id},
            "app": self.app(app),
            "pull_requests": pulls,
        }

    def annotation(self, repo: Repo, run: CheckRun, annotation: dict[str, Any]) -> dict[str, Any]:
        return {
            "path": annotation["path"],
            "blob_href": f"{self.repo_html(repo)}/blob/{run.head_sha}/{quote(annotation['path'])}",
            "start_line": annotation["start_line"],
            "end_line": annotation["end_line"],
            "start_column": annotation.get("start_column"),
            "end_column": annotation.get("end_column"),
            "annotation_level": annotation["annotation_level"],
            "title": annotation.get("title"),
            "message": annotation["message"],
            "raw_details": annotation.get("raw_details"),
        }

    def comment(self, repo: Repo, comment: Comment) -> dict[str, Any]:
        issue = f"{self.repo_api(repo)}/issues/{comment.issue_number}"
        app = self.state.app
        return {
            "id": comment.id,
            "node_id": node_id("IssueComment", comment.id),
            "url": f"{self.repo_api(repo)}/issues/comments/{comment.id}",
            "html_url": f"{self.repo_html(repo)}/pull/{comment.issue_number}"
            f"#issuecomment-{comment.id}",
            "body": comment.body,
            "user": self.user(comment.user),
            "created_at": timestamp(comment.created_at),
            "updated_at": timestamp(comment.created_at),
            "issue_url": issue,
            "author_association": self.state.author_association(repo, comment.user),
            "performed_via_github_app": self.app(app) if comment.by_app and app else None,
        }

    def delivery(self, delivery: Delivery) -> dict[str, Any]:
        return {
            "id": delivery.id,
            "guid": delivery.guid,
            "delivered_at": timestamp(delivery.delivered_at),
            "redelivery": delivery.redelivery,
            "duration": delivery.duration,
            "status": delivery.status,
            "status_code": delivery.status_code,
            "event": delivery.event,
            "action": delivery.action,
            "installation_id": delivery.installation_id,
            "repository_id": delivery.repository_id,
            "throttled_at": None,
        }


def wrapped_base64(data: bytes) -> str:
    """Base64 in 60-character lines, each ending in a newline, as GitHub sends file content."""
    encoded = base64.b64encode(data).decode()
    return "".join(encoded[i : i + 60] + "\n" for i in range(0, len(encoded), 60))


def _signature(who: Signature) -> dict[str, str | None]:
    return {"name": who.name, "email": who.email, "date": timestamp(who.date)}
