"""Webhook payloads made from GitHub's real examples (npm `@octokit/webhooks-examples`).

A payload starts as a real example of its event and action; every object the fake knows about
(repository, installation, pull request, review, check run, sender...) is then overlaid with the
fake's own values, so ids, numbers, SHAs and refs agree with what the REST API answers.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import hmac
import json
import time
import uuid
from typing import Any

import aiohttp

from tests.support.fake_github import merge_queue
from tests.support.fake_github.manifests import UNSUPPORTED_EVENTS
from tests.support.fake_github.model import App, Delivery, Installation, PullRequest, Repo
from tests.support.fake_github.shapes import APP_EVENTS, Shapes, node_id, timestamp
from tests.support.fake_github.state import GitHubError, State
from tests.support.github_assets import WEBHOOK_EXAMPLES_JSON

HOOK_ID = 424242  # the App's webhook id, as GitHub sends it in X-GitHub-Hook-ID
ZERO_SHA = "0" * 40
DELIVERY_TIMEOUT = 10  # seconds; GitHub gives up on a delivery after this long
DEFAULT_SENDER = "octocat"  # who clicks, installs or pushes when a test does not say
# What an App registered without a manifest subscribes to: `APP_EVENTS` and merge_group, which
# GitHub's schema for an App's `events` in payloads does not list (it says merge_queue_entry).
DEFAULT_SUBSCRIPTIONS = frozenset({*APP_EVENTS, "merge_group"})


@functools.cache
def examples() -> dict[tuple[str, str | None], dict[str, Any]]:
    """The first real example payload of every (event, action)."""
    found: dict[tuple[str, str | None], dict[str, Any]] = {}
    for event in json.loads(WEBHOOK_EXAMPLES_JSON.read_bytes()):
        for example in event["examples"]:
            found.setdefault((event["name"], example.get("action")), example)
    return found


def signature(secret: str, body: bytes) -> str:
    """The `X-Hub-Signature-256` value of `body`."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def signed_headers(
    secret: str, body: bytes, event: str, *, guid: str | None = None, app_id: int | None = None
) -> dict[str, str]:
    """The headers GitHub sends with a delivery of `body`."""
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "GitHub-Hookshot/fake",
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": guid or str(uuid.uuid4()),
        "X-GitHub-Hook-ID": str(HOOK_ID),
        "X-Hub-Signature-256": signature(secret, body),
    }
    if app_id is not None:
        headers["X-GitHub-Hook-Installation-Target-Type"] = "integration"
        headers["X-GitHub-Hook-Installation-Target-ID"] = str(app_id)
    return headers


def signed_delivery(
    secret: str,
    event: str,
    payload: dict[str, Any],
    *,
    guid: str | None = None,
    app_id: int | None = None,
) -> tuple[bytes, dict[str, str]]:
    """The body and headers of a delivery of `payload`, ready to POST to a webhook URL."""
    body = json.dumps(payload).encode()
    return body, signed_headers(secret, body, event, guid=guid, app_id=app_id)


def _overlay(example: Any, real: Any) -> Any:
    """`real` in the example's form: objects merge key by key, recursively (the example's keys
    first), so fields only webhooks carry survive; anything else takes the real value."""
    if not (isinstance(example, dict) and isinstance(real, dict)):
        return real
    merged = {
        key: _overlay(value, real[key]) if key in real else value for key, value in example.items()
    }
    return merged | {key: value for key, value in real.items() if key not in example}


