"""Shared test fixtures. The real handbook corpus is read in place, never copied."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.support import ROOT

pytest_plugins = ["tests.support.fake_github.fixtures", "tests.support.browser"]

CORPUS = Path(os.environ.get("RAPIDVET_CORPUS", ROOT.parent / "shared" / "corpus"))


@pytest.fixture(scope="session")
def corpus() -> Path:
    if not (CORPUS / "MANIFEST.tsv").is_file():
        pytest.skip(f"handbook corpus not found at {CORPUS} (set RAPIDVET_CORPUS)")
    return CORPUS
