"""`rapidvet check` through the real process on what a new user writes: a draft plan, and a
RAPID line that rapid.yml contradicts."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.support.service import run_rapidvet

DRAFT = "# Legal\n\n## FY27 Legal VPMOM\n\n#### Vision\n\nLegal helps every team ship safely.\n"
PLAN = """\
## FY27 Legal VPMOM

| Period | Feb 1, 2026 to Jan 31, 2027 |
|:---|:---|
| RAPID | {rapid} |
| Vetted date | TBD |
| Previous versions | |

Vision
- Legal helps every team ship safely.

Priorities
- Contracts

Methods
- Templates

Obstacles
- Time

Measures
- 3 reviews a week
"""
CONFIG = """\
version: 1
paths:
  - pattern: "legal/**"
    roles: {{D: "@bob", A: ["@acme/legal"]}}
policy:
  doc_rapid_must_match: {must_match}
"""


def check(*argv: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return run_rapidvet("check", "--today", "2026-06-01", *argv, cwd=cwd)


def test_a_draft_with_only_its_vision_is_a_plan_missing_sections(tmp_path):
    (tmp_path / "legal.md").write_text(DRAFT)
    proc = check("legal.md", cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    missing = [line for line in proc.stdout.splitlines() if "[section-missing]" in line]
    assert [line.rsplit(" ", 2)[-2] for line in missing] == [
        "Priorities",
        "Methods",
        "Obstacles",
        "Measures",
    ]
    assert proc.stdout.rstrip().endswith("1 file, 1 plan: 5 errors, 0 warnings, 0 notices")


def handbook(root: Path, rapid: str, must_match: str = "true") -> Path:
    (root / ".git").mkdir()
    (root / ".github").mkdir()
    (root / ".github" / "rapid.yml").write_text(CONFIG.format(must_match=must_match))
    (root / "legal").mkdir()
    (root / "legal" / "plan.md").write_text(PLAN.format(rapid=rapid))
    return root / "legal" / "plan.md"


def test_a_rapid_line_that_rapid_yml_contradicts_fails_as_in_the_review(tmp_path):
    page = handbook(tmp_path, "@alice(D), @acme/legal(R, A, P & I)")
    proc = check(page, cwd=tmp_path / "legal")
    assert proc.returncode == 1, proc.stderr
    rapid_yml = tmp_path / ".github" / "rapid.yml"
    assert proc.stdout.splitlines()[0] == (
        f'{page}:5: error [rapid-mismatch] "FY27 Legal VPMOM": the RAPID line gives D to '
        f"@alice but {rapid_yml}:3 gives it to @bob; make them agree "
        "(policy.doc_rapid_must_match)"
    )
    assert proc.stdout.count("[rapid-mismatch]") == 1  # A agrees


@pytest.mark.parametrize(
    ("rapid", "must_match"),
    [("@bob(D), @acme/legal(R, A, P & I)", "true"), ("@alice(D), @acme/legal(A)", "false")],
)
def test_an_agreeing_line_or_a_policy_that_allows_it_passes(tmp_path, rapid, must_match):
    page = handbook(tmp_path, rapid, must_match)
    proc = check(page, cwd=tmp_path)
    assert (proc.returncode, proc.stdout.count("[rapid-mismatch]")) == (0, 0), proc.stdout
