""".pre-commit-hooks.yaml: a valid manifest whose entry rapidvet accepts, and, slow, proven with
`pre-commit try-repo` from this checkout (uncommitted changes included, as try-repo does) on a
temporary git repository: it passes on a clean page and fails on a broken plan."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.deploy_helpers import ROOT, rapidvet_args, yaml_file

MANIFEST = ROOT / ".pre-commit-hooks.yaml"
PRE_COMMIT = str(Path(sys.executable).with_name("pre-commit"))
EXAMPLE = ROOT / "examples" / "handbook" / "operations"
CLEAN_PAGE = EXAMPLE / "README.md"  # a plan with nothing to find
BROKEN_PAGE = EXAMPLE / "travel.md"  # a plan with error findings
HOOK = "rapidvet-check"


def hook() -> dict[str, object]:
    (found,) = [h for h in yaml_file(MANIFEST) if h["id"] == HOOK]
    return found


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)


@pytest.fixture
def handbook(tmp_path: Path) -> Path:
    """A git repository holding one clean page and one broken plan, both committed."""
    repo = tmp_path / "handbook"
    repo.mkdir()
    shutil.copy(CLEAN_PAGE, repo / "clean.md")
    shutil.copy(BROKEN_PAGE, repo / "broken.md")
    git(repo, "init", "-q")
    git(repo, "add", ".")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", "pages")
    return repo


def try_repo(handbook: Path, page: str) -> subprocess.CompletedProcess[str]:
    # try-repo installs the hook from ROOT into a fresh virtualenv of its own, from PyPI.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RAPIDVET_", "PRE_COMMIT"))}
    env["PRE_COMMIT_HOME"] = str(handbook.parent / "pre-commit-home")
    return subprocess.run(
        [PRE_COMMIT, "try-repo", str(ROOT), HOOK, "--files", page, "--color", "never"],
        cwd=handbook,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )


def test_manifest_is_valid():
    done = subprocess.run(
        [PRE_COMMIT, "validate-manifest", str(MANIFEST)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_hook_runs_rapidvet_check_on_markdown_files():
    entry = shlex.split(str(hook()["entry"]))
    assert entry[0] == "rapidvet" and hook()["language"] == "python"
    assert hook()["types"] == ["markdown"]
    # pre-commit appends the changed files' names to the entry.
    assert rapidvet_args([*entry[1:], "page.md"]).command == "check"


needs_git_checkout = pytest.mark.skipif(
    not (ROOT / ".git").exists(), reason=f"{ROOT} is not a git checkout: try-repo needs one"
)


@pytest.mark.slow
@needs_git_checkout
@pytest.mark.parametrize(
    ("page", "code", "says"),
    [
        ("clean.md", 0, "Passed"),
        ("broken.md", 1, "broken.md:3: error [section-missing]"),
    ],
)
def test_try_repo_passes_a_clean_page_and_fails_a_broken_plan(
    handbook: Path, page: str, code: int, says: str
):
    done = try_repo(handbook, page)
    assert done.returncode == code, done.stdout[-3000:] + done.stderr[-3000:]
    assert ("Passed" if code == 0 else "Failed") in done.stdout
    assert says in done.stdout
