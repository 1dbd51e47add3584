"""The fake GitHub refuses what GitHub refuses: manifests GitHub's registration page turns away,
ref updates that branch rules forbid, check-run output over GitHub's limits."""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

import aiohttp
import gidgethub
import pytest
from gidgethub.aiohttp import GitHubAPI

from tests.rig.test_fake_github import (  # noqa: F401
    REPO,
    World,
    installation_token,
    raw,
    with_github,
    world,
)
from tests.support.fake_github import FakeGitHub
from tests.support.fake_github.control import ControlError
from tests.support.fake_github.fixtures import fake_github, github_assets  # noqa: F401

BASE = "https://rapidvet.example.com"


def good_manifest(**changes: Any) -> dict[str, Any]:
    manifest: dict[str, Any] = {
        "name": "rapidvet",
        "url": BASE,
        "hook_attributes": {"url": f"{BASE}/webhooks"},
        "redirect_url": f"{BASE}/setup/callback",
        "default_permissions": {"checks": "write", "contents": "write", "pull_requests": "write"},
        "default_events": ["pull_request", "push", "check_run"],
    }
    return manifest | changes


def test_a_good_manifest_registers_the_app(fake_github: FakeGitHub) -> None:  # noqa: F811
    registered = fake_github.create_manifest_code(good_manifest())
    assert registered["app"]["events"] == ["pull_request", "push", "check_run"]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"default_events": ["push", "installation", "installation_repositories"]},
            "Default events unsupported: installation and installation_repositories",
        ),
        ({"default_events": ["meta"]}, "Default events unsupported: meta"),
        (
            {"default_events": ["github_app_authorization"]},
            "Default events unsupported: github_app_authorization",
        ),
        (
            {"default_permissions": {"checks": "write"}, "default_events": ["push", "check_run"]},
            "Default events are not supported by permissions: push",
        ),
        (
            {"default_permissions": {"contents": "write"}, "default_events": ["check_run"]},
            "Default events are not supported by permissions: check_run",
        ),
        (
            {"default_permissions": {"checks": "write"}, "default_events": ["pull_request_review"]},
            "Default events are not supported by permissions: pull_request_review",
        ),
        (
            {"default_permissions": {"contents": "write"}, "default_events": ["merge_group"]},
            "Default events are not supported by permissions: merge_group",
        ),
        (
            {"hook_attributes": {"url": "http://rapidvet.example.com/webhooks"}},
            "Hook url must be a valid https URL",
        ),
    ],
)
def test_manifests_github_refuses_are_refused(
    fake_github: FakeGitHub,  # noqa: F811
    changes: dict[str, Any],
    message: str,
) -> None:
    with pytest.raises(ControlError, match=message):
        fake_github.create_manifest_code(good_manifest(**changes))


def test_plain_http_is_accepted_on_localhost(fake_github: FakeGitHub) -> None:  # noqa: F811
    for host in ("127.0.0.1:8080", "localhost"):
        hook = {"url": f"http://{host}/webhooks"}
        registered = fake_github.create_manifest_code(
            good_manifest(name=host, hook_attributes=hook)
        )
        assert registered["app"]["name"] == host


def test_a_name_in_use_is_refused(fake_github: FakeGitHub) -> None:  # noqa: F811
    fake_github.create_manifest_code(good_manifest(name="RapidVet"))
    with pytest.raises(ControlError, match="Name is already in use"):
        fake_github.create_manifest_code(good_manifest(name="rapidvet"))


def test_the_registration_page_shows_the_refusal(fake_github: FakeGitHub) -> None:  # noqa: F811
    manifest = good_manifest(default_events=["installation"])
    form = urllib.parse.urlencode({"manifest": json.dumps(manifest)}).encode()
    request = urllib.request.Request(f"{fake_github.url}/settings/apps/new", data=form)
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request)
    assert refused.value.code == 422
    assert "Default events unsupported: installation" in refused.value.read().decode()


# -- branch rules ----------------------------------------------------------------------------

