"""The benchmark's synthetic handbook generator: deterministic, right mix, well-formed tree."""

from __future__ import annotations

import re
from pathlib import Path
from types import ModuleType

import pytest

from tests.support.bench_scripts import load_bench_script


def load_synth() -> ModuleType:
    return load_bench_script("synth_handbook")


synth = load_synth()

PLAN_HEADING = re.compile(r"^(#{1,4} .*|\*\*.*)V[P2]MOM\b.*$", re.MULTILINE)
PERIOD_HEADER = re.compile(r"^\|\s*Period\s*\|", re.MULTILINE)


def tree_bytes(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*.md"))}


@pytest.fixture(scope="module")
def small_tree(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, object]]:
    out = tmp_path_factory.mktemp("synth")
    mix = synth.Mix(plan=0.1, near_miss=0.2, large=0.0)
    return out, synth.write_handbook(out, pages=120, seed=7, mix=mix)


def test_same_seed_gives_identical_tree(tmp_path: Path) -> None:
    synth.write_handbook(tmp_path / "a", pages=40, seed=3)
    synth.write_handbook(tmp_path / "b", pages=40, seed=3)
    synth.write_handbook(tmp_path / "c", pages=40, seed=4)
    a, b, c = (tree_bytes(tmp_path / x) for x in "abc")
    assert a == b
    assert len(a) == 41  # 40 pages + SUMMARY.md
    assert a != c


def test_mix_matches_ratios(small_tree: tuple[Path, dict[str, object]]) -> None:
    _, manifest = small_tree
    assert manifest["kinds"] == {"plan": 12, "near-miss": 24, "ordinary": 84}
    assert manifest["md_files"] == 121


def test_mix_counts_round_and_never_exceed_pages() -> None:
    assert synth.Mix().counts(10_000) == {"plan": 500, "near-miss": 1000, "ordinary": 8500}
    assert synth.Mix(plan=0.7, near_miss=0.7).counts(10) == {
        "plan": 7,
        "near-miss": 3,
        "ordinary": 0,
    }


def test_pages_hold_what_their_kind_says(small_tree: tuple[Path, dict[str, object]]) -> None:
    root, manifest = small_tree
    plan_pages = set(manifest["plan_pages"])  # type: ignore[arg-type]
    assert len(plan_pages) == 12
    assert manifest["plan_blocks"] >= 12  # type: ignore[operator]
    for path, raw in tree_bytes(root).items():
        text = raw.decode()
        if path == "SUMMARY.md":
            continue
        if path in plan_pages:
            assert PLAN_HEADING.search(text), path
        else:
            assert not PERIOD_HEADER.search(text), path
            assert not re.search(r"^\s*(\*\*)?Obstacles(\*\*)?:?\s*$", text, re.MULTILINE), path


def test_ordinary_pages_never_name_the_plan_vocabulary(tmp_path: Path) -> None:
    mix = synth.Mix(plan=0.0, near_miss=0.0, large=0.0)
    synth.write_handbook(tmp_path, pages=60, seed=1, mix=mix)
    for path, raw in tree_bytes(tmp_path).items():
        assert not re.search(rb"(?i)vpmom|v2mom|rapid|vetted", raw), path


def test_near_misses_mention_plans(tmp_path: Path) -> None:
    mix = synth.Mix(plan=0.0, near_miss=1.0, large=0.0)
    synth.write_handbook(tmp_path, pages=30, seed=2, mix=mix)
    pages = {p: b for p, b in tree_bytes(tmp_path).items() if p != "SUMMARY.md"}
    for path, raw in pages.items():
        assert re.search(rb"VPMOM|V2MOM|RAPID|Vision", raw), path


def test_summary_lists_most_pages_and_only_real_ones(
    small_tree: tuple[Path, dict[str, object]],
) -> None:
    root, _ = small_tree
    summary = (root / "SUMMARY.md").read_text()
    links = re.findall(r"^\s*\* \[[^\]]+\]\(([^)]+)\)$", summary, re.MULTILINE)
    pages = set(tree_bytes(root)) - {"SUMMARY.md"}
    assert set(links) <= pages
    assert len(links) >= 0.85 * len(pages)
    assert any(line.startswith("  * ") for line in summary.splitlines())  # nested


def test_sizes_spread_with_a_few_large_pages(tmp_path: Path) -> None:
    manifest = synth.write_handbook(tmp_path, pages=200, seed=5, mix=synth.Mix(large=0.01))
    sizes = sorted(len(b) for p, b in tree_bytes(tmp_path).items() if p != "SUMMARY.md")
    assert sum(s >= 100_000 for s in sizes) == 2
    assert sizes[0] < 1000 and sizes[len(sizes) // 2] < 3000
    small_mean = sum(sizes[:-2]) / len(sizes[:-2])
    assert 1200 < small_mean < 2800
    assert manifest["bytes"] == sum(p.stat().st_size for p in tmp_path.rglob("*.md"))


def test_cli_writes_tree(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert synth.main([str(tmp_path / "out"), "--pages", "15", "--seed", "9"]) == 0
    assert '"pages": 15' in capsys.readouterr().out
    assert len(list((tmp_path / "out").rglob("*.md"))) == 16
    assert synth.main([str(tmp_path / "bad"), "--pages", "0"]) == 2
