"""The fake GitHub, driven over loopback with gidgethub and raw aiohttp.

Every fake used here also validates its own answers against GitHub's OpenAPI description, and
the fixture fails a test on any recorded failure, so these tests check the response shapes too.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import aiohttp
import gidgethub
import jwt
import pytest
from aiohttp import web
from gidgethub.aiohttp import GitHubAPI
from multidict import CIMultiDict

from tests.support.fake_github import AppCredentials, FakeGitHub, FakeGitHubProcess
from tests.support.fake_github.control import ControlError
from tests.support.fake_github.fixtures import fake_github, fake_github_process, github_assets  # noqa: F401
from tests.support.fake_github.openapi import load_description
from tests.support.fake_github.server import ControlClient, generate_key_pair
from tests.support.fake_github.webhooks import signature, signed_delivery

T = TypeVar("T")
REPO = "acme/handbook"
PLAN = "# FY20 MLT VPMOM\n\n#### Vision\n- Be great\n"


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coroutine)


def app_jwt(
    credentials: AppCredentials,
    *,
    issued: int = -60,
    lifetime: int = 600,
    issuer: str | None = None,
    key: str | None = None,
) -> str:
    now = int(time.time())
    claims = {
        "iat": now + issued,
        "exp": now + issued + lifetime,
        "iss": issuer or str(credentials.app_id),
    }
    return jwt.encode(claims, key or credentials.private_key, algorithm="RS256")


@dataclass
class World:
    """An App installed on an organization with one handbook repository and an open PR."""

    fake: ControlClient
    credentials: AppCredentials
    installation_id: int
    head_sha: str


@pytest.fixture
def world(fake_github: FakeGitHub) -> World:  # noqa: F811
    credentials = fake_github.setup_app()
    installation = fake_github.create_installation("acme")
    fake_github.create_repo(REPO, files={"README.md": "hello\n", "plans/mlt.md": PLAN})
    fake_github.create_branch(REPO, "plan-update")
    commit = fake_github.commit(
        REPO, "plan-update", {"plans/mlt.md": PLAN + "- Be kind\n"}, author="jane"
    )
    fake_github.open_pull_request(REPO, "plan-update", user="jane")
    return World(fake_github, credentials, installation["id"], commit["sha"])


async def installation_token(session: aiohttp.ClientSession, world: World) -> str:
    app = GitHubAPI(session, "rapidvet-tests", base_url=world.fake.url)
    answer = await app.post(
        f"/app/installations/{world.installation_id}/access_tokens",
        data=b"",
        jwt=app_jwt(world.credentials),
    )
    return str(answer["token"])


@asynccontextmanager
async def github(world: World, **options: Any) -> AsyncIterator[GitHubAPI]:
    """A gidgethub client with an installation token, as the App uses it."""
    async with aiohttp.ClientSession() as session:
        token = await installation_token(session, world)
        yield GitHubAPI(
            session, "rapidvet-tests", oauth_token=token, base_url=world.fake.url, **options
        )


def with_github(world: World, scenario: Callable[[GitHubAPI], Awaitable[T]]) -> T:
    async def main() -> T:
        async with github(world) as gh:
            return await scenario(gh)

    return run(main())


async def raw(
    world: World, method: str, path: str, *, token: str | None = None, **options: Any
) -> tuple[int, CIMultiDict[str], Any]:
    """A request through plain aiohttp: (status, headers, JSON body, raw bytes or None)."""
    async with aiohttp.ClientSession() as session:
        token = token or await installation_token(session, world)
        headers = {"Authorization": f"token {token}", **options.pop("headers", {})}
        async with session.request(
            method, world.fake.url + path, headers=headers, **options
        ) as response:
            body = await response.read()
            headers = CIMultiDict(response.headers)
            if response.content_type == "application/json":
                return response.status, headers, json.loads(body)
            return response.status, headers, body or None


# -- App authentication ----------------------------------------------------------------------


def test_app_jwt_lists_installations_and_issues_an_hour_long_token(world: World) -> None:
    async def main() -> None:
        async with aiohttp.ClientSession() as session:
            app = GitHubAPI(session, "rapidvet-tests", base_url=world.fake.url)
            token = app_jwt(world.credentials)
            assert (await app.getitem("/app", jwt=token))["id"] == world.credentials.app_id
            installations = [i async for i in app.getiter("/app/installations", jwt=token)]
            assert [i["id"] for i in installations] == [world.installation_id]
            answer = await app.post(
                f"/app/installations/{world.installation_id}/access_tokens",
                data={"repositories": ["handbook"]},
                jwt=token,
            )
            assert answer["token"].startswith("ghs_")
            expires = time.mktime(time.strptime(answer["expires_at"], "%Y-%m-%dT%H:%M:%SZ"))
            assert 3500 < expires - time.mktime(time.gmtime()) <= 3600
            installed = GitHubAPI(
                session, "t", oauth_token=answer["token"], base_url=world.fake.url
            )
            listing = await installed.getitem("/installation/repositories")
            assert [r["full_name"] for r in listing["repositories"]] == [REPO]

    run(main())


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"lifetime": 601}, "too far in the future"),
        ({"issued": -700}, "future time at which the assertion expires"),
        ({"issued": 120}, "'Issued at' claim"),
        ({"issuer": "999"}, "'Issuer' claim"),
        ({"key": generate_key_pair()[0]}, "could not be decoded"),
    ],
)
def test_bad_jwts_are_refused(world: World, options: dict[str, Any], message: str) -> None:
    async def main() -> None:
        async with aiohttp.ClientSession() as session:
            app = GitHubAPI(session, "rapidvet-tests", base_url=world.fake.url)
            with pytest.raises(gidgethub.BadRequest) as refused:
                await app.getitem("/app", jwt=app_jwt(world.credentials, **options))
            assert refused.value.status_code == 401
            assert message in str(refused.value)

    run(main())


def test_installation_tokens_are_checked_and_scoped(world: World) -> None:
    world.fake.create_installation("other-org")
    world.fake.create_repo("other-org/secret")

    async def main() -> None:
        async with aiohttp.ClientSession() as session:
            token = await installation_token(session, world)
            status, _, body = await raw(world, "GET", "/repos/other-org/secret", token=token)
            assert (status, body["message"]) == (404, "Not Found")
            status, _, body = await raw(world, "GET", "/app", token=token)
            assert status == 401
            status, _, body = await raw(world, "GET", f"/repos/{REPO}", token="ghs_made_up")
            assert (status, body["message"]) == (401, "Bad credentials")
            assert world.fake.expire_tokens() >= 1
            status, _, _ = await raw(world, "GET", f"/repos/{REPO}", token=token)
            assert status == 401

    run(main())


# -- Git data and contents -------------------------------------------------------------------


def test_blob_tree_commit_and_ref_update_move_the_branch(world: World) -> None:
    async def scenario(gh: GitHubAPI) -> None:
        ref = await gh.getitem(f"/repos/{REPO}/git/ref/heads/main")
        parent = await gh.getitem(f"/repos/{REPO}/git/commits/{ref['object']['sha']}")
        blob = await gh.post(
            f"/repos/{REPO}/git/blobs",
            data={"content": base64.b64encode(b"# New plan\n").decode(), "encoding": "base64"},
        )
        assert blob["sha"] == hashlib.sha1(b"blob 11\0# New plan\n").hexdigest()
        tree = await gh.post(
            f"/repos/{REPO}/git/trees",
            data={
                "base_tree": parent["tree"]["sha"],
                "tree": [
                    {"path": "plans/new.md", "mode": "100644", "type": "blob", "sha": blob["sha"]},
                    {"path": "README.md", "mode": "100644", "type": "blob", "sha": None},
                ],
            },
        )
        commit = await gh.post(
            f"/repos/{REPO}/git/commits",
            data={"message": "Record", "tree": tree["sha"], "parents": [parent["sha"]]},
        )
        assert commit["verification"]["verified"] is True  # the App's own commits are signed
        assert commit["author"]["name"] == "rapidvet[bot]"
        moved = await gh.patch(
            f"/repos/{REPO}/git/refs/heads/main", data={"sha": commit["sha"], "force": False}
        )
        assert moved["object"]["sha"] == commit["sha"]
        content = await gh.getitem(f"/repos/{REPO}/contents/plans/new.md")
        assert base64.b64decode(content["content"]) == b"# New plan\n"
        with pytest.raises(gidgethub.BadRequest) as gone:
            await gh.getitem(f"/repos/{REPO}/contents/README.md?ref=main")
        assert gone.value.status_code == 404
        listing = await gh.getitem(f"/repos/{REPO}/git/trees/main?recursive=1")
        assert {e["path"] for e in listing["tree"]} == {"plans", "plans/mlt.md", "plans/new.md"}
        old = await gh.getitem(f"/repos/{REPO}/contents/README.md?ref={parent['sha']}")
        assert old["sha"] == (await gh.getitem(old["git_url"]))["sha"]

    with_github(world, scenario)
    assert world.fake.read_file(REPO, "plans/new.md") == "# New plan\n"


def test_non_fast_forward_ref_updates_are_refused(world: World) -> None:
    async def scenario(gh: GitHubAPI) -> None:
        main_sha = world.fake.branch_sha(REPO, "main")
        moved = world.fake.commit(REPO, "main", {"README.md": "moved on\n"})
        commit = await gh.getitem(f"/repos/{REPO}/git/commits/{main_sha}")
        stale = await gh.post(
            f"/repos/{REPO}/git/commits",
            data={"message": "stale", "tree": commit["tree"]["sha"], "parents": [main_sha]},
        )
        with pytest.raises(gidgethub.BadRequest) as refused:
            await gh.patch(f"/repos/{REPO}/git/refs/heads/main", data={"sha": stale["sha"]})
        assert refused.value.status_code == 422
        assert "Update is not a fast forward" in str(refused.value)
        assert world.fake.branch_sha(REPO, "main") == moved["sha"]
        await gh.patch(
            f"/repos/{REPO}/git/refs/heads/main", data={"sha": stale["sha"], "force": True}
        )
        assert world.fake.branch_sha(REPO, "main") == stale["sha"]
        created = await gh.post(
            f"/repos/{REPO}/git/refs", data={"ref": "refs/heads/record/1", "sha": stale["sha"]}
        )
        assert created["ref"] == "refs/heads/record/1"
        with pytest.raises(gidgethub.BadRequest, match="Reference already exists"):
            await gh.post(
                f"/repos/{REPO}/git/refs", data={"ref": "refs/heads/record/1", "sha": main_sha}
            )

    with_github(world, scenario)


def test_contents_api_limits_and_media_types(world: World) -> None:
    big = "x" * (1024 * 1024 + 1)
    world.fake.commit(REPO, "main", {"plans/big.md": big})

    async def main() -> None:
        status, _, body = await raw(world, "GET", f"/repos/{REPO}/contents/plans/big.md")
        assert (status, body["content"], body["encoding"], body["size"]) == (
            200,
            "",
            "none",
            len(big),
        )
        status, _, body = await raw(
            world,
            "GET",
            f"/repos/{REPO}/contents/plans/big.md",
            headers={"Accept": "application/vnd.github.raw+json"},
        )
        assert (status, body) == (200, big.encode())
        status, _, listing = await raw(world, "GET", f"/repos/{REPO}/contents/plans?ref=main")
        assert [(i["name"], i["type"]) for i in listing] == [("big.md", "file"), ("mlt.md", "file")]
        status, _, body = await raw(world, "GET", f"/repos/{REPO}/contents/nope.md")
        assert status == 404

    run(main())


@pytest.mark.parametrize("path", ["a/../x.md", "./x.md", "a//b.md", "plans/.git/config", "x/"])
def test_tree_entry_names_github_refuses_are_refused(world: World, path: str) -> None:
    with pytest.raises(ControlError, match="invalid tree entry name"):
        world.fake.commit(REPO, "plan-update", {path: "x\n"})


def test_names_a_push_may_hold_are_listed_and_read_back_encoded(world: World) -> None:
    names = ["%2e%2e/x#1?.md", "plans\\..\\x.md", "plans/bell\x07.md"]
    world.fake.commit(REPO, "plan-update", dict.fromkeys(names, "odd\n"))

    async def main() -> None:
        status, _, files = await raw(world, "GET", f"/repos/{REPO}/pulls/1/files")
        assert status == 200 and set(names) <= {f["filename"] for f in files}
        path = "/contents/%252e%252e/x%231%3F.md?ref=plan-update"
        status, _, entry = await raw(world, "GET", f"/repos/{REPO}{path}")
        assert (status, entry["path"]) == (200, names[0])

    run(main())


def test_each_request_records_the_repository_its_path_resolves_to(world: World) -> None:
    world.fake.create_repo("acme/secret")
    paths = [
        f"/repos/{REPO}/pulls/1",
        f"/repos/{REPO}/contents/%2e%2e/%2E%2e/secret/contents/x",
        "/repos/ACME/Secret",
        "/installation/repositories",
    ]
    before = len(world.fake.requests())
    for path in paths:
        run(raw(world, "GET", path))
    logged = [r for r in world.fake.requests()[before:] if r["path"] != "/app/installations"]
    touched = [r["repository"] for r in logged if "access_tokens" not in r["path"]]
    assert touched == [REPO, "acme/secret", "acme/secret", None]


def test_compare_lists_commits_and_files(world: World) -> None:
    async def scenario(gh: GitHubAPI) -> None:
        comparison = await gh.getitem(f"/repos/{REPO}/compare/main...plan-update")
        assert (comparison["status"], comparison["ahead_by"], comparison["behind_by"]) == (
            "ahead",
            1,
            0,
        )
        assert [c["sha"] for c in comparison["commits"]] == [world.head_sha]
        assert [f["filename"] for f in comparison["files"]] == ["plans/mlt.md"]

    with_github(world, scenario)


# -- pull requests ---------------------------------------------------------------------------


def test_pull_request_reviews_and_review_requests(world: World) -> None:
    world.fake.set_team_members("acme", "mlt", ["ian", "ann"])
    review = world.fake.add_review(REPO, 1, "ian", "CHANGES_REQUESTED")
    world.fake.add_review(REPO, 1, "ann", "approved")
    world.fake.dismiss_review(REPO, 1, review["id"])

    async def scenario(gh: GitHubAPI) -> None:
        pull = await gh.getitem(f"/repos/{REPO}/pulls/1")
        assert (pull["head"]["sha"], pull["changed_files"], pull["mergeable"]) == (
            world.head_sha,
            1,
            True,
        )
        reviews = [r async for r in gh.getiter(f"/repos/{REPO}/pulls/1/reviews")]
        assert [(r["user"]["login"], r["state"]) for r in reviews] == [
            ("ian", "DISMISSED"),
            ("ann", "APPROVED"),
        ]
        requested = await gh.post(
            f"/repos/{REPO}/pulls/1/requested_reviewers",
            data={"reviewers": ["ian"], "team_reviewers": ["mlt"]},
        )
        assert [u["login"] for u in requested["requested_reviewers"]] == ["ian"]
        listed = await gh.getitem(f"/repos/{REPO}/pulls/1/requested_reviewers")
        assert ([u["login"] for u in listed["users"]], [t["slug"] for t in listed["teams"]]) == (
            ["ian"],
            ["mlt"],
        )
        with pytest.raises(gidgethub.BadRequest, match="pull request author"):
            await gh.post(
                f"/repos/{REPO}/pulls/1/requested_reviewers", data={"reviewers": ["jane"]}
            )
        with pytest.raises(gidgethub.BadRequest, match="collaborators"):
            await gh.post(
                f"/repos/{REPO}/pulls/1/requested_reviewers", data={"reviewers": ["stranger"]}
            )
        members = [m async for m in gh.getiter("/orgs/acme/teams/mlt/members")]
        assert [m["login"] for m in members] == ["ian", "ann"]

    with_github(world, scenario)


def test_a_team_without_access_to_the_repository_cannot_be_requested(world: World) -> None:
    world.fake.set_team_members("acme", "mlt", ["ian"])
    world.fake.set_team_members("acme", "ops", ["oz"])
    assert world.fake.set_team_repository("acme", "ops", REPO, None) is None
    with pytest.raises(ControlError, match="permission must be"):
        world.fake.set_team_repository("acme", "mlt", REPO, "write")
    requests = f"/repos/{REPO}/pulls/1/requested_reviewers"

    async def scenario(gh: GitHubAPI) -> None:
        await gh.getitem(f"/orgs/acme/teams/mlt/repos/{REPO}")  # 204: push by default
        for team in ("ops", "nobody"):
            with pytest.raises(gidgethub.BadRequest) as absent:
                await gh.getitem(f"/orgs/acme/teams/{team}/repos/{REPO}")
            assert absent.value.status_code == 404
        # One team without access refuses the whole request, in GitHub's words for teams.
        with pytest.raises(gidgethub.BadRequest) as refused:
            await gh.post(requests, data={"team_reviewers": ["mlt", "ops"]})
        assert refused.value.status_code == 422
        assert str(refused.value) == (
            "Reviews may only be requested from collaborators. One or more of the teams you "
            f"specified is not a collaborator of the {REPO} repository."
        )
        assert (await gh.getitem(requests))["teams"] == []
        world.fake.set_team_repository("acme", "ops", REPO, "pull")  # read access is enough
        await gh.post(requests, data={"team_reviewers": ["mlt", "ops"]})
        assert [t["slug"] for t in (await gh.getitem(requests))["teams"]] == ["mlt", "ops"]

    with_github(world, scenario)


def test_follow_up_pull_request_and_open_pull_listing(world: World) -> None:
    async def scenario(gh: GitHubAPI) -> None:
        main_sha = world.fake.branch_sha(REPO, "main")
        await gh.post(
            f"/repos/{REPO}/git/refs", data={"ref": "refs/heads/rapid/record-1", "sha": main_sha}
        )
        world.fake.commit(REPO, "rapid/record-1", {"plans/mlt.md": PLAN + "Vetted\n"})
        created = await gh.post(
            f"/repos/{REPO}/pulls",
            data={"title": "Record vetting", "head": "rapid/record-1", "base": "main"},
        )
        assert created["user"]["login"] == "rapidvet[bot]"
        open_pulls = [p async for p in gh.getiter(f"/repos/{REPO}/pulls?state=open")]
        assert [p["number"] for p in open_pulls] == [2, 1]
        mine = [p async for p in gh.getiter(f"/repos/{REPO}/pulls?head=acme:rapid/record-1")]
        assert [p["number"] for p in mine] == [2]

    with_github(world, scenario)


def test_merging_sets_merge_fields_and_moves_the_base_branch(world: World) -> None:
    merged = world.fake.merge_pull_request(REPO, 1)
    assert (merged["merged"], merged["state"], merged["commits"]) == (True, "closed", 1)
    assert world.fake.branch_sha(REPO, "main") == merged["merge_commit_sha"]
    assert world.fake.read_file(REPO, "plans/mlt.md") == PLAN + "- Be kind\n"

    async def scenario(gh: GitHubAPI) -> None:
        pull = await gh.getitem(f"/repos/{REPO}/pulls/1")
        assert pull["merged_at"] is not None and pull["merged_by"]["login"] == "maintainer"
        commit = await gh.getitem(f"/repos/{REPO}/git/commits/{pull['merge_commit_sha']}")
        assert [p["sha"] for p in commit["parents"]][1] == world.head_sha

    with_github(world, scenario)
    world.fake.create_branch(REPO, "squashed")
    world.fake.commit(REPO, "squashed", {"README.md": "squash me\n"})
    world.fake.open_pull_request(REPO, "squashed", title="Squash")
    squashed = world.fake.merge_pull_request(REPO, 2, method="squash")
    assert world.fake.read_file(REPO, "README.md") == "squash me\n"
    assert squashed["merge_commit_sha"] == world.fake.branch_sha(REPO, "main")


def test_repositories_start_from_a_folder_and_files(fake_github: FakeGitHub, tmp_path) -> None:  # noqa: F811
    (tmp_path / "plans").mkdir()
    (tmp_path / "plans" / "mlt.md").write_text(PLAN)
    (tmp_path / "SUMMARY.md").write_text("* [MLT](plans/mlt.md)\n")
    fake_github.create_repo(REPO, folder=str(tmp_path), files={"README.md": "hi\n"})
    assert fake_github.read_file(REPO, "plans/mlt.md") == PLAN
    assert fake_github.read_file(REPO, "SUMMARY.md").startswith("* [MLT]")
    assert fake_github.read_file(REPO, "README.md") == "hi\n"
    assert fake_github.read_file(REPO, "missing.md") is None


def test_conflicting_pull_requests_are_not_mergeable(world: World) -> None:
    world.fake.commit(REPO, "main", {"plans/mlt.md": "rewritten on main\n"})
    assert world.fake.pull_request(REPO, 1)["mergeable"] is False
    with pytest.raises(ControlError, match="not mergeable"):
        world.fake.merge_pull_request(REPO, 1)


def test_pull_request_files_page_with_link_headers_and_stop_at_3000(
    fake_github: FakeGitHub,  # noqa: F811
) -> None:
    credentials = fake_github.setup_app()
    installation = fake_github.create_installation("acme")
    fake_github.create_repo(REPO)
    fake_github.create_branch(REPO, "huge")
    fake_github.commit(REPO, "huge", {f"docs/{i:04}.md": f"page {i}\n" for i in range(3005)})
    fake_github.open_pull_request(REPO, "huge")
    world = World(fake_github, credentials, installation["id"], "")

    async def main() -> None:
        status, headers, first = await raw(
            world, "GET", f"/repos/{REPO}/pulls/1/files?per_page=100"
        )
        assert (status, len(first)) == (200, 100)
        assert 'rel="next"' in headers["Link"] and "page=30" in headers["Link"]
        status, headers, past = await raw(
            world, "GET", f"/repos/{REPO}/pulls/1/files?per_page=100&page=31"
        )
        assert (status, past) == (200, [])
        async with github(world) as gh:
            files = [f async for f in gh.getiter(f"/repos/{REPO}/pulls/1/files?per_page=100")]
            assert len(files) == 3000
            assert (await gh.getitem(f"/repos/{REPO}/pulls/1"))["changed_files"] == 3005

    run(main())


# -- check runs and comments -----------------------------------------------------------------


def _annotations(count: int, start: int = 1) -> list[dict[str, Any]]:
    return [
        {
            "path": "plans/mlt.md",
            "start_line": line,
            "end_line": line,
            "annotation_level": "warning",
            "message": f"finding {line}",
        }
        for line in range(start, start + count)
    ]


def test_check_run_annotations_append_and_cap_at_50(world: World) -> None:
    async def scenario(gh: GitHubAPI) -> None:
        run_ = await gh.post(
            f"/repos/{REPO}/check-runs",
            data={"name": "VPMOM structure", "head_sha": world.head_sha, "status": "in_progress"},
        )
        url = f"/repos/{REPO}/check-runs/{run_['id']}"
        output = {"title": "2 findings", "summary": "s"}
        await gh.patch(url, data={"output": output | {"annotations": _annotations(50)}})
        done = await gh.patch(
            url,
            data={"conclusion": "failure", "output": output | {"annotations": _annotations(5, 51)}},
        )
        assert (done["status"], done["output"]["annotations_count"]) == ("completed", 55)
        listed = [a async for a in gh.getiter(f"{url}/annotations")]
        assert [a["start_line"] for a in listed] == list(range(1, 56))
        with pytest.raises(gidgethub.BadRequest) as refused:
            await gh.patch(url, data={"output": output | {"annotations": _annotations(51)}})
        assert refused.value.status_code == 422
        await gh.post(
            f"/repos/{REPO}/check-runs",
            data={"name": "VPMOM structure", "head_sha": world.head_sha, "status": "queued"},
        )
        latest = await gh.getitem(f"/repos/{REPO}/commits/plan-update/check-runs")
        assert [(r["name"], r["status"]) for r in latest["check_runs"]] == [
            ("VPMOM structure", "queued")
        ]
        every = await gh.getitem(f"/repos/{REPO}/commits/{world.head_sha}/check-runs?filter=all")
        assert every["total_count"] == 2
        assert every["check_runs"][1]["pull_requests"][0]["number"] == 1

    with_github(world, scenario)
    # 51 annotations in one request break GitHub's description: recorded, then consumed here.
    [failure] = world.fake.take_failures()
    assert failure["kind"] == "request" and "output/annotations" in failure["errors"][0]


def test_pull_request_comments(world: World) -> None:
    async def scenario(gh: GitHubAPI) -> None:
        posted = await gh.post(f"/repos/{REPO}/issues/1/comments", data={"body": "Decision"})
        assert posted["performed_via_github_app"]["slug"] == "rapidvet"
        listed = [c async for c in gh.getiter(f"/repos/{REPO}/issues/1/comments")]
        assert [c["body"] for c in listed] == ["Decision"]

    with_github(world, scenario)
    assert [c["body"] for c in world.fake.comments(REPO, 1)] == ["Decision"]


# -- headers, ETags and rate limits ----------------------------------------------------------


def test_rate_limit_headers_and_free_conditional_requests(world: World) -> None:
    async def main() -> None:
        async with aiohttp.ClientSession() as session:
            token = await installation_token(session, world)
        path = f"/repos/{REPO}/pulls/1"
        status, headers, _ = await raw(world, "GET", path, token=token)
        assert status == 200 and headers["X-RateLimit-Resource"] == "core"
        remaining = int(headers["X-RateLimit-Remaining"])
        assert int(headers["X-RateLimit-Limit"]) == 5000 and remaining < 5000
        assert int(headers["X-RateLimit-Reset"]) > time.time()
        etag = headers["ETag"]
        status, headers, body = await raw(
            world, "GET", path, token=token, headers={"If-None-Match": etag}
        )
        assert (status, body, headers["ETag"]) == (304, None, etag)
        assert int(headers["X-RateLimit-Remaining"]) == remaining
        world.fake.commit(REPO, "plan-update", {"README.md": "changed\n"})
        status, headers, _ = await raw(
            world, "GET", path, token=token, headers={"If-None-Match": etag}
        )
        assert status == 200 and headers["ETag"] != etag

    run(main())


def test_gidgethub_serves_304s_from_its_cache(world: World) -> None:
    async def main() -> None:
        async with github(world, cache={}) as gh:
            first = await gh.getitem(f"/repos/{REPO}/pulls/1")
            assert await gh.getitem(f"/repos/{REPO}/pulls/1") == first

    run(main())
    statuses = [r["status"] for r in world.fake.requests() if r["path"] == f"/repos/{REPO}/pulls/1"]
    assert statuses == [200, 304]


def test_exhausted_primary_rate_limit_raises_rate_limit_exceeded(world: World) -> None:
    world.fake.set_rate_limit(0, installation_id=world.installation_id)

    async def scenario(gh: GitHubAPI) -> None:
        with pytest.raises(gidgethub.RateLimitExceeded):
            await gh.getitem(f"/repos/{REPO}/pulls/1")

    with_github(world, scenario)


# -- faults ----------------------------------------------------------------------------------


def test_server_errors_fire_the_given_number_of_times(world: World) -> None:
    world.fake.add_fault(r"/pulls/1$", status=502, times=1)

    async def scenario(gh: GitHubAPI) -> None:
        with pytest.raises(gidgethub.GitHubBroken):
            await gh.getitem(f"/repos/{REPO}/pulls/1")
        assert (await gh.getitem(f"/repos/{REPO}/pulls/1"))["number"] == 1

    with_github(world, scenario)
    faulted = [r for r in world.fake.requests() if r["fault"] is not None]
    assert [(r["path"], r["status"]) for r in faulted] == [(f"/repos/{REPO}/pulls/1", 502)]


@pytest.mark.parametrize(
    ("status", "message"),
    [(429, "secondary rate limit"), (403, "You have exceeded a secondary rate limit")],
)
def test_rate_limit_faults_carry_retry_after(world: World, status: int, message: str) -> None:
    world.fake.add_fault("/check-runs", method="POST", status=status, retry_after=7)

    async def main() -> None:
        answer, headers, body = await raw(
            world, "POST", f"/repos/{REPO}/check-runs", json={"name": "x", "head_sha": "a" * 40}
        )
        assert (answer, headers["Retry-After"]) == (status, "7")
        assert message in body["message"]
        assert int(headers["X-RateLimit-Remaining"]) > 0  # not the primary limit

    run(main())


@pytest.mark.parametrize("status", [409, 422])
def test_ref_update_conflicts(world: World, status: int) -> None:
    world.fake.add_fault(r"/git/refs/", method="PATCH", status=status, times=1)

    async def scenario(gh: GitHubAPI) -> None:
        sha = world.fake.branch_sha(REPO, "plan-update")
        with pytest.raises(gidgethub.BadRequest) as refused:
            await gh.patch(f"/repos/{REPO}/git/refs/heads/main", data={"sha": sha})
        assert refused.value.status_code == status
        await gh.patch(f"/repos/{REPO}/git/refs/heads/main", data={"sha": sha})

    with_github(world, scenario)


def test_slow_answers_and_dropped_connections(world: World) -> None:
    world.fake.add_fault(r"/pulls/1$", delay=0.3, times=1)
    # No `times`: aiohttp retries an idempotent request once on a reused connection.
    drop = world.fake.add_fault(r"/pulls/1/files$", drop=True)

    async def scenario(gh: GitHubAPI) -> None:
        started = time.monotonic()
        assert (await gh.getitem(f"/repos/{REPO}/pulls/1"))["number"] == 1
        assert time.monotonic() - started >= 0.3
        with pytest.raises(aiohttp.ServerDisconnectedError):
            await gh.getitem(f"/repos/{REPO}/pulls/1/files")
        await asyncio.to_thread(world.fake.remove_fault, drop["id"])
        assert len(await gh.getitem(f"/repos/{REPO}/pulls/1/files")) == 1

    with_github(world, scenario)
    dropped = [r for r in world.fake.requests() if r["path"].endswith("/files")]
    assert {r["status"] for r in dropped[:-1]} == {None} and dropped[-1]["status"] == 200


def test_probabilistic_faults_are_repeatable(world: World) -> None:
    world.fake.add_fault(r"/pulls/1$", status=503, probability=0.5)

    async def main() -> list[int]:
        async with aiohttp.ClientSession() as session:
            token = await installation_token(session, world)
        return [
            (await raw(world, "GET", f"/repos/{REPO}/pulls/1", token=token))[0] for _ in range(20)
        ]

    statuses = run(main())
    assert {200, 503} == set(statuses)
    with FakeGitHub() as other:  # the same seed gives the same sequence
        other.add_fault(r"/x$", status=503, probability=0.5)
        picks = [other.state.faults.pick("GET", "/x") is not None for _ in range(20)]
    assert picks == [s == 503 for s in statuses]


# -- validation against GitHub's description -------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "problem"),
    [
        ("PATCH", "/check-runs/1", {"conclusion": "passed"}, 422, "conclusion"),
        ("POST", "/check-runs", {"name": "x"}, 422, "'head_sha' is a required property"),
        ("POST", "/git/refs", {"ref": "refs/heads/x", "sha": 5}, 422, "sha"),
        ("PATCH", "/git/refs/heads/main", None, 422, "body: missing"),
        ("GET", "/pulls?state=opened", None, 422, "query parameter state"),
        ("GET", "/pulls/first", None, 404, "path parameter pull_number"),
        ("DELETE", "/pulls/1", None, 404, "only GET, PATCH are documented"),
        ("GET", "/no-such-endpoint", None, 404, "no such path"),
    ],
)
def test_requests_that_break_the_description_are_refused_and_recorded(
    world: World, method: str, path: str, body: Any, status: int, problem: str
) -> None:
    async def main() -> None:
        options = {} if body is None else {"json": body}
        answer, _, refusal = await raw(world, method, f"/repos/{REPO}{path}", **options)
        assert answer == status
        assert refusal["message"] == ("Validation Failed" if status == 422 else "Not Found")

    run(main())
    [failure] = world.fake.take_failures()
    assert failure["kind"] == "request" and failure["status"] == status
    assert problem in " ".join(failure["errors"]), failure


def test_bad_json_and_unsupported_api_versions_are_recorded(world: World) -> None:
    async def main() -> None:
        status, _, body = await raw(world, "POST", f"/repos/{REPO}/git/blobs", data=b"{not json")
        assert (status, body["message"]) == (400, "Problems parsing JSON")
        status, _, _ = await raw(
            world, "GET", f"/repos/{REPO}", headers={"X-GitHub-Api-Version": "2001-01-01"}
        )
        assert status == 400
        status, headers, _ = await raw(
            world, "GET", f"/repos/{REPO}", headers={"X-GitHub-Api-Version": "2022-11-28"}
        )
        assert (status, headers["X-GitHub-Api-Version-Selected"]) == (200, "2022-11-28")

    run(main())
    assert [f["status"] for f in world.fake.take_failures()] == [400, 400]


def test_documented_but_unimplemented_endpoints_are_recorded(world: World) -> None:
    async def main() -> None:
        status, _, _ = await raw(world, "GET", f"/repos/{REPO}/tags")
        assert status == 404

    run(main())
    [failure] = world.fake.take_failures()
    assert failure["kind"] == "unimplemented" and "repos/list-tags" in failure["message"]


def test_the_fixture_fails_a_test_that_left_failures(world: World) -> None:
    run(raw(world, "GET", "/nowhere"))
    with pytest.raises(AssertionError, match="GET /nowhere -> 404"):
        world.fake.assert_no_failures()
    world.fake.take_failures()


def test_valid_requests_pass_and_are_logged(world: World) -> None:
    async def scenario(gh: GitHubAPI) -> None:
        await gh.post(f"/repos/{REPO}/issues/1/comments", data={"body": "hi"})
        await gh.getitem(f"/repos/{REPO}/pulls?state=all&per_page=5")

    with_github(world, scenario)
    log = world.fake.requests()
    assert [(r["method"], r["operation"], r["status"]) for r in log] == [
        ("POST", "apps/create-installation-access-token", 201),
        ("POST", "issues/create-comment", 201),
        ("GET", "pulls/list", 200),
    ]
    assert log[1]["body"] == {"body": "hi"} and log[1]["auth"].startswith("installation:")
    assert log[2]["query"] == {"state": "all", "per_page": "5"}
    assert world.fake.failures() == []


def test_the_description_loads_fast_and_indexes_every_operation(github_assets) -> None:  # noqa: F811
    started = time.perf_counter()
    description = load_description.__wrapped__()
    assert time.perf_counter() - started < 10
    operation, values = description.find("GET", "/repos/o/r/contents/docs/a b.md")
    assert (operation.operation_id, values["path"]) == ("repos/get-content", "docs/a b.md")
    operation, values = description.find("GET", "/repos/o/r/commits/feature/x/check-runs")
    assert (operation.operation_id, values["ref"]) == ("checks/list-for-ref", "feature/x")


# -- webhooks --------------------------------------------------------------------------------


def test_signature_matches_githubs_test_vector() -> None:
    assert signature("It's a Secret to Everybody", b"Hello, World!") == (
        "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
    )


def test_webhook_payloads_follow_the_fakes_state(world: World) -> None:
    fake = world.fake
    fake.set_team_members("acme", "mlt", ["ian"])
    review = fake.add_review(REPO, 1, "ian", "APPROVED")
    description = load_description()
    built: dict[str, dict[str, Any]] = {}
    for name, params in [
        ("pull_request.opened", {"number": 1}),
        ("pull_request.synchronize", {"number": 1}),
        ("pull_request_review.submitted", {"number": 1, "review_id": review["id"]}),
        ("check_suite.rerequested", {"head_sha": world.head_sha}),
        ("push", {"ref": "plan-update"}),
        ("installation.created", {}),
        ("installation_repositories.added", {}),
    ]:
        built[name] = fake.webhook(name, repo=REPO, **params)["payload"]
    fake.dismiss_review(REPO, 1, review["id"])
    built["pull_request_review.dismissed"] = fake.webhook(
        "pull_request_review.dismissed", repo=REPO, number=1, review_id=review["id"]
    )["payload"]
    fake.merge_pull_request(REPO, 1)
    built["pull_request.closed"] = fake.webhook("pull_request.closed", repo=REPO, number=1)[
        "payload"
    ]
    for name, payload in built.items():
        event, _, action = name.partition(".")
        assert description.validate_webhook(event, action or None, payload) == [], name
        assert payload.get("installation", {}).get("id") == world.installation_id, name
    repo_id = fake.pull_request(REPO, 1)["base"]["repo"]["id"]
    opened = built["pull_request.opened"]
    assert (opened["action"], opened["number"], opened["repository"]["id"]) == (
        "opened",
        1,
        repo_id,
    )
    assert opened["pull_request"]["head"]["sha"] == world.head_sha
    assert opened["pull_request"]["base"]["ref"] == "main"
    assert opened["sender"]["login"] == "jane"
    assert built["pull_request.synchronize"]["after"] == world.head_sha
    submitted = built["pull_request_review.submitted"]
    assert (submitted["review"]["state"], submitted["review"]["user"]["login"]) == (
        "approved",
        "ian",
    )
    assert submitted["review"]["commit_id"] == world.head_sha
    assert built["pull_request_review.dismissed"]["review"]["state"] == "dismissed"
    closed = built["pull_request.closed"]["pull_request"]
    assert closed["merged"] is True
    assert closed["merge_commit_sha"] == fake.branch_sha(REPO, "main")
    push = built["push"]
    assert (push["ref"], push["after"]) == ("refs/heads/plan-update", world.head_sha)
    assert push["head_commit"]["modified"] == ["plans/mlt.md"]
    assert built["check_suite.rerequested"]["check_suite"]["pull_requests"][0]["number"] == 1
    added = built["installation_repositories.added"]
    assert [r["full_name"] for r in added["repositories_added"]] == [REPO]


def test_check_run_webhooks(world: World) -> None:
    async def scenario(gh: GitHubAPI) -> int:
        created = await gh.post(
            f"/repos/{REPO}/check-runs",
            data={
                "name": "RAPID review",
                "head_sha": world.head_sha,
                "conclusion": "action_required",
                "output": {"title": "Waiting", "summary": "D has not approved"},
                "actions": [
                    {"label": "Re-check", "description": "Run again", "identifier": "recheck"}
                ],
            },
        )
        return int(created["id"])

    check_run_id = with_github(world, scenario)
    description = load_description()
    for name, extra in [
        ("check_run.rerequested", {}),
        ("check_run.requested_action", {"requested_action": "recheck"}),
    ]:
        payload = world.fake.webhook(name, repo=REPO, check_run_id=check_run_id, **extra)["payload"]
        event, _, action = name.partition(".")
        assert description.validate_webhook(event, action, payload) == [], name
        assert payload["check_run"]["id"] == check_run_id
        assert payload["check_run"]["head_sha"] == world.head_sha
        assert payload["check_run"]["check_suite"]["head_branch"] == "plan-update"
    assert payload["requested_action"] == {"identifier": "recheck"}


def test_signed_deliveries_verify() -> None:
    body, headers = signed_delivery("s3cret", "ping", {"zen": "Keep it logically awesome."})
    assert json.loads(body) == {"zen": "Keep it logically awesome."}
    expected = hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
    assert headers["X-Hub-Signature-256"] == f"sha256={expected}"
    assert headers["X-GitHub-Event"] == "ping" and headers["Content-Type"] == "application/json"
    assert len(headers["X-GitHub-Delivery"]) == 36 and headers["X-GitHub-Hook-ID"].isdigit()


@asynccontextmanager
async def webhook_receiver(statuses: list[int]) -> AsyncIterator[tuple[str, list[web.Request]]]:
    """A stand-in for the App's webhook endpoint answering `statuses` in turn, then 202."""
    received: list[tuple[dict[str, str], bytes]] = []

    async def receive(request: web.Request) -> web.Response:
        received.append((dict(request.headers), await request.read()))
        return web.Response(status=statuses.pop(0) if statuses else 202)

    app = web.Application()
    app.router.add_post("/webhooks", receive)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}/webhooks", received  # type: ignore[misc]
    finally:
        await runner.cleanup()