PULL_REQUEST_RULE = {"type": "pull_request"}
CHECKS_RULE = {
    "type": "required_status_checks",
    "parameters": {
        "required_status_checks": [{"context": "RAPID review"}],
        "strict_required_status_checks_policy": False,
    },
}


async def push_to_main(gh: GitHubAPI, text: str = "recorded\n") -> str:
    """Commit `text` to README.md on top of main as the App does, then move main to it: the
    new commit's SHA (main moves only if GitHub lets it)."""
    tip = (await gh.getitem(f"/repos/{REPO}/git/ref/heads/main"))["object"]["sha"]
    parent = await gh.getitem(f"/repos/{REPO}/git/commits/{tip}")
    blob = await gh.post(f"/repos/{REPO}/git/blobs", data={"content": text, "encoding": "utf-8"})
    tree = await gh.post(
        f"/repos/{REPO}/git/trees",
        data={
            "base_tree": parent["tree"]["sha"],
            "tree": [{"path": "README.md", "mode": "100644", "type": "blob", "sha": blob["sha"]}],
        },
    )
    commit = await gh.post(
        f"/repos/{REPO}/git/commits",
        data={"message": "Record", "tree": tree["sha"], "parents": [tip]},
    )
    await gh.patch(f"/repos/{REPO}/git/refs/heads/main", data={"sha": commit["sha"]})
    return str(commit["sha"])


def refusal(world: World) -> str:  # noqa: F811
    """The message GitHub refused the App's push to main with; main stays where it was."""
    before = world.fake.branch_sha(REPO, "main")

    async def scenario(gh: GitHubAPI) -> str:
        with pytest.raises(gidgethub.BadRequest) as refused:
            await push_to_main(gh)
        assert refused.value.status_code == 422
        return str(refused.value)

    message = with_github(world, scenario)
    assert world.fake.branch_sha(REPO, "main") == before
    return message


@pytest.mark.parametrize(
    ("rule", "reason"),
    [
        (PULL_REQUEST_RULE, "Changes must be made through a pull request."),
        (CHECKS_RULE, 'Required status check "RAPID review" is expected.'),
        ({"type": "update"}, "Cannot update this protected ref."),
    ],
)
def test_a_ruleset_refuses_the_apps_push(world: World, rule: dict[str, Any], reason: str) -> None:  # noqa: F811
    world.fake.add_ruleset(REPO, [rule])
    message = refusal(world)
    assert message.startswith("Repository rule violations found")
    assert reason in message


def test_the_app_on_the_bypass_list_may_push(world: World) -> None:  # noqa: F811
    world.fake.add_ruleset(
        REPO, [PULL_REQUEST_RULE, CHECKS_RULE], bypass_apps=[world.credentials.app_id]
    )
    pushed = with_github(world, push_to_main)
    assert world.fake.branch_sha(REPO, "main") == pushed


def test_a_ruleset_on_other_branches_lets_main_be(world: World) -> None:  # noqa: F811
    world.fake.add_ruleset(REPO, [PULL_REQUEST_RULE], include=["refs/heads/release/*"])
    pushed = with_github(world, push_to_main)
    assert world.fake.branch_sha(REPO, "main") == pushed


def test_classic_protection_refuses_the_apps_push(world: World) -> None:  # noqa: F811
    world.fake.protect_branch(REPO, "main", require_pull_request=True)
    assert refusal(world) == "Protected branch update failed for refs/heads/main."
    world.fake.protect_branch(REPO, "main", required_checks=["RAPID review"])
    assert refusal(world) == "Protected branch update failed for refs/heads/main."


def test_classic_protection_lets_a_bypassing_app_push(world: World) -> None:  # noqa: F811
    world.fake.protect_branch(REPO, "main", require_pull_request=True, bypass_apps=["rapidvet"])
    pushed = with_github(world, push_to_main)
    assert world.fake.branch_sha(REPO, "main") == pushed


