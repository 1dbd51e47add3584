"""Branch rules: repository rulesets and classic branch protection, as GitHub enforces them on
an App's ref updates, and the REST endpoints that read them.

A test sets them through the control API (`add_ruleset`, `protect_branch`); pushes the test
makes itself (control `commit`) stand for people with admin rights and are not checked.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from tests.support.fake_github.keys import CREDENTIAL, JSON, SHAPES, STATE
from tests.support.fake_github.model import Repo, Ruleset
from tests.support.fake_github.responses import json_response, paged_response
from tests.support.fake_github.state import GitHubError, State

# The rule types that stop a direct ref update, and GitHub's words for each (docs path:
# /en/repositories/configuring-branches-and-merges-in-your-repository/managing-rulesets/
# available-rules-for-rulesets).
PUSH_RULE_MESSAGES = {
    "pull_request": "Changes must be made through a pull request.",
    "required_status_checks": "Required status check{s} {names} {are} expected.",
    "update": "Cannot update this protected ref.",
}
routes = web.RouteTableDef()


def _green_checks(repo: Repo, sha: str) -> set[str]:
    return {
        run.name
        for run in repo.check_runs.values()
        if run.head_sha == sha and run.conclusion in ("success", "neutral", "skipped")
    }


def _missing_checks(repo: Repo, sha: str, names: list[str]) -> str | None:
    missing = [name for name in names if name not in _green_checks(repo, sha)]
    if not missing:
        return None
    plural = len(missing) > 1
    return PUSH_RULE_MESSAGES["required_status_checks"].format(
        s="s" if plural else "",
        names=", ".join(f'"{name}"' for name in missing),
        are="are" if plural else "is",
    )


def _rule_violations(repo: Repo, ruleset: Ruleset, sha: str) -> list[str]:
    found = []
    for rule in ruleset.rules:
        if rule["type"] == "required_status_checks":
            names = [c["context"] for c in rule["parameters"]["required_status_checks"]]
            message = _missing_checks(repo, sha, names)
            if message:
                found.append(message)
        elif rule["type"] in PUSH_RULE_MESSAGES:
            found.append(PUSH_RULE_MESSAGES[rule["type"]])
    return found


def push_refusal(state: State, repo: Repo, branch: str, sha: str) -> str | None:
    """GitHub's 422 message when the App may not move `branch` to `sha`, None when it may."""
    app = state.require_app()
    rules = repo.branch_rules
    violations = [
        message
        for ruleset in rules.rulesets_for(branch, repo.default_branch)
        if app.id not in ruleset.bypass_apps
        for message in _rule_violations(repo, ruleset, sha)
    ]
    if violations:
        # /en/rest/git/refs#update-a-reference answers rule violations like a push does.
        return "Repository rule violations found\n\n" + "\n\n".join(violations) + "\n\n"
    protection = rules.protections.get(branch)
    if protection is not None and (
        (protection.require_pull_request and app.slug not in protection.bypass_apps)
        or _missing_checks(repo, sha, protection.required_checks)
    ):
        return f"Protected branch update failed for refs/heads/{branch}."
    return None


def merge_refusal(repo: Repo, base: str, sha: str) -> str | None:
    """GitHub's 405 message when the base branch's required checks are not green on `sha`
    (/en/rest/pulls/pulls#merge-a-pull-request), None when the merge may go ahead."""
    names = [
        c["context"]
        for ruleset in repo.branch_rules.rulesets_for(base, repo.default_branch)
        for rule in ruleset.rules
        if rule["type"] == "required_status_checks"
        for c in rule["parameters"]["required_status_checks"]
    ]
    protection = repo.branch_rules.protections.get(base)
    names += protection.required_checks if protection is not None else []
    return _missing_checks(repo, sha, list(dict.fromkeys(names)))


# -- shapes ----------------------------------------------------------------------------------


def _rule_shape(repo: Repo, ruleset: Ruleset, rule: dict[str, Any]) -> dict[str, Any]:
    source = {
        "ruleset_source_type": "Repository",
        "ruleset_source": repo.full_name,
        "ruleset_id": ruleset.id,
    }
    return rule | source


def _ruleset_shape(
    request: web.Request, repo: Repo, ruleset: Ruleset, app_id: int | None
) -> dict[str, Any]:
    api = request.app[SHAPES].repo_api(repo)
    return {
        "id": ruleset.id,
        "name": ruleset.name,
        "target": "branch",
        "source_type": "Repository",
        "source": repo.full_name,
        "enforcement": "active",
        "bypass_actors": [
            {"actor_id": i, "actor_type": "Integration", "bypass_mode": "always"}
            for i in ruleset.bypass_apps
        ],
        "current_user_can_bypass": "always" if app_id in ruleset.bypass_apps else "never",
        "node_id": f"RRS_{ruleset.id}",
        "_links": {"self": {"href": f"{api}/rulesets/{ruleset.id}"}},
        "conditions": {"ref_name": {"include": ruleset.include, "exclude": []}},
        "rules": ruleset.rules,
    }