def test_deliveries_are_sent_signed_listed_and_redelivered(world: World) -> None:
    async def main() -> None:
        async with webhook_receiver([500]) as (url, received):
            credentials = world.fake.setup_app(webhook_url=url)
            failed = await asyncio.to_thread(
                world.fake.send_webhook, "pull_request.opened", repo=REPO, number=1
            )
            assert (failed["status_code"], failed["redelivery"]) == (500, False)
            headers, body = received[0]
            assert headers["X-Hub-Signature-256"] == signature("It's a Secret to Everybody", body)
            assert headers["X-GitHub-Event"] == "pull_request"
            assert json.loads(body)["pull_request"]["number"] == 1
            for _ in range(2):
                await asyncio.to_thread(world.fake.send_webhook, "push", repo=REPO)
            async with aiohttp.ClientSession() as session:
                app = GitHubAPI(session, "rapidvet-tests", base_url=world.fake.url)
                token = app_jwt(credentials)
                listed = [
                    d async for d in app.getiter("/app/hook/deliveries?per_page=2", jwt=token)
                ]
                assert [d["event"] for d in listed] == ["push", "push", "pull_request"]
                failures = await app.getitem("/app/hook/deliveries?status=failure", jwt=token)
                assert [d["id"] for d in failures] == [failed["id"]]
                await app.post(f"/app/hook/deliveries/{failed['id']}/attempts", data=b"", jwt=token)
                for _ in range(100):
                    if len(received) == 4:
                        break
                    await asyncio.sleep(0.02)
                assert received[3][0]["X-GitHub-Delivery"] == failed["guid"]
                latest = await app.getitem("/app/hook/deliveries?per_page=1", jwt=token)
                assert (latest[0]["guid"], latest[0]["redelivery"]) == (failed["guid"], True)
                assert latest[0]["status_code"] == 202

    run(main())


