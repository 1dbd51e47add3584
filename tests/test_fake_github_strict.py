"""The fake GitHub refuses what GitHub refuses: manifests GitHub's registration page turns away,
ref updates that branch rules forbid, check-run output over GitHub's limits."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

import pytest

from tests.fake_github import FakeGitHub
from tests.fake_github.control import ControlError
from tests.fake_github.fixtures import fake_github, github_assets  # noqa: F401

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
