"""GitHub's merge queue, as apps see it.

Per GitHub's docs ("Managing a merge queue"; the `merge_group` webhook): queuing a pull request
makes a merge group, a temporary branch `gh-readonly-queue/{base}/pr-{number}-{sha}` holding the
pull request merged onto the base branch and every group ahead of it in the queue, and sends
`merge_group` (`checks_requested`) with the group's `head_sha`, `head_ref`, `base_sha` (the
commit the group sits on) and `base_ref`. When the required checks pass, GitHub fast-forwards
the base branch to the group's head, deletes the temporary branch and closes the pull request
as merged, its merge commit being the group's head. The queue is kept in the refs themselves:
the entries of a base branch are its `gh-readonly-queue/` refs, in the order their heads
descend from each other.
"""

from __future__ import annotations

from typing import Any

from tests.support.fake_github.diffs import merge_trees
from tests.support.fake_github.gitstore import Signature
from tests.support.fake_github.model import PullRequest, Repo, User
from tests.support.fake_github.shapes import timestamp
from tests.support.fake_github.state import WEB_FLOW, GitHubError, State, signature

PREFIX = "refs/heads/gh-readonly-queue/"


def entries(repo: Repo, base_ref: str) -> list[tuple[str, str]]:
    """The queue of `base_ref` as (ref, head sha), first in line first."""
    queued = [(ref, sha) for ref, sha in repo.refs.items() if ref.startswith(_prefix(base_ref))]
    return sorted(queued, key=lambda entry: len(list(repo.git.ancestors(entry[1]))))


def _prefix(base_ref: str) -> str:
    return f"{PREFIX}{base_ref}/pr-"


def queued(repo: Repo, pull: PullRequest) -> tuple[str, str] | None:
    """`pull`'s queue entry (ref, head sha), if it is queued."""
    mine = f"{_prefix(pull.base_ref)}{pull.number}-"
    return next((e for e in entries(repo, pull.base_ref) if e[0].startswith(mine)), None)


def entry_of(repo: Repo, pull: PullRequest) -> tuple[str, str]:
    found = queued(repo, pull)
    if found is None:
        raise GitHubError(422, f"pull request #{pull.number} is not in the merge queue")
    return found


def enqueue(state: State, repo: Repo, pull: PullRequest, user: User) -> str:
    """Queue `pull`: a merge commit of it onto the last group (or the base branch) on a new
    temporary branch; that branch's full ref."""
    if pull.state != "open":
        raise GitHubError(422, "Pull request is not open")
    if queued(repo, pull) is not None:
        raise GitHubError(422, "Pull request is already queued to merge")
    queue = entries(repo, pull.base_ref)
    base_sha = queue[-1][1] if queue else repo.refs[f"refs/heads/{pull.base_ref}"]
    merge_base = repo.git.merge_base(base_sha, pull.head_sha)
    files = merge_trees(
        repo.git,
        repo.git.commit(merge_base).tree if merge_base else None,
        repo.git.commit(base_sha).tree,
        repo.git.commit(pull.head_sha).tree,
    )
    if files is None:
        raise GitHubError(422, "Pull request has conflicts with the merge queue")
    now = state.now()
    message = (
        f"Merge pull request #{pull.number} from {repo.owner.login}/{pull.head_ref}\n\n{pull.title}"
    )
    head = repo.git.put_commit(
        repo.git.build(files),
        (base_sha, pull.head_sha),
        message,
        signature(user, now),
        Signature(*WEB_FLOW, now),
    )
    ref = f"{_prefix(pull.base_ref)}{pull.number}-{base_sha}"
    state.move_ref(repo, ref, head)
    return ref


def land(state: State, repo: Repo, pull: PullRequest, user: User) -> str:
    """The group of `pull`, first in line, passed its checks: fast-forward the base branch to
    its head, drop its temporary branch, close `pull` as merged by that head; the head's sha."""
    ref, head = entry_of(repo, pull)
    if entries(repo, pull.base_ref)[0][0] != ref:
        raise GitHubError(422, f"pull request #{pull.number} is not first in the merge queue")
    base = f"refs/heads/{pull.base_ref}"
    state.move_ref(repo, base, head)
    del repo.refs[ref]
    now = state.now()
    pull.state, pull.merged_at, pull.closed_at, pull.updated_at = "closed", now, now, now
    pull.merge_commit_sha, pull.merged_by = head, user
    return head


def merge_group(repo: Repo, pull: PullRequest) -> dict[str, Any]:
    """The `merge_group` object of the webhook for `pull`'s queue entry."""
    ref, head = entry_of(repo, pull)
    commit = repo.git.commit(head)
    return {
        "head_sha": head,
        "head_ref": ref,
        "base_sha": commit.parents[0],
        "base_ref": f"refs/heads/{pull.base_ref}",
        "head_commit": {
            "id": head,
            "tree_id": commit.tree,
            "message": commit.message,
            "timestamp": timestamp(commit.committer.date),
            "author": {"name": commit.author.name, "email": commit.author.email},
            "committer": {"name": commit.committer.name, "email": commit.committer.email},
        },
    }