# -- running as a process --------------------------------------------------------------------


def test_the_fake_runs_as_a_process_controlled_over_http(
    fake_github_process: FakeGitHubProcess,  # noqa: F811
) -> None:
    fake = fake_github_process
    credentials = fake.setup_app()
    installation = fake.create_installation("acme")
    fake.create_repo(REPO, files={"plans/mlt.md": PLAN})
    world = World(fake, credentials, installation["id"], "")

    async def scenario(gh: GitHubAPI) -> None:
        content = await gh.getitem(f"/repos/{REPO}/contents/plans/mlt.md")
        assert base64.b64decode(content["content"]).decode() == PLAN

    with_github(world, scenario)
    assert [r["operation"] for r in fake.requests()] == [
        "apps/create-installation-access-token",
        "repos/get-content",
    ]
    with pytest.raises(ControlError, match="no control operation"):
        fake.call("drop_database")


def test_the_process_replays_a_state_file(tmp_path, github_assets) -> None:  # noqa: F811
    setup = [["create_repo", {"full_name": REPO, "files": {"README.md": "from a file\n"}}]]
    (tmp_path / "state.json").write_text(json.dumps(setup))
    with FakeGitHubProcess("--state-file", str(tmp_path / "state.json")) as fake:
        assert fake.read_file(REPO, "README.md") == "from a file\n"