class WebhookBuilder:
    """Builds payloads for one fake GitHub's state."""

    def __init__(self, state: State, shapes: Shapes) -> None:
        self.state = state
        self.shapes = shapes

    def build(
        self,
        name: str,
        *,
        repo: str | None = None,
        number: int | None = None,
        review_id: int | None = None,
        check_run_id: int | None = None,
        requested_action: str | None = None,
        head_sha: str | None = None,
        ref: str | None = None,
        before: str | None = None,
        after: str | None = None,
        installation_id: int | None = None,
        sender: str | None = None,
    ) -> tuple[str, dict[str, Any]]:
        """(event, payload) for `name`: "event.action" ("pull_request.opened") or "push".

        `repo` ("owner/name") is needed by every event but `installation.*`, which takes
        `installation_id` (by default the repo's installation). Per event: pull_request needs
        `number` (synchronize also takes `before`/`after`, by default the head commit's parent
        and the head); pull_request_review needs `number` and `review_id`; check_run needs
        `check_run_id` (requested_action takes `requested_action`, the button's identifier);
        check_suite takes `head_sha` (default: the default branch's head); merge_group needs
        the `number` of the queued pull request whose group it is; push takes `ref`
        (branch or full ref, default the default branch), `before` and `after`. `sender` is
        the acting login, by default the reviewer, merger or pull request author, else octocat.
        """
        event, _, action = name.partition(".")
        example = examples().get((event, action or None))
        if example is None:
            raise GitHubError(400, f"no example payload for {name!r}")
        found = self._repo(repo) if repo else None
        real: dict[str, Any] = {}
        if found is not None:
            real["repository"] = self.shapes.repo(found)
            real |= self._owner(found)
        if event == "pull_request":
            real |= self._pull_request(found, number, action, before, after)
        elif event == "pull_request_review":
            real |= self._review(found, number, review_id)
        elif event == "check_run":
            real |= self._check_run(found, check_run_id, requested_action)
        elif event == "check_suite":
            real |= self._check_suite(found, head_sha)
        elif event == "merge_group":
            real["merge_group"] = merge_queue.merge_group(*self._pull(found, number))
        elif event == "push":
            real |= self._push(found, ref, before, after)
        elif event in ("installation", "installation_repositories"):
            real |= self._installation(event, found, installation_id)
        installation = self._installation_of(found, installation_id)
        if installation is not None and "installation" not in real:
            real["installation"] = {
                "id": installation.id,
                "node_id": node_id("Installation", installation.id),
            }
        real["sender"] = self.shapes.user(self.state.user(sender or self._sender(real)))
        payload = _overlay(copy.deepcopy(example), real)
        if found is None or found.owner.type != "Organization":
            payload.pop("organization", None)
        if action:
            payload["action"] = action
        return event, payload

    # -- lookups -------------------------------------------------------------------------------

    def _repo(self, full_name: str) -> Repo:
        owner, _, name = full_name.partition("/")
        return self.state.repo(owner, name)

    def _need(self, repo: Repo | None, what: str) -> Repo:
        if repo is None:
            raise GitHubError(400, f"{what} webhooks need a repo")
        return repo

    def _pull(self, repo: Repo | None, number: int | None) -> tuple[Repo, PullRequest]:
        found = self._need(repo, "pull request")
        if number is None:
            raise GitHubError(400, "pull request webhooks need a number")
        return found, self.state.pull(found, number)

    def _installation_of(
        self, repo: Repo | None, installation_id: int | None
    ) -> Installation | None:
        if installation_id is not None:
            return self.state.installation(installation_id)
        return self.state.installation_for(repo) if repo else None

    def _sender(self, real: dict[str, Any]) -> str:
        """Who acted, unless told: the reviewer, the merger or the pull request's author."""
        if "review" in real:
            return str(real["review"]["user"]["login"])
        if "pull_request" in real:
            pull = real["pull_request"]
            return str((pull.get("merged_by") or pull["user"])["login"])
        return DEFAULT_SENDER

    def _owner(self, repo: Repo) -> dict[str, Any]:
        if repo.owner.type != "Organization":
            return {}
        return {"organization": self.shapes.organization(repo.owner)}

    # -- events --------------------------------------------------------------------------------

    def _pull_request(
        self,
        repo: Repo | None,
        number: int | None,
        action: str,
        before: str | None,
        after: str | None,
    ) -> dict[str, Any]:
        found, pull = self._pull(repo, number)
        real = {"number": pull.number, "pull_request": self.shapes.pull(found, pull)}
        if action == "synchronize":  # a push: by default, of the head commit alone
            head = found.git.commit(pull.head_sha)
            real["before"] = before or (head.parents[0] if head.parents else ZERO_SHA)
            real["after"] = after or pull.head_sha
        return real

    def _review(
        self, repo: Repo | None, number: int | None, review_id: int | None
    ) -> dict[str, Any]:
        found, pull = self._pull(repo, number)
        review = next((r for r in pull.reviews if r.id == review_id), None)
        if review is None:
            raise GitHubError(400, f"pull request #{pull.number} has no review {review_id}")
        shape = self.shapes.review(found, pull, review)
        # Webhooks report review states in lower case, the REST API in upper case.
        shape["state"] = review.state.lower()
        return {"review": shape, "pull_request": self.shapes.pull_simple(found, pull)}

    def _suite(self, repo: Repo, head_sha: str) -> dict[str, Any]:
        runs = [run for run in repo.check_runs.values() if run.head_sha == head_sha]
        suite_id = repo.check_suites.get(head_sha) or self.state.next_id()
        repo.check_suites[head_sha] = suite_id
        branch = next(
            (r.removeprefix("refs/heads/") for r, sha in repo.refs.items() if sha == head_sha),
            None,
        )
        commit = repo.git.commit(head_sha)
        app = self.state.require_app()
        done = runs and all(run.status == "completed" for run in runs)
        return {
            "id": suite_id,
            "node_id": node_id("CheckSuite", suite_id),
            "head_branch": branch,
            "head_sha": head_sha,
            "status": "completed" if done else "queued",
            "conclusion": runs[-1].conclusion if done else None,
            "url": f"{self.shapes.repo_api(repo)}/check-suites/{suite_id}",
            "before": commit.parents[0] if commit.parents else ZERO_SHA,
            "after": head_sha,
            "pull_requests": [
                self.shapes.pull_minimal(repo, p)
                for p in repo.pulls.values()
                if p.state == "open" and p.head_sha == head_sha
            ],
            "app": self.shapes.app(app),
            "created_at": timestamp(commit.committer.date),
            "updated_at": timestamp(commit.committer.date),
            "latest_check_runs_count": len(runs),
            "check_runs_url": f"{self.shapes.repo_api(repo)}/check-suites/{suite_id}/check-runs",
            "head_commit": {
                "id": commit.sha,
                "tree_id": commit.tree,
                "message": commit.message,
                "timestamp": timestamp(commit.committer.date),
                "author": {"name": commit.author.name, "email": commit.author.email},
                "committer": {"name": commit.committer.name, "email": commit.committer.email},
            },
        }

    def _check_run(
        self, repo: Repo | None, check_run_id: int | None, requested_action: str | None
    ) -> dict[str, Any]:
        found = self._need(repo, "check run")
        run = found.check_runs.get(check_run_id or -1)
        if run is None:
            raise GitHubError(400, f"{found.full_name} has no check run {check_run_id}")
        shape = self.shapes.check_run(found, run)
        shape["check_suite"] = self._suite(found, run.head_sha)
        real: dict[str, Any] = {"check_run": shape}
        if requested_action is not None:
            real["requested_action"] = {"identifier": requested_action}
        return real

    def _check_suite(self, repo: Repo | None, head_sha: str | None) -> dict[str, Any]:
        found = self._need(repo, "check suite")
        sha = head_sha or found.refs[f"refs/heads/{found.default_branch}"]
        return {"check_suite": self._suite(found, sha)}

    def _push(
        self, repo: Repo | None, ref: str | None, before: str | None, after: str | None
    ) -> dict[str, Any]:
        found = self._need(repo, "push")
        name = ref or found.default_branch
        full_ref = name if name.startswith("refs/") else f"refs/heads/{name}"
        head = after or found.refs.get(full_ref)
        if head is None:
            raise GitHubError(400, f"{found.full_name} has no {full_ref}")
        start = before or (found.git.commit(head).parents or (ZERO_SHA,))[0]
        known = set() if start == ZERO_SHA else set(found.git.ancestors(start))
        shas = [sha for sha in found.git.ancestors(head) if sha not in known]
        commits = [self._push_commit(found, sha) for sha in reversed(shas)]
        pusher = found.git.commit(head).author
        return {
            "ref": full_ref,
            "before": start,
            "after": head,
            "created": start == ZERO_SHA,
            "deleted": False,
            "forced": False,
            "base_ref": None,
            "compare": f"{self.shapes.repo_html(found)}/compare/{start[:12]}...{head[:12]}",
            "commits": commits,
            "head_commit": commits[-1] if commits else None,
            "pusher": {"name": pusher.name, "email": pusher.email},
        }

    def _push_commit(self, repo: Repo, sha: str) -> dict[str, Any]:
        commit = repo.git.commit(sha)
        parent = commit.parents[0] if commit.parents else None
        changes = self.state.diff(
            repo, repo.git.commit(parent).tree if parent else None, commit.tree
        )
        by_status = {
            status: [c.filename for c in changes if c.status == status]
            for status in ("added", "removed", "modified")
        }
        return {
            "id": sha,
            "tree_id": commit.tree,
            "distinct": True,
            "message": commit.message,
            "timestamp": timestamp(commit.committer.date),
            "url": f"{self.shapes.repo_html(repo)}/commit/{sha}",
            "author": {
                "name": commit.author.name,
                "email": commit.author.email,
                "username": commit.author.name,
            },
            "committer": {
                "name": commit.committer.name,
                "email": commit.committer.email,
                "username": commit.committer.name,
            },
            **by_status,
        }

    def _installation(
        self, event: str, repo: Repo | None, installation_id: int | None
    ) -> dict[str, Any]:
        installation = self._installation_of(repo, installation_id)
        if installation is None:
            raise GitHubError(400, f"{event} webhooks need an installation_id or an installed repo")
        listed = [
            {
                "id": r.id,
                "node_id": node_id("Repository", r.id),
                "name": r.name,
                "full_name": r.full_name,
                "private": r.private,
            }
            for r in self.state.repos.values()
            if r.full_name in installation.repositories and (repo is None or r is repo)
        ]
        real: dict[str, Any] = {"installation": self.shapes.installation(installation)}
        if event == "installation":
            real["repositories"] = listed
        else:
            real |= {
                "repository_selection": "selected",
                "repositories_added": listed,
                "repositories_removed": [],
            }
        real["requester"] = None
        return real


