"""bench/check_bench.py runs every shape, reports medians, memory and ratios, and skips the
corpus with a note where it is absent."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tests.support import ROOT
from tests.support.bench_scripts import load_bench_script

load_bench_script("synth_handbook")  # check_bench imports it as a sibling script
bench = load_bench_script("check_bench")


def run(tmp_path: Path, *args: str) -> dict[str, dict[str, object]]:
    out = tmp_path / "out.json"
    common = ["--tools", "rapidvet", "--repeat", "2", "--idle-wait", "0", "--json", str(out)]
    assert bench.main([*common, "--trees", str(tmp_path / "trees"), *args]) == 0
    return {shape["shape"]: shape for shape in json.loads(out.read_text())["shapes"]}


def test_every_shape_is_timed(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    shutil.copytree(ROOT / "examples", corpus / "handbook-head")
    shapes = run(tmp_path, "--pages", "30", "--plan-share", "0.5", "--corpus", str(corpus))
    assert list(shapes) == ["version", "page", "corpus", "synth-30"]
    assert shapes["synth-30"]["md_files"] == 31  # and SUMMARY.md
    assert shapes["page"]["md_files"] == 1
    assert shapes["corpus"]["md_files"] == len(list(corpus.rglob("*.md"))) > 0
    for shape in shapes.values():
        rapidvet = shape["tools"]["rapidvet"]  # type: ignore[index]
        assert rapidvet["status"] == "ok", rapidvet["note"]
        assert len(rapidvet["runs"]) == 2
        assert all(r["seconds"] > 0 and r["max_rss_mib"] > 5 for r in rapidvet["runs"])
        assert shape["ratio"] is None  # markdownlint-cli2 was not asked for
    manifest = json.loads((tmp_path / "trees/synth-30-0.5-0/.synth-manifest.json").read_text())
    assert manifest["kinds"] == {"plan": 15, "near-miss": 15}


def test_a_missing_corpus_is_skipped_with_a_note(tmp_path: Path) -> None:
    shapes = run(tmp_path, "--shapes", "corpus", "--corpus", str(tmp_path / "nowhere"))
    assert shapes["corpus"]["tools"] == {}
    assert "skipped" in str(shapes["corpus"]["note"])


def test_the_ratio_is_of_the_medians() -> None:
    def timed(tool: str, seconds: list[float]) -> object:
        runs = [bench.Run(s, s, 0, 10.0, 10.0, 10.0, 1, 0.0) for s in seconds]
        return bench.ToolResult(tool, [], "ok", runs=runs)

    result = bench.ShapeResult("x", 1, 0.1, "")
    result.tools = {
        "rapidvet": timed("rapidvet", [0.1, 0.5, 0.2]),
        "markdownlint-cli2": timed("markdownlint-cli2", [2.0, 9.0, 3.0]),
    }
    assert result.ratio() == 15.0


def test_markdownlint_gets_globs_for_folders() -> None:
    shape = bench.Shape("corpus", Path("."), ["."])
    assert bench.command_of("markdownlint-cli2", "ml", shape)[:2] == ["ml", "**/*.md"]
    assert bench.command_of("rapidvet", "rv", shape) == ["rv", "check", ".", "--format", "json"]


def test_rapidvet_runs_with_a_bytecode_cache_of_its_own(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("PYTHONDONTWRITEBYTECODE", "1")
    env = bench.tool_environment(tmp_path)
    assert "PYTHONDONTWRITEBYTECODE" not in env
    assert env["PYTHONPYCACHEPREFIX"] == str(tmp_path / "pycache")
