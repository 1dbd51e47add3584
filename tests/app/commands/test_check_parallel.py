"""`rapidvet check` spreads a large tree over the cores, in chunks of about equal bytes, and
reports exactly what one process reports, in the same order; a small tree forks no helper."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from rapidvet.app.checkout.cores import MOST_CHUNKS
from rapidvet.app.checkout.handbook import Page
from rapidvet.app.commands.check import CHUNKS_PER_JOB, MOST_JOBS, PARALLEL_FROM_BYTES, _chunks
from tests.app.commands.test_cli_help import imported_by
from tests.support.bench_scripts import load_bench_script
from tests.support.service import RAPIDVET

synth = load_bench_script("synth_handbook")
HELPERS = "rapidvet.app.checkout.cores"  # imported only to fork helpers


@pytest.fixture(scope="module")
def large_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A little over the threshold: one page in four a plan, the rest near-misses."""
    root = tmp_path_factory.mktemp("large")
    mix = synth.Mix(plan=0.25, near_miss=0.75, large=0.0)
    synth.write_handbook(root, pages=1300, seed=5, mix=mix)
    size = sum(p.stat().st_size for p in root.rglob("*.md") if p.name != "SUMMARY.md")
    assert PARALLEL_FROM_BYTES < size < 2 * PARALLEL_FROM_BYTES
    return root


def check_json(tree: Path, jobs: int) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [RAPIDVET, "check", ".", "--format", "json", "--jobs", str(jobs), "--today", "2026-12-01"],
        cwd=tree,
        capture_output=True,
        text=True,
    )


def test_two_processes_report_what_one_does_in_its_order(large_tree: Path) -> None:
    one, two = check_json(large_tree, 1), check_json(large_tree, 2)
    assert (one.returncode, one.stderr) == (1, "")  # the tree's planted errors
    assert (two.returncode, two.stderr, two.stdout) == (one.returncode, one.stderr, one.stdout)
    # Whole, though the process ends without a teardown once it has written it.
    assert len(json.loads(two.stdout)["files"]) == len(list(large_tree.rglob("*.md")))


def test_helpers_only_past_the_threshold(large_tree: Path, tmp_path: Path) -> None:
    assert HELPERS in imported_by(["check", ".", "--jobs", "2"], large_tree, code=1)
    assert HELPERS not in imported_by(["check", ".", "--jobs", "1"], large_tree, code=1)
    (tmp_path / "page.md").write_text("# A page\n" + "Some prose.\n" * 50_000)
    assert HELPERS not in imported_by(["check", ".", "--jobs", "2"], tmp_path)


def test_chunks_keep_the_order_and_spread_the_bytes() -> None:
    sizes = [1_000] * 150 + [300_000] + [1_000] * 150
    found = [Page(f"p{i}.md", f"p{i}.md", ".") for i in range(len(sizes))]
    chunks = _chunks(found, sizes, 16)
    assert [page for chunk in chunks for page in chunk] == found
    weights = [sum(sizes[found.index(page)] for page in chunk) for chunk in chunks]
    share = sum(sizes) / 16
    assert weights[:4] == [37_000] * 4  # a 38th page would pass the share, 37 500 bytes
    assert weights[4:6] == [2_000, 300_000]  # the large page alone
    assert all(weight <= share for weight in weights[6:])


def test_a_page_that_cannot_be_read_fails_a_parallel_run_as_it_fails_one_process(
    large_tree: Path, tmp_path: Path
) -> None:
    tree = tmp_path / "tree"
    shutil.copytree(large_tree, tree)
    pages = sorted(p for p in tree.rglob("*.md") if p.name != "SUMMARY.md")
    for page in (pages[len(pages) // 3], pages[-1]):  # far apart: likely in different processes
        page.write_bytes(b"# A page\n\xff\xfe not UTF-8\n")
    one, two = check_json(tree, 1), check_json(tree, 2)
    assert one.returncode == 2 and "not UTF-8 text" in one.stderr
    assert (two.returncode, two.stderr, two.stdout) == (one.returncode, one.stderr, one.stdout)


def test_jobs_beyond_the_limit_are_refused_in_one_line(tmp_path: Path) -> None:
    for jobs in ("65", "-1", "many"):
        done = subprocess.run(
            [RAPIDVET, "check", ".", "--jobs", jobs], cwd=tmp_path, capture_output=True, text=True
        )
        assert done.returncode == 2, jobs
        assert f"--jobs: not 0 (one per core) to {MOST_JOBS}: '{jobs}'" in done.stderr
    assert MOST_JOBS * CHUNKS_PER_JOB <= MOST_CHUNKS
