"""The REST endpoints the App uses, answering as GitHub does.

By the time a handler runs, middleware has validated the request against GitHub's description
(`request[PARAMS]` holds typed query parameters, `request[JSON]` the body) and checked the
caller's credential (`request[CREDENTIAL]`), including its access to the repository.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from datetime import datetime
from typing import Any

from aiohttp import web

from tests.support.fake_github.branch_rules import push_refusal
from tests.support.fake_github.gitstore import Entry, GitError, Signature
from tests.support.fake_github.keys import CREDENTIAL, JSON, PARAMS, REDELIVER, SHAPES, STATE
from tests.support.fake_github.model import CheckRun, Comment, PullRequest, Repo, User
from tests.support.fake_github.responses import json_response, paged_response, paginate
from tests.support.fake_github.shapes import APP_PERMISSIONS, Shapes, timestamp, wrapped_base64
from tests.support.fake_github.state import WEB_FLOW, GitHubError, State, signature

MAX_PULL_FILES = 3000  # GitHub lists at most this many files of a pull request
MAX_CONTENT_BYTES = 1024 * 1024  # the contents API inlines files up to 1 MB
MAX_BLOB_BYTES = 100 * 1024 * 1024
RAW_MEDIA_TYPES = ("application/vnd.github.raw", "application/vnd.github.v3.raw")

routes = web.RouteTableDef()


def _state(request: web.Request) -> State:
    return request.app[STATE]


def _shapes(request: web.Request) -> Shapes:
    return request.app[SHAPES]


def _body(request: web.Request) -> dict[str, Any]:
    body: dict[str, Any] = request.get(JSON) or {}
    return body


def _repo(request: web.Request) -> Repo:
    return _state(request).repo(request.match_info["owner"], request.match_info["repo"])


def _pull(request: web.Request) -> tuple[Repo, PullRequest]:
    repo = _repo(request)
    return repo, _state(request).pull(repo, int(request.match_info["pull_number"]))


def _bot(request: web.Request) -> User:
    """The App's bot account, which acts for installation tokens."""
    return _state(request).require_app().bot


# -- the App ---------------------------------------------------------------------------------


@routes.get("/app")
async def get_app(request: web.Request) -> web.Response:
    return json_response(_shapes(request).app(_state(request).require_app()))


@routes.get("/app/installations")
async def list_installations(request: web.Request) -> web.Response:
    installations = sorted(_state(request).installations.values(), key=lambda i: i.id)
    shapes = _shapes(request)
    return paged_response(request, [shapes.installation(i) for i in installations])


@routes.post("/app/installations/{installation_id}/access_tokens")
async def create_token(request: web.Request) -> web.Response:
    state = _state(request)
    installation = state.installation(int(request.match_info["installation_id"]))
    body = _body(request)
    names: list[str] | None = body.get("repositories")
    if "repository_ids" in body:
        by_id = {repo.id: repo.name for repo in state.repos.values()}
        if any(i not in by_id for i in body["repository_ids"]):
            raise GitHubError(422, "There is at least one repository that does not exist")
        names = [*(names or []), *(by_id[i] for i in body["repository_ids"])]
    token = state.issue_token(installation, names)
    return json_response(
        {
            "token": token.value,
            "expires_at": timestamp(token.expires_at),
            "permissions": body.get("permissions", APP_PERMISSIONS),
            "repository_selection": "selected",
        },
        status=201,
    )


@routes.post("/app-manifests/{code}/conversions")
async def convert_manifest(request: web.Request) -> web.Response:
    app, private_key = _state(request).convert_manifest(request.match_info["code"])
    secrets = {
        "client_id": app.client_id,
        "client_secret": app.client_secret,
        "webhook_secret": app.webhook_secret,
        "pem": private_key,
    }
    return json_response(_shapes(request).app(app) | secrets, status=201)


@routes.get("/repos/{owner}/{repo}/installation")
async def get_repo_installation(request: web.Request) -> web.Response:
    installation = _state(request).installation_for(_repo(request))
    if installation is None:
        raise GitHubError(404, "Not Found")
    return json_response(_shapes(request).installation(installation))


@routes.get("/installation/repositories")
async def list_installation_repos(request: web.Request) -> web.Response:
    state, token = _state(request), request[CREDENTIAL].token
    assert token is not None
    repos = sorted(
        (r for r in state.repos.values() if state.can_access(token, r)), key=lambda r: r.id
    )
    chunk, headers = paginate(request, repos)
    body = {
        "total_count": len(repos),
        "repositories": [_shapes(request).repo(r) for r in chunk],
        "repository_selection": "selected",
    }
    return json_response(body, headers=headers)