def _protection_shape(request: web.Request, repo: Repo, branch: str) -> dict[str, Any]:
    protection = repo.branch_rules.protections[branch]
    url = f"{request.app[SHAPES].repo_api(repo)}/branches/{branch}/protection"
    shape: dict[str, Any] = {
        "url": url,
        "enabled": True,
        "required_status_checks": {
            "url": f"{url}/required_status_checks",
            "enforcement_level": "non_admins",
            "contexts": protection.required_checks,
            "checks": [{"context": name, "app_id": None} for name in protection.required_checks],
            "contexts_url": f"{url}/required_status_checks/contexts",
            "strict": False,
        },
    }
    if protection.require_pull_request:
        shape["required_pull_request_reviews"] = {
            "url": f"{url}/required_pull_request_reviews",
            "dismiss_stale_reviews": False,
            "require_code_owner_reviews": False,
            "required_approving_review_count": 1,
            "bypass_pull_request_allowances": {"users": [], "teams": [], "apps": []},
        }
    return shape


# -- endpoints -------------------------------------------------------------------------------


def _repo(request: web.Request) -> Repo:
    return request.app[STATE].repo(request.match_info["owner"], request.match_info["repo"])


def _app_id(request: web.Request) -> int | None:
    """The App asking, when an installation token or the App's JWT asks."""
    credential = request[CREDENTIAL]
    app = request.app[STATE].app
    return app.id if app is not None and credential.user is None else None


@routes.put("/repos/{owner}/{repo}/pulls/{pull_number}/merge")
async def merge_pull_request(request: web.Request) -> web.Response:
    state, repo = request.app[STATE], _repo(request)
    pull = state.pull(repo, int(request.match_info["pull_number"]))
    body = request[JSON] or {}
    if body.get("sha") not in (None, pull.head_sha):
        raise GitHubError(409, "Head branch was modified. Review and try the merge again.")
    refusal = merge_refusal(repo, pull.base_ref, pull.head_sha)
    if refusal is not None:
        raise GitHubError(405, refusal)
    credential = request[CREDENTIAL]
    merger = credential.user or state.require_app().bot
    method = str(body.get("merge_method", "merge"))
    sha = state.merge_pull(repo, pull, method=method, user=merger)
    return json_response(
        {"sha": sha, "merged": True, "message": "Pull Request successfully merged"}
    )


@routes.get("/repos/{owner}/{repo}/rules/branches/{branch}")
async def get_branch_rules(request: web.Request) -> web.Response:
    repo = _repo(request)
    branch = request.match_info["branch"]
    rules = [
        _rule_shape(repo, ruleset, rule)
        for ruleset in repo.branch_rules.rulesets_for(branch, repo.default_branch)
        for rule in ruleset.rules
    ]
    return paged_response(request, rules)


@routes.get("/repos/{owner}/{repo}/rulesets/{ruleset_id}")
async def get_ruleset(request: web.Request) -> web.Response:
    repo = _repo(request)
    ruleset = repo.branch_rules.rulesets.get(int(request.match_info["ruleset_id"]))
    if ruleset is None:
        raise GitHubError(404, "Not Found")
    return json_response(_ruleset_shape(request, repo, ruleset, _app_id(request)))


@routes.get("/repos/{owner}/{repo}/branches/{branch}/protection")
async def get_protection(request: web.Request) -> web.Response:
    repo, branch = _repo(request), request.match_info["branch"]
    app = request.app[STATE].app
    permissions = (app.permissions if app else None) or {}
    # Reading protection takes the Administration permission
    # (/en/rest/branches/branch-protection#get-branch-protection).
    if _app_id(request) is not None and "administration" not in permissions:
        raise GitHubError(403, "Resource not accessible by integration")
    if branch not in repo.branch_rules.protections:
        raise GitHubError(404, "Branch not protected")
    return json_response(_protection_shape(request, repo, branch))


@routes.get("/repos/{owner}/{repo}/branches/{branch}")
async def get_branch(request: web.Request) -> web.Response:
    repo, branch = _repo(request), request.match_info["branch"]
    sha = repo.refs.get(f"refs/heads/{branch}")
    if sha is None:
        raise GitHubError(404, "Branch not found")
    shapes = request.app[SHAPES]
    url = f"{shapes.repo_api(repo)}/branches/{branch}"
    protected = branch in repo.branch_rules.protections
    # Without admin rights GitHub shows only the required status checks of the protection.
    summary = _protection_shape(request, repo, branch) if protected else {"enabled": False}
    summary = {key: summary[key] for key in ("enabled", "required_status_checks") if key in summary}
    return json_response(
        {
            "name": branch,
            "commit": shapes.commit(repo, repo.git.commit(sha)),
            "_links": {"html": f"{shapes.repo_html(repo)}/tree/{branch}", "self": url},
            "protected": protected,
            "protection": summary,
            "protection_url": f"{url}/protection",
        }
    )