# -- merge queue -----------------------------------------------------------------------------


def test_merge_queue_groups_chain_on_temporary_branches_and_land_by_fast_forward(
    world: World,
) -> None:
    fake = world.fake
    fake.create_branch(REPO, "readme")
    fake.commit(REPO, "readme", {"README.md": "queued\n"})
    fake.open_pull_request(REPO, "readme", title="Readme")
    main = fake.branch_sha(REPO, "main")
    first = fake.enqueue_pull_request(REPO, 1)
    second = fake.enqueue_pull_request(REPO, 2)
    assert first == f"refs/heads/gh-readonly-queue/main/pr-1-{main}"
    with pytest.raises(ControlError, match="already queued"):
        fake.enqueue_pull_request(REPO, 1)
    group = fake.webhook("merge_group.checks_requested", repo=REPO, number=2)
    payload = group["payload"]["merge_group"]
    assert group["event"] == "merge_group" and payload["head_ref"] == second
    assert payload["base_ref"] == "refs/heads/main"
    head = fake.branch_sha(REPO, second.removeprefix("refs/heads/"))
    assert payload["head_sha"] == payload["head_commit"]["id"] == head
    # The second group sits on the first: the queue's head holds both pull requests.
    assert payload["base_sha"] == fake.branch_sha(REPO, first.removeprefix("refs/heads/"))
    assert second.endswith(f"pr-2-{payload['base_sha']}")
    assert fake.read_file(REPO, "README.md", ref=head) == "queued\n"
    assert fake.read_file(REPO, "plans/mlt.md", ref=head) == PLAN + "- Be kind\n"

    async def listed(gh: GitHubAPI) -> list[str]:
        refs = await gh.getitem(f"/repos/{REPO}/git/matching-refs/heads/gh-readonly-queue/main/")
        return [r["ref"] for r in refs]

    assert with_github(world, listed) == [first, second]
    with pytest.raises(ControlError, match="not first in the merge queue"):
        fake.land_merge_group(REPO, 2)
    landed = fake.land_merge_group(REPO, 1)
    assert (landed["merged"], landed["state"]) == (True, "closed")
    assert fake.branch_sha(REPO, "main") == landed["merge_commit_sha"] == payload["base_sha"]
    assert with_github(world, listed) == [second]
    assert (
        fake.land_merge_group(REPO, 2)["merge_commit_sha"] == head == fake.branch_sha(REPO, "main")
    )