@routes.get("/app/hook/deliveries")
async def list_deliveries(request: web.Request) -> web.Response:
    params = request[PARAMS]
    deliveries = sorted(_state(request).deliveries, key=lambda d: d.id, reverse=True)
    if "status" in params:
        # GitHub counts 200-399 as success; an unreachable App (no status code) is a failure.
        wanted = params["status"] == "success"
        deliveries = [d for d in deliveries if (200 <= d.status_code < 400) == wanted]
    cursor = str(params.get("cursor", ""))
    if cursor:
        start = int(cursor.removeprefix("v1_"))
        deliveries = [d for d in deliveries if d.id <= start]
    per_page = max(1, min(params.get("per_page", 30), 100))
    page, rest = deliveries[:per_page], deliveries[per_page:]
    headers = {}
    if rest:
        following = request.url.update_query(per_page=str(per_page), cursor=f"v1_{rest[0].id}")
        headers["Link"] = f'<{following}>; rel="next"'
    return json_response([_shapes(request).delivery(d) for d in page], headers=headers)


@routes.post("/app/hook/deliveries/{delivery_id}/attempts")
async def redeliver(request: web.Request) -> web.Response:
    delivery = _state(request).delivery(int(request.match_info["delivery_id"]))
    request.app[REDELIVER](delivery.id)
    return json_response({}, status=202)


# -- the signed-in user (user access tokens) -------------------------------------------------


def _user(request: web.Request) -> User:
    user = request[CREDENTIAL].user
    if user is None:  # an App or installation credential: GitHub has no user to show
        raise GitHubError(403, "Resource not accessible by integration")
    return user


@routes.get("/user")
async def get_authenticated_user(request: web.Request) -> web.Response:
    return json_response(_shapes(request).public_user(_user(request)))


@routes.get("/user/memberships/orgs/{org}")
async def get_own_org_membership(request: web.Request) -> web.Response:
    state, user = _state(request), _user(request)
    org = state.users.get(request.match_info["org"].lower())
    role = state.org_role(org.login, user.login) if org is not None else None
    if org is None or role is None:
        raise GitHubError(404, "Not Found")
    return json_response(_shapes(request).org_membership(org, user, role))


# -- repositories and pull requests ---------------------------------------------------------


@routes.get("/repos/{owner}/{repo}")
async def get_repo(request: web.Request) -> web.Response:
    return json_response(_shapes(request).repo(_repo(request)))


@routes.get("/repos/{owner}/{repo}/pulls")
async def list_pulls(request: web.Request) -> web.Response:
    repo, params = _repo(request), request[PARAMS]
    wanted = params.get("state", "open")
    pulls = [p for p in repo.pulls.values() if wanted in ("all", p.state)]
    if "head" in params:
        owner, _, branch = str(params["head"]).rpartition(":")
        if owner.lower() == repo.owner.login.lower():
            pulls = [p for p in pulls if p.head_ref == branch]
        else:
            pulls = []
    if "base" in params:
        pulls = [p for p in pulls if p.base_ref == params["base"]]
    sort = params.get("sort", "created")
    key: Callable[[PullRequest], datetime] = (
        (lambda p: p.updated_at) if sort == "updated" else (lambda p: p.created_at)
    )
    descending = params.get("direction", "desc" if sort == "created" else "asc") == "desc"
    pulls.sort(key=lambda p: (key(p), p.number), reverse=descending)
    shapes = _shapes(request)
    return paged_response(request, [shapes.pull_simple(repo, p) for p in pulls])


@routes.post("/repos/{owner}/{repo}/pulls")
async def create_pull(request: web.Request) -> web.Response:
    repo, body = _repo(request), _body(request)
    if "title" not in body:
        raise GitHubError(
            422,
            "Validation Failed",
            [{"resource": "PullRequest", "field": "title", "code": "missing_field"}],
        )
    pull = _state(request).open_pull(
        repo,
        body["head"],
        body["base"],
        title=body["title"],
        body=body.get("body"),
        user=_bot(request),
        draft=body.get("draft", False),
    )
    return json_response(_shapes(request).pull(repo, pull), status=201)


