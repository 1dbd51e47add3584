"""checks.paths: which repository paths may go into a URL, and how they are encoded."""

from __future__ import annotations

from datetime import date
from urllib.parse import unquote

import pytest
from hypothesis import given
from hypothesis import strategies as st
from yarl import URL

from rapidvet.checks.model import Severity
from rapidvet.checks.options import CheckOptions
from rapidvet.checks.paths import UnsafePath, path_problem, unsafe_path_finding, url_path

OPTIONS = CheckOptions(today=date(2020, 6, 1))
UNSAFE = [
    "a/../../secret/contents/plans/secret.md",
    "%2e%2e/%2e%2e/secret/contents/plans/secret.md#.md",
    "plans/%2E/x.md",
    "./x.md",
    "plans/.",
    "a//b.md",
    "/plans/x.md",
    "plans/x.md/",
    "",
    "plans\\..\\x.md",
    "plans/x\x07.md",
    "plans/x\n.md",
    "plans/x\x7f.md",
    "plans/x\x85.md",
]
SAFE = ["plans/ops.md", "plans/100% sure #1?.md", "a/%252e%252e/b.md", "..md/x.md", "ünï cødé.md"]
SEGMENT = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cc", "Cs")), min_size=1, max_size=12
).filter(lambda s: "/" not in s and "\\" not in s and unquote(s) not in {".", ".."})


@pytest.mark.parametrize("path", UNSAFE)
def test_unsafe_paths_are_refused(path):
    assert path_problem(path)
    with pytest.raises(UnsafePath):
        url_path(path)


@pytest.mark.parametrize("path", SAFE)
def test_safe_paths_are_encoded_segment_by_segment(path):
    assert path_problem(path) is None
    encoded = url_path(path)
    assert "#" not in encoded and "?" not in encoded
    assert [unquote(s) for s in encoded.split("/")] == path.split("/")


@given(st.lists(SEGMENT, min_size=1, max_size=5))
def test_a_url_client_keeps_every_segment_as_it_was(segments):
    """yarl (aiohttp's URL parser) neither folds nor resolves an encoded segment."""
    path = "/".join(segments)
    url = URL(f"https://api.github.test/repos/acme/handbook/contents/{url_path(path)}?ref=main")
    parts = url.raw_path.split("/")[5:]
    assert [unquote(p) for p in parts] == segments
    assert url.query["ref"] == "main"


def test_the_finding_names_the_file_with_its_control_characters_escaped():
    finding = unsafe_path_finding("plans/x\x07.md", OPTIONS)
    assert finding is not None
    assert (finding.rule, finding.severity, finding.line) == ("unsafe-path", Severity.ERROR, 1)
    assert '"plans/x\\u0007.md"' in finding.message
    assert unsafe_path_finding("plans/ops.md", OPTIONS) is None
    off = CheckOptions(today=OPTIONS.today, rules={"unsafe-path": "off"})
    assert unsafe_path_finding("a/../b.md", off) is None
