"""`rapidvet explain`, the real process, against real git repositories built in the test."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.service import run_rapidvet as rapidvet

# Exit codes by conclusion: a script can tell "ready to merge" from "not yet".
EXIT_FOR = {"success": 0, "neutral": 0, "failure": 1, "pending": 1}

CONFIG = """\
version: 1
aliases:
  IJT: "@ianjt"
  MLT: "@acme/mlt"
paths:
  - pattern: "operations/messaging-and-math/**"
    roles: {D: "@cmo", A: ["@acme/marketing"], I: ["@cfo"]}
"""
PLAN = """\
# Ops

## FY27 Ops VPMOM

|Period| Feb 1, 2026 to Jan 31, 2027 |
|:---|:---|
| RAPID | IJT(D), MLT(R, A, P & I) |
| Vetted date | Feb 3, 2026 |
| Previous versions | |

Vision
- Run on documented processes.

Priorities
- Documented

Methods
- Review yearly

Obstacles
- Time

Measures
- 80% vetted
"""


def git(repo: Path, *args: str) -> str:
    env_args = ["-c", "user.email=dev@example.com", "-c", "user.name=dev"]
    proc = subprocess.run(
        ["git", "-C", str(repo), *env_args, *args], capture_output=True, text=True, check=True
    )
    return proc.stdout.strip()


def commit_all(repo: Path, message: str) -> str:
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", message)
    return git(repo, "rev-parse", "HEAD")


def explain(repo: Path, *extra: str) -> dict:
    """The JSON answer, after checking the exit code says the same as its conclusion."""
    args = ["--repo", str(repo), "--base", "main", "--head", "change", "--format", "json"]
    proc = rapidvet("explain", *args, *extra)
    data = json.loads(proc.stdout)
    assert proc.returncode == EXIT_FOR[data["conclusion"]], proc.stderr
    return data


def write_reviews(tmp_path: Path, data) -> str:
    path = tmp_path / "reviews.json"
    path.write_text(json.dumps(data))
    return str(path)


@pytest.fixture
def plan_repo(tmp_path) -> Path:
    repo = tmp_path / "handbook"
    (repo / "ops").mkdir(parents=True)
    (repo / "ops" / "plan.md").write_text(PLAN)
    (repo / "other.md").write_text("# Other\n")
    git(repo, "init", "-q", "-b", "main")
    commit_all(repo, "base")
    git(repo, "checkout", "-qb", "change")
    return repo


def test_roles_from_the_rapid_line_without_config(plan_repo, tmp_path):
    (plan_repo / "ops" / "plan.md").write_text(PLAN.replace("Review yearly", "Review twice"))
    commit_all(plan_repo, "edit")
    data = explain(plan_repo)
    assert data["config"] == "none (RAPID lines only)"
    rows = {(r["role"], r["holder"]): r for r in data["rows"]}
    assert rows["D", "IJT"]["source"] == {"origin": "document", "path": "ops/plan.md", "line": 7}
    assert data["conclusion"] == "failure"  # initials without aliases cannot be requested
    assert any(n["code"] == "unresolved-alias" for n in data["notes"])


def test_config_roles_reviews_and_stale_approvals(plan_repo, tmp_path):
    git(plan_repo, "checkout", "-q", "main")
    (plan_repo / ".github").mkdir()
    (plan_repo / ".github" / "rapid.yml").write_text(
        'version: 1\naliases: {IJT: "@ianjt", MLT: "@acme/mlt"}\n'
        'paths:\n  - pattern: "ops/*.md"\n    roles: {D: IJT, A: [MLT]}\n'
    )
    commit_all(plan_repo, "config")
    git(plan_repo, "checkout", "-q", "change")
    git(plan_repo, "merge", "-q", "main")
    (plan_repo / "ops" / "plan.md").write_text(PLAN.replace("Review yearly", "Review twice"))
    first = commit_all(plan_repo, "edit plan")
    reviews = {
        "author": "writer",
        "teams": {"acme/mlt": ["lee"]},
        "reviews": [
            {"user": "ianjt", "state": "APPROVED", "commit": first},
            {"user": "lee", "state": "approved", "commit": first},
        ],
    }
    data = explain(plan_repo, "--reviews", write_reviews(tmp_path, reviews))
    assert data["conclusion"] == "success"
    assert {r["source"]["path"] for r in data["rows"]} == {".github/rapid.yml"}

    (plan_repo / "other.md").write_text("# Other, edited\n")
    commit_all(plan_repo, "unrelated push")
    assert (
        explain(plan_repo, "--reviews", write_reviews(tmp_path, reviews))["conclusion"] == "success"
    )

    (plan_repo / "ops" / "plan.md").write_text(PLAN.replace("Review yearly", "Review weekly"))
    commit_all(plan_repo, "edit the approved block")
    data = explain(plan_repo, "--reviews", write_reviews(tmp_path, reviews))
    assert data["conclusion"] == "pending"
    assert {r["state"] for r in data["rows"] if r["required"]} == {"stale"}
    assert data["request"]["users"] == ["ianjt"] and data["request"]["teams"] == ["mlt"]


def test_text_output_names_roles_sources_and_requests(plan_repo):
    (plan_repo / "ops" / "plan.md").write_text(PLAN.replace("IJT(D)", "@ianjt(D)"))
    commit_all(plan_repo, "handle")
    proc = rapidvet("explain", "--repo", str(plan_repo), "--base", "main", "--head", "change")
    out = proc.stdout
    conclusion = out.split("Conclusion: ")[1].split()[0]
    assert proc.returncode == EXIT_FOR[conclusion] == 1  # MLT is nobody without an alias
    assert 'ops/plan.md:3 "FY27 Ops VPMOM" (modified)' in out
    assert "D (previous)" in out  # the RAPID line changed: the old Decider must approve too
    assert "Conclusion: " in out and "Would request: " in out


def test_explain_on_the_real_handbook(corpus, tmp_path):
    repo = tmp_path / "hb"
    shutil.copytree(corpus / "handbook-head", repo, copy_function=shutil.copyfile)
    for folder in [repo, *repo.rglob("*")]:
        folder.chmod(0o755 if folder.is_dir() else 0o644)  # the corpus is read-only
    (repo / ".github").mkdir(exist_ok=True)
    (repo / ".github" / "rapid.yml").write_text(CONFIG)
    git(repo, "init", "-q", "-b", "main")
    commit_all(repo, "base")
    git(repo, "checkout", "-qb", "change")
    page = repo / "operations" / "messaging-and-math" / "content-marketing" / "README.md"
    page.write_text(page.read_text().replace("Audience Obsessed", "Audience First"))
    commit_all(repo, "edit")
    reviews = {
        "author": "writer",
        "teams": {"acme/marketing": ["mia", "max"]},
        "reviews": [
            {"user": "cmo", "state": "APPROVED", "submitted_at": "2024-05-01T10:00:00Z"},
            {"user": "mia", "state": "CHANGES_REQUESTED", "submitted_at": "2024-05-01T11:00:00Z"},
        ],
    }
    data = explain(repo, "--reviews", write_reviews(tmp_path, reviews))
    assert {r["block"] for r in data["rows"]} == {"Content V2MOM"}
    states = {r["role"]: r["state"] for r in data["rows"]}
    assert states == {"D": "approved", "A": "vetoed", "I": "not required"}
    assert data["conclusion"] == "failure"
    assert data["request"]["input_users"] == ["cfo"]
    assert all(
        r["source"] == {"origin": "config", "path": ".github/rapid.yml", "line": 6}
        for r in data["rows"]
    )


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ("broken-config", "rapid.yml at "),
        ("bad-json", "not valid JSON"),
        ("bad-ref", "nope: not a commit"),
    ],
)
def test_bad_input_is_one_line_exit_2(plan_repo, tmp_path, setup, message):
    args = ["explain", "--repo", str(plan_repo), "--base", "main", "--head", "change"]
    if setup == "broken-config":
        git(plan_repo, "checkout", "-q", "main")
        (plan_repo / "rapid.yml").write_text("version: 2\n")
        commit_all(plan_repo, "broken")
    elif setup == "bad-json":
        (tmp_path / "r.json").write_text("{not json")
        args += ["--reviews", str(tmp_path / "r.json")]
    else:
        args[args.index("change")] = "nope"
    proc = rapidvet(*args)
    assert proc.returncode == 2
    err = proc.stderr
    assert message in err and len(err.strip().splitlines()) == 1


def test_no_changed_plan_exits_0(plan_repo):
    (plan_repo / "other.md").write_text("# Other, edited\n")
    commit_all(plan_repo, "not a plan")
    assert explain(plan_repo)["conclusion"] == "neutral"


@pytest.mark.parametrize(
    ("repo", "message"),
    [(None, ". is not a git repository"), ("missing", "missing: no such folder")],
)
def test_outside_a_git_repository_is_one_line_exit_2(tmp_path, repo, message):
    where = ["--repo", repo] if repo else []
    proc = rapidvet("explain", *where, "--base", "main", "--head", "x", cwd=tmp_path)
    assert (proc.returncode, proc.stdout, proc.stderr) == (2, "", f"rapidvet: error: {message}\n")


def test_help_says_what_the_exit_codes_mean():
    out = rapidvet("explain", "--help").stdout
    assert "  1  the review would fail or is still pending\n" in out