@routes.get("/repos/{owner}/{repo}/pulls/{pull_number}")
async def get_pull(request: web.Request) -> web.Response:
    repo, pull = _pull(request)
    return json_response(_shapes(request).pull(repo, pull))


@routes.get("/repos/{owner}/{repo}/pulls/{pull_number}/files")
async def list_pull_files(request: web.Request) -> web.Response:
    repo, pull = _pull(request)
    changes = _state(request).pull_changes(repo, pull)
    chunk, headers = paginate(request, changes, limit=MAX_PULL_FILES)
    shapes = _shapes(request)
    return json_response(
        [shapes.file_change(repo, pull.head_sha, change) for change in chunk], headers=headers
    )


@routes.get("/repos/{owner}/{repo}/pulls/{pull_number}/reviews")
async def list_reviews(request: web.Request) -> web.Response:
    repo, pull = _pull(request)
    shapes = _shapes(request)
    return paged_response(request, [shapes.review(repo, pull, r) for r in pull.reviews])


@routes.get("/repos/{owner}/{repo}/pulls/{pull_number}/requested_reviewers")
async def list_requested_reviewers(request: web.Request) -> web.Response:
    state, shapes = _state(request), _shapes(request)
    repo, pull = _pull(request)
    return json_response(
        {
            "users": [shapes.user(state.user(login)) for login in pull.requested_users],
            "teams": [shapes.team(state.team(repo.owner.login, s)) for s in pull.requested_teams],
        }
    )


@routes.post("/repos/{owner}/{repo}/pulls/{pull_number}/requested_reviewers")
async def request_reviewers(request: web.Request) -> web.Response:
    repo, pull = _pull(request)
    body = _body(request)
    users, teams = body.get("reviewers", []), body.get("team_reviewers", [])
    _state(request).request_reviewers(repo, pull, users, teams)
    return json_response(_shapes(request).pull_simple(repo, pull), status=201)


# -- contents and Git data -------------------------------------------------------------------


def _wants_raw(request: web.Request) -> bool:
    accept = request.headers.get("Accept", "")
    return any(media in accept for media in RAW_MEDIA_TYPES)


@routes.get("/repos/{owner}/{repo}/contents/{path:.*}")
async def get_content(request: web.Request) -> web.Response:
    state, shapes, repo = _state(request), _shapes(request), _repo(request)
    ref = str(request[PARAMS].get("ref", repo.default_branch))
    path = request.match_info["path"].strip("/")
    entry = repo.git.lookup(state.tree_of(repo, ref), path)
    if entry is None:
        raise GitHubError(404, "Not Found")
    if entry.type == "tree":
        items = sorted(repo.git.tree(entry.sha).items())
        return json_response(
            [shapes.content(repo, f"{path}/{name}".lstrip("/"), e, ref) for name, e in items]
        )
    data = repo.git.blob(entry.sha) if entry.type == "blob" else b""
    if len(data) > MAX_BLOB_BYTES:
        raise GitHubError(
            403,
            "This API returns blobs up to 100 MB in size. The requested blob is too large.",
            [{"resource": "Blob", "field": "data", "code": "too_large"}],
        )
    if _wants_raw(request):
        return web.Response(body=data, content_type="application/octet-stream")
    shape = shapes.content(repo, path, entry, ref)
    if len(data) > MAX_CONTENT_BYTES:
        shape |= {"content": "", "encoding": "none"}  # too big to inline: use raw or blobs
    else:
        shape |= {"content": wrapped_base64(data), "encoding": "base64"}
    return json_response(shape)


@routes.get("/repos/{owner}/{repo}/git/blobs/{file_sha}")
async def get_blob(request: web.Request) -> web.Response:
    repo = _repo(request)
    return json_response(_shapes(request).blob(repo, request.match_info["file_sha"]))


@routes.post("/repos/{owner}/{repo}/git/blobs")
async def create_blob(request: web.Request) -> web.Response:
    repo, body = _repo(request), _body(request)
    encoding = body.get("encoding", "utf-8")
    if encoding == "base64":
        try:
            data = base64.b64decode(body["content"], validate=False)
        except binascii.Error as error:
            raise GitHubError(422, "Invalid base64 content") from error
    elif encoding in ("utf-8", "utf8"):
        data = body["content"].encode()
    else:
        raise GitHubError(422, f"encoding must be utf-8 or base64, not {encoding!r}")
    sha = repo.git.put_blob(data)
    url = f"{_shapes(request).repo_api(repo)}/git/blobs/{sha}"
    return json_response({"url": url, "sha": sha}, status=201)