def receives(app: App, event: str) -> bool:
    """Whether GitHub sends `event` to `app`: those it subscribes to, and the ones every App
    gets unasked (/en/webhooks/webhook-events-and-payloads#installation)."""
    subscribed = DEFAULT_SUBSCRIPTIONS if app.events is None else app.events
    return event in subscribed or event in UNSUPPORTED_EVENTS


async def deliver(
    state: State,
    session: aiohttp.ClientSession,
    event: str,
    payload: dict[str, Any],
    *,
    guid: str | None = None,
    redelivery: bool = False,
) -> Delivery:
    """POST a signed delivery to the App's webhook URL and record how it went."""
    app = state.require_app()
    if not app.webhook_url or not app.webhook_secret:
        raise GitHubError(400, "register the App with a webhook_url and webhook_secret first")
    if not receives(app, event):
        raise GitHubError(400, f"GitHub does not send {event} to an App not subscribed to it")
    body, headers = signed_delivery(app.webhook_secret, event, payload, guid=guid, app_id=app.id)
    started = time.monotonic()
    try:
        async with session.post(
            app.webhook_url,
            data=body,
            headers=headers,
            timeout=aiohttp.ClientTimeout(total=DELIVERY_TIMEOUT),
        ) as response:
            code = response.status
        status = "OK" if code < 400 else f"Invalid HTTP Response: {code}"
    except (aiohttp.ClientError, TimeoutError) as error:
        code, status = 0, f"failed to connect to host: {type(error).__name__}"
    return state.record_delivery(
        headers["X-GitHub-Delivery"],
        event,
        payload,
        redelivery=redelivery,
        status_code=code,
        status=status,
        duration=round(time.monotonic() - started, 3),
    )
