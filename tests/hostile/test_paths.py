"""A pull request's file names used against the App: a name that, expanded into a contents URL
unescaped, reads `plans/secret.md` of another private repository of the installation. Through the
real `rapidvet serve` and the fake GitHub: nothing outside the handbook is read, and the structure
check run names each such file with `unsafe-path`."""

from __future__ import annotations

import json
from contextlib import ExitStack

import pytest

from rapidvet.checks.paths import shown
from tests.app.web.test_service import get
from tests.support.e2e import PLAN, REPO, Handbook, create_handbook, open_handbook, stayed_home

SECRET_REPO = "acme/secret"
SECRET_TITLE = "FY27 Zanzibar Takeover VPMOM"
# Names a push to GitHub can hold; `a/../x`, `./x` and `a//x` it refuses (see test_fake_github).
HOSTILE = [
    "%2e%2e/%2e%2e/secret/contents/plans/secret.md#.md",
    "%2E%2e/%2e%2E/secret/contents/plans/secret.md",
    "handbook\\..\\..\\secret\\contents\\plans\\secret.md",
    "handbook/ops/bell\x07.md",
]
# A name that is safe, but names its own file only when each character is encoded.
ODD_NAME = "handbook/ops/100% sure #1?.md"
ODD_TITLE = "FY27 Hashmark VPMOM"


@pytest.fixture
def handbook(fake_github, tmp_path):
    with ExitStack() as stack:
        yield open_handbook(stack, fake_github, tmp_path)


def test_hostile_file_names_read_nothing_outside_the_handbook(handbook):
    fake = handbook.fake
    create_handbook(fake, SECRET_REPO, {"plans/secret.md": PLAN.replace("FY27 Ops", SECRET_TITLE)})
    pages = dict.fromkeys(HOSTILE, "# Decoy\n\nNothing to see.\n")
    handbook.push({**pages, ODD_NAME: PLAN.replace("FY27 Ops VPMOM", ODD_TITLE)})
    assert handbook.send("pull_request.opened") == 202

    runs = fake.check_runs(REPO, head_sha=handbook.pull()["head"]["sha"])
    assert SECRET_TITLE not in json.dumps(runs)
    assert [r["path"] for r in fake.requests() if r["repository"] == SECRET_REPO] == []
    assert handbook.dead_jobs() == []
    structure = handbook.check_run("VPMOM structure")
    assert structure["conclusion"] == "failure"
    notes = {(a["path"], a["title"]) for a in structure["annotations"]}
    for name in HOSTILE:
        assert (name, "unsafe-path") in notes
        assert f"{shown(name)} was not read" in structure["output"]["summary"]
    # The odd name was read, from its own file of the handbook.
    assert ODD_TITLE in json.dumps(handbook.check_run("RAPID review")["output"])


def test_the_harness_fails_a_test_whose_app_reached_another_repository(fake_github):
    fake_github.setup_app()
    fake_github.create_installation("acme")
    create_handbook(fake_github, SECRET_REPO, {"plans/secret.md": PLAN})
    handbook = Handbook(fake_github, server=None)
    stayed_home(handbook, None)
    status, _ = get(fake_github.url + f"/repos/{REPO}/contents/%2e%2e/%2e%2e/secret/contents/x")
    assert status == 401  # refused, yet the request reached acme/secret
    assert handbook.strayed() == {SECRET_REPO}
    with pytest.raises(AssertionError, match=SECRET_REPO):
        stayed_home(handbook, None)
    stayed_home(handbook, RuntimeError)  # a test that failed already is not failed again


def test_a_page_over_the_size_limit_is_reported_without_downloading_it(handbook):
    """Over 1 MB the contents API leaves the content out; the blob it would take is not read."""
    big = "handbook/ops/big.md"
    handbook.push({big: PLAN + "- padding\n" * 110_000})
    assert handbook.send("pull_request.opened") == 202
    structure = handbook.check_run("VPMOM structure")
    assert (big, "page-too-large") in {(a["path"], a["title"]) for a in structure["annotations"]}
    assert [r["path"] for r in handbook.fake.requests() if "/git/blobs/" in r["path"]] == []
