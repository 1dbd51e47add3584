"""A fake GitHub for tests: GitHub's REST API on loopback, validated against its OpenAPI
description. See `server` for how to run it, `control` for how to drive it."""

from tests.support.fake_github.server import AppCredentials, FakeGitHub, FakeGitHubProcess
from tests.support.fake_github.state import State

__all__ = ["AppCredentials", "FakeGitHub", "FakeGitHubProcess", "State"]
