"""`rapidvet check` finds each file's rapid.yml and table of contents the way ruff and
markdownlint find their configuration: the nearest, at or above the file, up to the
repository root. Through the real process, as pre-commit runs it."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.support import ROOT
from tests.support.service import RAPIDVET, run_rapidvet

PLAN = (ROOT / "examples" / "handbook" / "operations" / "travel.md").read_text()
# The example's plan has a Vision of two sentences: a warning unless rapid.yml says error.
VISION_ERROR = "version: 1\nchecks:\n  rules: {vision-one-sentence: error}\n"


def check(cwd: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    return run_rapidvet("check", "--today", "2026-06-01", *argv, cwd=cwd, timeout=60)


def write(root: Path, relative: str, text: str) -> Path:
    target = root / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)
    return target


def vision(out: str) -> set[str]:
    """The severities the vision-one-sentence findings got."""
    return {line.split(": ")[1].split()[0] for line in out.splitlines() if "[vision-one" in line}


@pytest.fixture
def handbook(tmp_path: Path) -> Path:
    root = tmp_path / "handbook"
    (root / ".git").mkdir(parents=True)
    write(root, ".github/rapid.yml", VISION_ERROR)
    write(root, "operations/travel.md", PLAN)
    return root


@pytest.mark.parametrize(
    ("cwd", "argv"),
    [
        ("", ["operations/travel.md"]),  # what pre-commit runs
        ("", ["."]),
        ("", []),
        ("operations", ["travel.md"]),
        ("operations", []),
    ],
)
def test_a_file_gets_its_handbooks_rule_grades_however_it_is_named(
    handbook: Path, cwd: str, argv: list[str]
) -> None:
    proc = check(handbook / cwd, *argv)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert vision(proc.stdout) == {"error"}


def test_the_search_stops_at_the_repository_root(handbook: Path) -> None:
    # A rapid.yml above the repository belongs to something else.
    write(handbook.parent, "rapid.yml", VISION_ERROR)
    (handbook / ".github" / "rapid.yml").unlink()
    assert vision(check(handbook, "operations/travel.md").stdout) == {"warning"}
    (handbook / ".git").rmdir()
    (handbook / ".git").write_text("gitdir: /elsewhere\n")  # a worktree's or submodule's
    assert vision(check(handbook, "operations/travel.md").stdout) == {"warning"}
    (handbook / ".git").unlink()
    assert vision(check(handbook, "operations/travel.md").stdout) == {"error"}


def test_files_under_different_configs_are_checked_each_with_its_own(handbook: Path) -> None:
    write(handbook, "team/rapid.yml", "version: 1\nchecks:\n  rules: {vision-one-sentence: off}\n")
    write(handbook, "team/plan.md", PLAN)
    proc = check(handbook, "operations/travel.md", "team/plan.md")
    assert "operations/travel.md:11: error [vision-one-sentence]" in proc.stdout
    assert "team/plan.md:11" not in proc.stdout
    assert proc.stdout.rstrip().endswith("2 files, 2 plans: 3 errors, 4 warnings, 0 notices")


def test_config_still_wins(handbook: Path) -> None:
    other = write(handbook.parent, "other.yml", "version: 1\n")
    proc = check(handbook, "operations/travel.md", "--config", str(other))
    assert vision(proc.stdout) == {"warning"}


def test_the_table_of_contents_is_found_the_same_way(handbook: Path) -> None:
    write(handbook, "SUMMARY.md", "* [Travel](operations/travel.md)\n")
    write(handbook, "operations/unlisted.md", PLAN)
    proc = check(handbook / "operations", "travel.md", "unlisted.md")
    listed = [line for line in proc.stdout.splitlines() if "[page-not-in-toc]" in line]
    assert listed == [
        "unlisted.md:1: warning [page-not-in-toc] operations/unlisted.md holds a plan but is "
        "not listed in the table of contents"
    ]


def test_excluded_pages_are_not_checked(handbook: Path) -> None:
    write(handbook, "operations/drafts/new.md", PLAN)
    write(handbook, "archive/old.md", PLAN)
    write(handbook, ".github/rapid.yml", VISION_ERROR + "  exclude: [drafts]\n")
    proc = check(handbook / "operations", "--exclude", "../archive/*")
    assert proc.stdout.rstrip().endswith("1 file, 1 plan: 2 errors, 2 warnings, 0 notices")
    assert "travel.md" in proc.stdout and "drafts" not in proc.stdout
    proc = check(handbook, "--exclude", "*.md")
    assert proc.stdout == "0 files, 0 plans: 0 errors, 0 warnings, 0 notices\n"


def test_an_unreadable_folder_is_one_line_exit_2(handbook: Path) -> None:
    locked = write(handbook, "operations/locked/plan.md", PLAN).parent
    locked.chmod(0)
    # Root reads every folder: without the two capabilities that let it, it reads as others do.
    as_others = ["setpriv", "--bounding-set=-dac_override,-dac_read_search"]
    try:
        proc = subprocess.run(
            [*(as_others if os.geteuid() == 0 else []), RAPIDVET, "check", str(handbook)],
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )
    finally:
        locked.chmod(0o755)
    assert (proc.returncode, proc.stdout, proc.stderr) == (
        2,
        "",
        f"rapidvet: error: {locked}: Permission denied\n",
    )