@routes.get("/repos/{owner}/{repo}/git/trees/{tree_sha:.+}")
async def get_tree(request: web.Request) -> web.Response:
    state, repo = _state(request), _repo(request)
    sha = request.match_info["tree_sha"]
    if sha not in repo.git.trees:
        sha = state.tree_of(repo, sha)
    # GitHub recurses when `recursive` has any value at all, even "0" or "false".
    recursive = "recursive" in request[PARAMS]
    return json_response(_shapes(request).tree(repo, sha, recursive=recursive))


def _tree_files(repo: Repo, body: dict[str, Any]) -> dict[str, Entry]:
    """The files of the tree `POST .../git/trees` describes."""
    git = repo.git
    try:
        files = dict(git.files(body["base_tree"])) if "base_tree" in body else {}
    except GitError as error:
        raise GitHubError(422, "Invalid base_tree") from error
    for item in body["tree"]:
        path = item["path"].strip("/")
        below = [p for p in files if p == path or p.startswith(path + "/")]
        if "sha" in item and item["sha"] is None:
            if not below:
                raise GitHubError(422, f"GitRPC::BadObjectState: {path} does not exist")
            for name in below:
                del files[name]
            continue
        kind, mode = item.get("type", "blob"), item.get("mode", "100644")
        if "content" in item:
            files[path] = Entry(mode, "blob", git.put_blob(item["content"].encode()))
            continue
        # A submodule's commit lives in another repository, so only blobs and trees are checked.
        if "sha" not in item or (kind != "commit" and git.kind(item["sha"]) != kind):
            raise GitHubError(422, f"GitRPC::BadObjectState: no {kind} for {path}")
        for name in below:
            del files[name]
        if kind == "tree":
            files |= {f"{path}/{p}": e for p, e in git.files(item["sha"]).items()}
        else:
            files[path] = Entry(mode if kind == "blob" else "160000", kind, item["sha"])
    return files


@routes.post("/repos/{owner}/{repo}/git/trees")
async def create_tree(request: web.Request) -> web.Response:
    repo = _repo(request)
    sha = repo.git.build(_tree_files(repo, _body(request)))
    return json_response(_shapes(request).tree(repo, sha, recursive=False), status=201)


@routes.get("/repos/{owner}/{repo}/git/commits/{commit_sha}")
async def get_git_commit(request: web.Request) -> web.Response:
    repo = _repo(request)
    commit = repo.git.commit(request.match_info["commit_sha"])
    return json_response(_shapes(request).git_commit(repo, commit))


def _person(raw: dict[str, str] | None, default: Signature) -> Signature:
    if raw is None:
        return default
    when = datetime.fromisoformat(raw["date"]) if "date" in raw else default.date
    return Signature(raw["name"], raw["email"], when)


@routes.post("/repos/{owner}/{repo}/git/commits")
async def create_git_commit(request: web.Request) -> web.Response:
    state, repo, body = _state(request), _repo(request), _body(request)
    if body["tree"] not in repo.git.trees:
        raise GitHubError(422, "Tree SHA does not exist")
    parents = tuple(body.get("parents", []))
    if any(p not in repo.git.commits for p in parents):
        raise GitHubError(422, "Parent SHA does not exist or is not a commit object")
    now = state.now()
    # Without an author GitHub commits as the App's bot and signs as itself (Verified).
    author = _person(body.get("author"), signature(_bot(request), now))
    default_committer = Signature(*WEB_FLOW, now) if "author" not in body else author
    committer = _person(body.get("committer"), default_committer)
    sha = repo.git.put_commit(body["tree"], parents, body["message"], author, committer)
    return json_response(_shapes(request).git_commit(repo, repo.git.commit(sha)), status=201)


@routes.get("/repos/{owner}/{repo}/git/ref/{ref:.+}")
async def get_ref(request: web.Request) -> web.Response:
    repo = _repo(request)
    ref = "refs/" + request.match_info["ref"]
    if ref not in repo.refs:
        raise GitHubError(404, "Not Found")
    return json_response(_shapes(request).ref(repo, ref, repo.refs[ref]))


