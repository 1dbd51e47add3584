"""The App installed on a handbook repository of the fake GitHub, for in-process tests of one
pull request's jobs; the checking children are shared by a module's tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from rapidvet.app.jobs.isolation import CheckPool, Limits
from tests.support.fake_github import FakeGitHub
from tests.support.installed_app import InstalledApp, installed_app


@pytest.fixture(scope="module")
def pool() -> Iterator[CheckPool]:
    checks = CheckPool(Limits(seconds=60, memory_mb=1024))
    yield checks
    checks.close()


@pytest.fixture
def app(fake_github: FakeGitHub, tmp_path: Path, pool: CheckPool) -> Iterator[InstalledApp]:
    with installed_app(fake_github, tmp_path, pool) as installed:
        yield installed