def test_the_rules_of_a_branch_and_its_rulesets_are_readable(world: World) -> None:  # noqa: F811
    ruleset = world.fake.add_ruleset(REPO, [PULL_REQUEST_RULE, CHECKS_RULE])["id"]
    bypassed = world.fake.add_ruleset(
        REPO, [{"type": "update"}], name="freeze", bypass_apps=[world.credentials.app_id]
    )["id"]

    async def scenario(gh: GitHubAPI) -> None:
        rules = [r async for r in gh.getiter(f"/repos/{REPO}/rules/branches/main")]
        assert [(r["type"], r["ruleset_id"]) for r in rules] == [
            ("pull_request", ruleset),
            ("required_status_checks", ruleset),
            ("update", bypassed),
        ]
        assert [r async for r in gh.getiter(f"/repos/{REPO}/rules/branches/other")] == []
        found = await gh.getitem(f"/repos/{REPO}/rulesets/{ruleset}")
        assert (found["name"], found["current_user_can_bypass"]) == ("protect main", "never")
        found = await gh.getitem(f"/repos/{REPO}/rulesets/{bypassed}")
        assert found["current_user_can_bypass"] == "always"
        with pytest.raises(gidgethub.BadRequest) as missing:
            await gh.getitem(f"/repos/{REPO}/rulesets/1")
        assert missing.value.status_code == 404

    with_github(world, scenario)


def test_classic_protection_is_readable_as_github_allows(world: World) -> None:  # noqa: F811
    async def scenario(gh: GitHubAPI) -> None:
        branch = await gh.getitem(f"/repos/{REPO}/branches/main")
        assert (branch["protected"], branch["protection"]) == (False, {"enabled": False})
        world.fake.protect_branch(REPO, "main", required_checks=["RAPID review"])
        branch = await gh.getitem(f"/repos/{REPO}/branches/main")
        assert branch["protected"] is True
        assert branch["protection"]["required_status_checks"]["contexts"] == ["RAPID review"]
        # The full protection takes the Administration permission, which the App lacks.
        with pytest.raises(gidgethub.BadRequest) as refused:
            await gh.getitem(f"/repos/{REPO}/branches/main/protection")
        assert refused.value.status_code == 403
        assert "Resource not accessible by integration" in str(refused.value)

    with_github(world, scenario)


def test_unprotected_branches_answer_404_to_an_administrator(world: World) -> None:  # noqa: F811
    app = world.fake.state.require_app()
    app.permissions = {"administration": "read", "contents": "write"}

    async def scenario(gh: GitHubAPI) -> None:
        with pytest.raises(gidgethub.BadRequest) as absent:
            await gh.getitem(f"/repos/{REPO}/branches/main/protection")
        assert absent.value.status_code == 404
        assert "Branch not protected" in str(absent.value)
        world.fake.protect_branch(REPO, "main", require_pull_request=True)
        found = await gh.getitem(f"/repos/{REPO}/branches/main/protection")
        assert found["required_pull_request_reviews"]["required_approving_review_count"] == 1

    with_github(world, scenario)


# -- check runs ------------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["summary", "text"])
def test_check_run_output_over_65535_characters_is_refused(world: World, field: str) -> None:  # noqa: F811
    async def scenario(gh: GitHubAPI) -> None:
        output = {"title": "t", "summary": "s", field: "x" * 65535}
        data = {"name": "RAPID review", "head_sha": world.head_sha, "output": output}
        created = await gh.post(f"/repos/{REPO}/check-runs", data=data)
        with pytest.raises(gidgethub.BadRequest) as refused:
            await gh.patch(
                f"/repos/{REPO}/check-runs/{created['id']}",
                data={"output": {**output, field: "x" * 65536}},
            )
        assert refused.value.status_code == 422
        assert f"output/{field}" in str(refused.value)

    with_github(world, scenario)
    # GitHub's description caps both (`maxLength`): the fake refuses and records the breach.
    [failure] = world.fake.take_failures()
    assert (failure["status"], failure["kind"]) == (422, "request")


# -- webhook events --------------------------------------------------------------------------


