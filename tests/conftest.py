"""Shared test fixtures. The real handbook corpus is read in place, never copied."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from rapidvet.app.store.sqlite import SqliteStore
from tests.support import ROOT

pytest_plugins = ["tests.support.fake_github.fixtures", "tests.support.browser"]

CORPUS = Path(os.environ.get("RAPIDVET_CORPUS", ROOT.parent / "shared" / "corpus"))


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqliteStore]:
    """An embedded store, migrated, in the test's own folder."""
    opened = SqliteStore(str(tmp_path / "rapidvet.db"))
    opened.migrate()
    yield opened
    opened.close()


@pytest.fixture(scope="session")
def corpus() -> Path:
    if not (CORPUS / "MANIFEST.tsv").is_file():
        pytest.skip(f"handbook corpus not found at {CORPUS} (set RAPIDVET_CORPUS)")
    return CORPUS
