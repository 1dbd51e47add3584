"""pytest fixtures for the fake GitHub.

Enable them with `pytest_plugins = ["tests.support.fake_github.fixtures"]` in a conftest.

- `github_assets`: GitHub's OpenAPI description and webhook examples, installed with npm on first
  use (the test skips only when npm itself is missing).
- `fake_github`: a `FakeGitHub` on 127.0.0.1 in this process, fresh for each test. At teardown it
  fails the test if any request broke GitHub's description (or hit an endpoint the fake lacks);
  a test that provokes such requests on purpose consumes them with `fake_github.take_failures()`.
- `fake_github_process`: the same as a separate process, controlled over HTTP.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.fake_github.server import FakeGitHub, FakeGitHubProcess
from tests.support.github_assets import AssetsUnavailable, ensure_installed


@pytest.fixture(scope="session")
def github_assets() -> Path:
    try:
        return ensure_installed()
    except AssetsUnavailable as error:
        pytest.skip(str(error))


@pytest.fixture
def fake_github(github_assets: Path) -> Iterator[FakeGitHub]:
    with FakeGitHub() as fake:
        yield fake
        fake.assert_no_failures()


@pytest.fixture
def fake_github_process(github_assets: Path) -> Iterator[FakeGitHubProcess]:
    with FakeGitHubProcess() as fake:
        yield fake
        fake.assert_no_failures()