@routes.patch("/repos/{owner}/{repo}/git/refs/{ref:.+}")
async def update_ref(request: web.Request) -> web.Response:
    state, repo, body = _state(request), _repo(request), _body(request)
    name = request.match_info["ref"].removeprefix("refs/")
    refusal = name.startswith("heads/") and push_refusal(
        state, repo, name.removeprefix("heads/"), body["sha"]
    )
    if refusal:
        raise GitHubError(422, refusal)
    ref = state.update_ref(repo, name, body["sha"], force=body.get("force", False))
    return json_response(_shapes(request).ref(repo, ref, repo.refs[ref]))


@routes.post("/repos/{owner}/{repo}/git/refs")
async def create_ref(request: web.Request) -> web.Response:
    repo, body = _repo(request), _body(request)
    _state(request).create_ref(repo, body["ref"], body["sha"])
    return json_response(_shapes(request).ref(repo, body["ref"], body["sha"]), status=201)


@routes.get("/repos/{owner}/{repo}/compare/{basehead:.+}")
async def compare(request: web.Request) -> web.Response:
    state, shapes, repo = _state(request), _shapes(request), _repo(request)
    base_name, separator, head_name = request.match_info["basehead"].partition("...")
    base, head = state.resolve(repo, base_name), state.resolve(repo, head_name)
    if not separator or base is None or head is None:
        raise GitHubError(404, "Not Found")
    merge_base, changes = state.compare(repo, base, head)
    reachable_from_base = set(repo.git.ancestors(base))
    reachable_from_head = set(repo.git.ancestors(head))
    ahead = [s for s in repo.git.ancestors(head) if s not in reachable_from_base]
    behind = len(reachable_from_base - reachable_from_head)
    status = {
        (False, False): "identical",
        (True, False): "ahead",
        (False, True): "behind",
        (True, True): "diverged",
    }[(bool(ahead), bool(behind))]
    html = f"{shapes.repo_html(repo)}/compare/{base_name}...{head_name}"
    commits = [shapes.commit(repo, repo.git.commit(s)) for s in reversed(ahead)]
    chunk, headers = paginate(request, commits)
    return json_response(
        {
            "url": f"{shapes.repo_api(repo)}/compare/{base_name}...{head_name}",
            "html_url": html,
            "permalink_url": f"{shapes.repo_html(repo)}/compare/{base}...{head}",
            "diff_url": f"{html}.diff",
            "patch_url": f"{html}.patch",
            "base_commit": shapes.commit(repo, repo.git.commit(base)),
            "merge_base_commit": shapes.commit(repo, repo.git.commit(merge_base or base)),
            "status": status,
            "ahead_by": len(ahead),
            "behind_by": behind,
            "total_commits": len(ahead),
            "commits": chunk,
            "files": [shapes.file_change(repo, head, c) for c in changes],
        },
        headers=headers,
    )


# -- check runs ------------------------------------------------------------------------------


def _apply_check_fields(state: State, run: CheckRun, body: dict[str, Any]) -> None:
    """Apply a create or update request. Annotations append, as on GitHub; more than 50 in one
    request never get here, since GitHub's description caps them (`maxItems`)."""
    conclusion = body.get("conclusion", run.conclusion)
    status = "completed" if "conclusion" in body else body.get("status", run.status)
    if status == "completed" and conclusion is None:
        raise GitHubError(422, 'Invalid request.\n\n"conclusion" wasn\'t supplied.')
    for key in ("name", "details_url", "external_id", "actions"):
        if key in body:
            setattr(run, key, body[key])
    if "started_at" in body:
        run.started_at = datetime.fromisoformat(body["started_at"])
    if "completed_at" in body:
        run.completed_at = datetime.fromisoformat(body["completed_at"])
    elif status == "completed" and run.status != "completed":
        run.completed_at = state.now()
    run.status, run.conclusion = status, conclusion
    output = body.get("output", {})
    run.output |= {key: output[key] for key in ("title", "summary", "text") if key in output}
    run.annotations += output.get("annotations", [])


@routes.post("/repos/{owner}/{repo}/check-runs")
async def create_check_run(request: web.Request) -> web.Response:
    state, repo, body = _state(request), _repo(request), _body(request)
    if body["head_sha"] not in repo.git.commits:
        raise GitHubError(422, f"No commit found for SHA: {body['head_sha']}")
    suite = repo.check_suites.setdefault(body["head_sha"], state.next_id())
    run = CheckRun(
        state.next_id(),
        body["name"],
        body["head_sha"],
        suite,
        state.require_app().id,
        "queued",
        None,
        state.now(),
        None,
        body.get("external_id", ""),
        None,
    )
    _apply_check_fields(state, run, body)
    repo.check_runs[run.id] = run
    return json_response(_shapes(request).check_run(repo, run), status=201)