def test_only_subscribed_events_and_those_sent_unasked_are_delivered(
    fake_github: FakeGitHub,  # noqa: F811
) -> None:
    # Port 9 refuses at once: the delivery is attempted and recorded, and nothing leaves loopback.
    hook = {"url": "http://127.0.0.1:9/webhooks"}
    fake_github.create_manifest_code(
        good_manifest(hook_attributes=hook, default_events=["pull_request"])
    )
    installation = fake_github.create_installation("acme")
    fake_github.create_repo(REPO, files={"README.md": "hello\n"})
    assert fake_github.receives("installation") and fake_github.receives("meta")
    assert not fake_github.receives("push")
    fake_github.send_webhook("installation.created", installation_id=installation["id"])
    with pytest.raises(ControlError, match="does not send push"):
        fake_github.send_webhook("push", repo=REPO)
    assert [d["event"] for d in fake_github.deliveries()] == ["installation"]


# -- GitHub's clock and secondary limits ---------------------------------------------------


def test_installation_tokens_are_refused_an_hour_after_issue(world: World) -> None:  # noqa: F811
    async def main() -> None:
        async with aiohttp.ClientSession() as session:
            token = await installation_token(session, world)
        assert (await raw(world, "GET", f"/repos/{REPO}", token=token))[0] == 200
        world.fake.advance_clock(3590)
        assert (await raw(world, "GET", f"/repos/{REPO}", token=token))[0] == 200
        world.fake.advance_clock(20)
        status, _, body = await raw(world, "GET", f"/repos/{REPO}", token=token)
        assert (status, body["message"]) == (401, "Bad credentials")

    asyncio.run(main())


def test_content_creating_requests_past_the_secondary_limit_wait_for_retry_after(
    world: World,  # noqa: F811
) -> None:
    world.fake.set_secondary_limit(3, window_seconds=60)
    comments = f"/repos/{REPO}/issues/1/comments"

    async def main() -> None:
        async with aiohttp.ClientSession() as session:
            token = await installation_token(session, world)
        for _ in range(3):
            assert (await raw(world, "POST", comments, token=token, json={"body": "hi"}))[0] == 201
        status, headers, body = await raw(world, "POST", comments, token=token, json={"body": "x"})
        assert status == 403 and 59 <= int(headers["Retry-After"]) <= 60
        assert body["message"].startswith("You have exceeded a secondary rate limit.")
        assert (await raw(world, "GET", comments, token=token))[0] == 200  # reading is not limited
        world.fake.advance_clock(61)
        assert (await raw(world, "POST", comments, token=token, json={"body": "hi"}))[0] == 201

    asyncio.run(main())
    assert len(world.fake.comments(REPO, 1)) == 4


def test_merging_through_the_api_waits_for_required_checks(world: World) -> None:  # noqa: F811
    world.fake.add_ruleset(REPO, [CHECKS_RULE])
    merge = f"/repos/{REPO}/pulls/1/merge"
    before = world.fake.branch_sha(REPO, "main")

    async def scenario(gh: GitHubAPI) -> None:
        with pytest.raises(gidgethub.BadRequest) as refused:
            await gh.put(merge, data={"merge_method": "squash"})
        assert refused.value.status_code == 405
        assert str(refused.value) == 'Required status check "RAPID review" is expected.'
        assert world.fake.branch_sha(REPO, "main") == before
        green = {"name": "RAPID review", "head_sha": world.head_sha, "conclusion": "success"}
        await gh.post(f"/repos/{REPO}/check-runs", data=green)
        with pytest.raises(gidgethub.BadRequest) as moved:
            await gh.put(merge, data={"sha": before})
        assert moved.value.status_code == 409
        merged = await gh.put(merge, data={"merge_method": "squash", "sha": world.head_sha})
        assert merged["merged"] and merged["sha"] == world.fake.branch_sha(REPO, "main")

    with_github(world, scenario)
    assert world.fake.pull_request(REPO, 1)["merged_by"]["login"] == "rapidvet[bot]"