def _check_run(request: web.Request) -> tuple[Repo, CheckRun]:
    repo = _repo(request)
    run = repo.check_runs.get(int(request.match_info["check_run_id"]))
    if run is None:
        raise GitHubError(404, "Not Found")
    return repo, run


@routes.get("/repos/{owner}/{repo}/check-runs/{check_run_id}")
async def get_check_run(request: web.Request) -> web.Response:
    repo, run = _check_run(request)
    return json_response(_shapes(request).check_run(repo, run))


@routes.patch("/repos/{owner}/{repo}/check-runs/{check_run_id}")
async def update_check_run(request: web.Request) -> web.Response:
    repo, run = _check_run(request)
    _apply_check_fields(_state(request), run, _body(request))
    return json_response(_shapes(request).check_run(repo, run))


@routes.get("/repos/{owner}/{repo}/check-runs/{check_run_id}/annotations")
async def list_annotations(request: web.Request) -> web.Response:
    repo, run = _check_run(request)
    shapes = _shapes(request)
    return paged_response(request, [shapes.annotation(repo, run, a) for a in run.annotations])


@routes.get("/repos/{owner}/{repo}/commits/{ref:.+}/check-runs")
async def list_check_runs(request: web.Request) -> web.Response:
    state, repo, params = _state(request), _repo(request), request[PARAMS]
    sha = state.resolve(repo, request.match_info["ref"])
    if sha is None:
        raise GitHubError(422, f"No commit found for SHA: {request.match_info['ref']}")
    runs = sorted((r for r in repo.check_runs.values() if r.head_sha == sha), key=lambda r: -r.id)
    if params.get("filter", "latest") == "latest":
        latest: dict[str, CheckRun] = {}
        for run in runs:
            latest.setdefault(run.name, run)
        runs = list(latest.values())
    for key, field in (("check_name", "name"), ("status", "status"), ("app_id", "app_id")):
        if key in params:
            runs = [r for r in runs if getattr(r, field) == params[key]]
    chunk, headers = paginate(request, runs)
    shapes = _shapes(request)
    body = {"total_count": len(runs), "check_runs": [shapes.check_run(repo, r) for r in chunk]}
    return json_response(body, headers=headers)


# -- comments and teams ----------------------------------------------------------------------


@routes.post("/repos/{owner}/{repo}/issues/{issue_number}/comments")
async def create_comment(request: web.Request) -> web.Response:
    state, repo = _state(request), _repo(request)
    number = int(request.match_info["issue_number"])
    state.pull(repo, number)
    comment = Comment(
        state.next_id(), number, _bot(request), _body(request)["body"], state.now(), True
    )
    repo.comments.append(comment)
    return json_response(_shapes(request).comment(repo, comment), status=201)


@routes.get("/repos/{owner}/{repo}/issues/{issue_number}/comments")
async def list_comments(request: web.Request) -> web.Response:
    state, repo = _state(request), _repo(request)
    number = int(request.match_info["issue_number"])
    state.pull(repo, number)
    comments = [c for c in repo.comments if c.issue_number == number]
    if "since" in request[PARAMS]:
        since = datetime.fromisoformat(request[PARAMS]["since"])
        comments = [c for c in comments if c.created_at >= since]
    shapes = _shapes(request)
    return paged_response(request, [shapes.comment(repo, c) for c in comments])


@routes.get("/orgs/{org}/teams/{team_slug}/members")
async def list_team_members(request: web.Request) -> web.Response:
    state, shapes = _state(request), _shapes(request)
    team = state.team(request.match_info["org"], request.match_info["team_slug"])
    return paged_response(request, [shapes.user(state.user(login)) for login in team.members])


# /rest/teams/teams#check-team-permissions-for-a-repository: 204 when the team has any
# permission on the repository, 404 when it has none (or there is no such team).
@routes.get("/orgs/{org}/teams/{team_slug}/repos/{owner}/{repo}")
async def check_team_repository(request: web.Request) -> web.Response:
    state, repo = _state(request), _repo(request)
    org, slug = request.match_info["org"], request.match_info["team_slug"]
    if repo.owner.login.lower() != org.lower() or state.team_permission(repo, slug) is None:
        raise GitHubError(404, "Not Found")
    return web.Response(status=204)
