"""Time `rapidvet check` against markdownlint-cli2, the peer, on the shapes users run it on.

A benchmark, not a test: it prints numbers and never fails on time. It exits 1 only when a tool
crashes (or exits with its usage-error code).

    .venv/bin/python bench/check_bench.py [--pages 2000,10000] [--plan-share 0.25] [--seed S]
        [--repeat 3] [--corpus DIR] [--trees DIR] [--shapes ...] [--tools ...] [--json OUT]

The shapes, each a fresh child process per run, on a warm page cache and, after one untimed
rapidvet run per shape, a warm bytecode cache (under a scratch PYTHONPYCACHEPREFIX):

- version: `rapidvet --version` against `markdownlint-cli2 --help` (start-up alone);
- page: one page of a plan (`rapidvet check page.md`, `markdownlint-cli2 page.md`): what
  pre-commit pays on a commit;
- corpus: the real handbook's HEAD, `handbook-head` of --corpus (default: the shared corpus
  beside the repository); skipped with a note when it is not there;
- synth-N: a synthetic handbook of N pages (--pages) where a --plan-share of the pages hold
  plans and all others are near-misses full of the words vision, RAPID and plan.

rapidvet runs `check . --format json` and markdownlint-cli2 `"**/*.md" --config
bench/bench.markdownlint-cli2.jsonc` (from bench/node_modules, `npm ci --prefix bench` when
missing), both with the tree as working directory and stdout to /dev/null; exit 1 (findings)
is expected of both. The two tools' runs alternate (rapidvet, markdownlint-cli2, rapidvet, ...)
--repeat times, so a burst of other load hits both; each row shows the median wall seconds,
the median CPU seconds (user + sys of the process tree), the ratio markdownlint-cli2 / rapidvet
of the medians, and the peak memory over the runs:
max(ru_maxrss of the largest process, peak PSS summed over the process tree sampled from
/proc every --poll seconds).

On a shared machine, timings are noise while other processes run: before each run the script
waits (up to --idle-wait seconds) until others use under --idle-threshold of the CPUs, and
reports per row the CPU seconds other processes used meanwhile.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import synth_handbook

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
MARKDOWNLINT_BIN = BENCH_DIR / "node_modules" / ".bin" / "markdownlint-cli2"
MARKDOWNLINT_CONFIG = BENCH_DIR / "bench.markdownlint-cli2.jsonc"
MARKDOWNLINT_PACKAGE = BENCH_DIR / "node_modules" / "markdownlint-cli2" / "package.json"
# The shared corpus of real handbook pages, when this checkout sits beside it.
CORPUS_CANDIDATES = (Path("/work/shared/corpus"), REPO.parent / "shared" / "corpus")

MARKDOWNLINT = "markdownlint-cli2"
RAPIDVET = "rapidvet"
TOOLS = (RAPIDVET, MARKDOWNLINT)
FIXED_SHAPES = ("version", "page", "corpus")
MB = 1_000_000


@dataclass
class Run:
    seconds: float
    cpu_seconds: float
    returncode: int
    max_rss_mib: float
    tree_rss_mib: float
    tree_pss_mib: float
    samples: int
    other_cpu_seconds: float  # CPU that other processes of the machine used meanwhile
    stderr_tail: str = ""


@dataclass
class ToolResult:
    tool: str
    command: list[str]
    status: str  # ok | failed | skipped
    note: str = ""
    runs: list[Run] = field(default_factory=list)

    def median_seconds(self) -> float | None:
        ok = self.status == "ok" and self.runs
        return statistics.median(r.seconds for r in self.runs) if ok else None

    def median_cpu_seconds(self) -> float:
        return statistics.median(r.cpu_seconds for r in self.runs)

    def peak_memory_mib(self) -> float:
        return max((max(r.max_rss_mib, r.tree_pss_mib) for r in self.runs), default=0.0)


# ------------------------------------------------------------------- memory of a process tree


def child_pids(pid: int) -> list[int]:
    """Direct children of every thread of `pid` (Linux /proc/PID/task/TID/children)."""
    children: list[int] = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/children") as fh:
                children += [int(c) for c in fh.read().split()]
    except OSError:  # the process exited meanwhile
        pass
    return children


def tree_pids(root: int) -> list[int]:
    pids, todo = [], [root]
    while todo:
        pid = todo.pop()
        pids.append(pid)
        todo += child_pids(pid)
    return pids


def rss_pss_kib(pid: int) -> tuple[int, int]:
    values = {"Rss:": 0, "Pss:": 0}
    try:
        with open(f"/proc/{pid}/smaps_rollup") as fh:
            for line in fh:
                key, _, rest = line.partition(" ")
                if key in values:
                    values[key] = int(rest.split()[0])
    except (OSError, ValueError):
        pass
    return values["Rss:"], values["Pss:"]


class TreeSampler(threading.Thread):
    """Samples the summed RSS and PSS of a process and all its descendants until stopped."""

    def __init__(self, pid: int, interval: float) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.interval = interval
        self.peak_rss_kib = 0
        self.peak_pss_kib = 0
        self.samples = 0
        self._stop_event = threading.Event()

    def run(self) -> None:
        while True:
            start = time.perf_counter()
            self.sample()
            # Reading smaps of a large process takes milliseconds: keep the sampler's own CPU
            # use under ~10% of one core so it does not slow the tool it measures.
            pause = max(self.interval, 9 * (time.perf_counter() - start))
            if self._stop_event.wait(pause):
                return

    def sample(self) -> None:
        rss = pss = 0
        for pid in tree_pids(self.pid):
            r, p = rss_pss_kib(pid)
            rss, pss = rss + r, pss + p
        self.peak_rss_kib = max(self.peak_rss_kib, rss)
        self.peak_pss_kib = max(self.peak_pss_kib, pss)
        self.samples += 1

    def stop(self) -> None:
        self._stop_event.set()
        self.join()


# ------------------------------------------------------------- a shared machine's other load


def machine_busy_seconds() -> float:
    """CPU seconds all processors have spent busy since boot (/proc/stat)."""
    with open("/proc/stat") as fh:
        values = [int(v) for v in fh.readline().split()[1:9]]
    idle = values[3] + values[4]  # idle + iowait
    return (sum(values) - idle) / os.sysconf("SC_CLK_TCK")


def others_busy_share(window: float = 1.0) -> float:
    """Share of all CPUs that other processes used over `window` seconds."""
    before, own = machine_busy_seconds(), time.process_time()
    time.sleep(window)
    busy = machine_busy_seconds() - before - (time.process_time() - own)
    return max(0.0, busy / (window * (os.cpu_count() or 1)))


def wait_until_quiet(max_wait: float, threshold: float) -> float:
    """Wait (up to `max_wait` s) until other processes leave the CPUs nearly idle: timings on
    a shared machine are otherwise mostly noise. Returns the last share seen."""
    deadline = time.monotonic() + max_wait
    share = others_busy_share()
    told = False
    while share > threshold and time.monotonic() < deadline:
        if not told:
            print(
                f"  waiting for a quiet machine (others use {share:.0%} of the CPUs) ...",
                flush=True,
            )
            told = True
        time.sleep(2.0)
        share = others_busy_share()
    return share


# --------------------------------------------------------------------------- running a tool


def tool_environment(scratch: Path) -> dict[str, str]:
    """The tools' environment: Python's bytecode cached under `scratch`, as an installed
    rapidvet has it (pip compiles it at install), even where the environment forbids writing
    bytecode beside the source (PYTHONDONTWRITEBYTECODE): else every run compiles rapidvet."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    return env | {"PYTHONPYCACHEPREFIX": str(scratch / "pycache")}


def measured_run(
    command: Sequence[str], cwd: Path, stderr: Path, poll: float, env: dict[str, str] | None = None
) -> Run:
    """Run `command` once, stdout to /dev/null; wall time from spawn to reap, rusage of its tree."""
    with open(stderr, "wb") as err:
        busy_before, own_before = machine_busy_seconds(), time.process_time()
        start = time.perf_counter()
        proc = subprocess.Popen(
            list(command),
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=err,
            env=env,
        )
        sampler = TreeSampler(proc.pid, poll)
        sampler.start()
        # wait4 reports the child's usage plus that of its own reaped descendants.
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        sampler.stop()
        busy = machine_busy_seconds() - busy_before - (time.process_time() - own_before)
    proc.returncode = os.waitstatus_to_exitcode(status)  # keep Popen from waiting again
    cpu = usage.ru_utime + usage.ru_stime
    return Run(
        seconds=seconds,
        cpu_seconds=cpu,
        other_cpu_seconds=max(0.0, busy - cpu),
        returncode=proc.returncode,
        max_rss_mib=usage.ru_maxrss / 1024,
        tree_rss_mib=sampler.peak_rss_kib / 1024,
        tree_pss_mib=sampler.peak_pss_kib / 1024,
        samples=sampler.samples,
        stderr_tail=tail_of(stderr),
    )


def tail_of(path: Path, limit: int = 2000) -> str:
    with open(path, "rb") as fh:
        fh.seek(max(0, path.stat().st_size - limit))
        return fh.read().decode("utf-8", "replace")


def failure_of(tool: str, run: Run) -> str | None:
    """Why a run counts as failed, or None: lint findings are an expected outcome."""
    if run.returncode < 0:
        return f"killed by signal {-run.returncode}"
    if tool == RAPIDVET and "Traceback (most recent call last)" in run.stderr_tail:
        return f"crashed (exit {run.returncode})"
    if run.returncode not in (0, 1):
        return f"exit {run.returncode}"
    return None


# ------------------------------------------------------------------------------- the tools


def markdownlint_executable() -> tuple[str | None, str]:
    """markdownlint-cli2 from bench/node_modules, installed from package-lock.json if missing."""
    if not MARKDOWNLINT_BIN.exists():
        npm = shutil.which("npm")
        if npm is None:
            return None, "npm not found; cannot install markdownlint-cli2"
        print("installing markdownlint-cli2 with npm ci --prefix bench ...", flush=True)
        done = subprocess.run(
            [npm, "ci", "--prefix", str(BENCH_DIR), "--no-audit", "--no-fund", "--ignore-scripts"],
            capture_output=True,
            text=True,
        )
        if done.returncode != 0 or not MARKDOWNLINT_BIN.exists():
            return None, f"npm ci failed: {done.stderr[-600:].strip()}"
    return str(MARKDOWNLINT_BIN), ""


def rapidvet_executable() -> tuple[str | None, str]:
    # The console script of the environment running this benchmark comes first.
    beside = Path(sys.executable).parent / "rapidvet"
    found = str(beside) if beside.exists() else shutil.which("rapidvet")
    return found, "" if found else "rapidvet console script not found"


def versions() -> dict[str, str]:
    found = {"python": platform.python_version(), "cpus": str(os.cpu_count())}
    node = shutil.which("node")
    if node:
        done = subprocess.run([node, "--version"], capture_output=True, text=True)
        found["node"] = done.stdout.strip()
    if MARKDOWNLINT_PACKAGE.exists():
        found[MARKDOWNLINT] = json.loads(MARKDOWNLINT_PACKAGE.read_text())["version"]
    exe, _ = rapidvet_executable()
    if exe:
        done = subprocess.run([exe, "--version"], capture_output=True, text=True)
        found[RAPIDVET] = done.stdout.strip() or f"? (exit {done.returncode})"
    return found


# ------------------------------------------------------------------------------- the shapes


@dataclass
class Shape:
    """What both tools run on: a working folder and the files each tool is pointed at."""

    name: str
    cwd: Path
    targets: list[str]  # rapidvet's check paths; markdownlint-cli2's globs are the same
    md_files: int = 0
    bytes: int = 0
    note: str = ""  # why the shape is skipped


def command_of(tool: str, exe: str, shape: Shape) -> list[str]:
    if shape.name == "version":
        # markdownlint-cli2 has no --version that exits 0: a glob matching nothing instead.
        return [exe, "--version"] if tool == RAPIDVET else [exe, "**/*.md"]
    if tool == RAPIDVET:
        return [exe, "check", *shape.targets, "--format", "json"]
    globs = ["**/*.md" if target == "." else target for target in shape.targets]
    return [exe, *globs, "--config", str(MARKDOWNLINT_CONFIG)]


def measured_tree(shape: Shape) -> Shape:
    """The shape with its pages counted; reading them all warms the page cache."""
    for target in shape.targets:
        path = shape.cwd / target
        for page in [path] if path.is_file() else sorted(path.rglob("*.md")):
            shape.bytes += len(page.read_bytes())
            shape.md_files += 1
    return shape


def corpus_head(corpus: Path | None) -> Path | None:
    for root in [corpus] if corpus else CORPUS_CANDIDATES:
        if (root / "handbook-head").is_dir():
            return root / "handbook-head"
    return None


def synthetic(root: Path, pages: int, seed: int, plan_share: float) -> Path:
    """A handbook of `pages` pages, a `plan_share` of them plans and the rest near-misses;
    reused when `root` already holds it."""
    tree = root / f"synth-{pages}-{plan_share}-{seed}"
    if not (tree / synth_handbook.MANIFEST_NAME).exists():
        print(f"generating {pages} pages into {tree} ...", flush=True)
        mix = synth_handbook.Mix(plan=plan_share, near_miss=1 - plan_share)
        synth_handbook.write_handbook(tree, pages, seed, mix)
    return tree


def one_plan_page(root: Path, seed: int) -> tuple[Path, str]:
    """A folder holding a single plan page, and that page's path in it."""
    tree = root / "one-page"
    mix = synth_handbook.Mix(plan=1.0, near_miss=0.0, large=0.0)
    manifest = synth_handbook.write_handbook(tree, 1, seed, mix)
    (tree / synth_handbook.SUMMARY_NAME).unlink()
    return tree, str(manifest["plan_pages"][0])  # type: ignore[index]


def shapes(args: argparse.Namespace, scratch: Path) -> list[Shape]:
    trees = args.trees or scratch
    found: list[Shape] = []
    for name in args.shapes:
        if name == "version":
            (scratch / "empty").mkdir(exist_ok=True)
            found.append(Shape(name, scratch / "empty", []))
        elif name == "page":
            tree, page = one_plan_page(scratch, args.seed)
            found.append(measured_tree(Shape(name, tree, [page])))
        elif name == "corpus":
            head = corpus_head(args.corpus)
            note = "" if head else "no handbook-head in the shared corpus here; skipped"
            found.append(
                measured_tree(Shape(name, head or scratch, ["."] if head else [], note=note))
            )
        else:
            pages = int(name.removeprefix("synth-"))
            tree = synthetic(trees, pages, args.seed, args.plan_share)
            found.append(measured_tree(Shape(name, tree, ["."])))
    return found


# ------------------------------------------------------------------------------ the timing


@dataclass
class ShapeResult:
    shape: str
    md_files: int
    mb: float
    note: str
    tools: dict[str, ToolResult] = field(default_factory=dict)

    def ratio(self) -> float | None:
        """markdownlint-cli2's median seconds over rapidvet's."""
        ours, peer = (self.tools[t].median_seconds() if t in self.tools else None for t in TOOLS)
        return peer / ours if ours and peer else None


def timed_shape(
    shape: Shape, executables: dict[str, str], args: argparse.Namespace, scratch: Path
) -> ShapeResult:
    """Each tool --repeat times, the tools' runs alternating."""
    result = ShapeResult(shape.name, shape.md_files, shape.bytes / MB, shape.note)
    if shape.note:
        print(f"{shape.name}: {shape.note}", flush=True)
        return result
    env = tool_environment(scratch)
    for tool, exe in executables.items():
        result.tools[tool] = ToolResult(tool, command_of(tool, exe, shape), "ok")
        if tool == RAPIDVET:  # untimed: fills the bytecode cache of the modules this shape runs
            measured_run(result.tools[tool].command, shape.cwd, scratch / "warm.stderr", 1.0, env)
    for i in range(args.repeat):
        for tool, timed in result.tools.items():
            if timed.status != "ok":
                continue
            wait_until_quiet(args.idle_wait, args.idle_threshold)
            stderr = scratch / f"{shape.name}.{tool}.{i}.stderr"
            run = measured_run(timed.command, shape.cwd, stderr, args.poll, env)
            timed.runs.append(run)
            print(
                f"  {shape.name} {tool} run {i + 1}/{args.repeat}: {run.seconds:.3f} s "
                f"(cpu {run.cpu_seconds:.2f}, others {run.other_cpu_seconds:.2f}), "
                f"exit {run.returncode}, peak {max(run.max_rss_mib, run.tree_pss_mib):.0f} MiB",
                flush=True,
            )
            reason = failure_of(tool, run)
            if reason:
                timed.status, timed.note = "failed", f"{reason}: {run.stderr_tail[-600:].strip()}"
    return result


# --------------------------------------------------------------------------------- results


def seconds_text(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.2f} s"


def table_rows(results: list[ShapeResult]) -> list[list[str]]:
    columns = ("median", "cpu s", "MiB")
    rows = [["shape", "files", "MB", *(f"{t} {c}" for t in TOOLS for c in columns)]]
    rows[0] += ["ratio", "others cpu s"]
    for result in results:
        row = [result.shape, str(result.md_files), f"{result.mb:.1f}"]
        for tool in TOOLS:
            timed = result.tools.get(tool)
            if timed is None or timed.status != "ok":
                row += [timed.status if timed else "skipped", "-", "-"]
                continue
            row += [
                seconds_text(timed.median_seconds()),
                f"{timed.median_cpu_seconds():.2f}",
                f"{timed.peak_memory_mib():.0f}",
            ]
        ratio = result.ratio()
        others = sum(r.other_cpu_seconds for t in result.tools.values() for r in t.runs)
        rows.append([*row, f"{ratio:.1f}x" if ratio else "-", f"{others:.1f}"])
    return rows


def format_table(rows: list[list[str]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [
        "  ".join(
            cell.ljust(w) if i == 0 else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        )
        for row in rows
    ]
    lines.insert(1, "-" * len(lines[0]))
    return "\n".join(lines)


def notes(results: list[ShapeResult]) -> list[str]:
    found = [f"{r.shape}: {r.note}" for r in results if r.note]
    for result in results:
        found += [f"{result.shape} {t.tool}: {t.note}" for t in result.tools.values() if t.note]
    return found


# ------------------------------------------------------------------------------------ main


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--pages", default="2000,10000", help="synthetic handbooks' sizes")
    parser.add_argument(
        "--plan-share",
        type=float,
        default=0.25,
        help="share of a synthetic handbook's pages that hold plans; the rest are near-misses",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each tool per shape")
    parser.add_argument("--corpus", type=Path, help="the shared corpus (holds handbook-head/)")
    parser.add_argument("--trees", type=Path, help="keep and reuse the synthetic trees here")
    parser.add_argument(
        "--shapes", help="comma-separated subset of version, page, corpus, synth-N (default: all)"
    )
    parser.add_argument(
        "--tools", default=",".join(TOOLS), help="comma-separated subset of: " + ", ".join(TOOLS)
    )
    parser.add_argument("--poll", type=float, default=0.05, help="seconds between memory samples")
    parser.add_argument(
        "--idle-wait",
        type=float,
        default=120.0,
        help="before each run, wait up to this many seconds for other processes to go quiet",
    )
    parser.add_argument(
        "--idle-threshold",
        type=float,
        default=0.10,
        help="share of all CPUs other processes may use for the machine to count as quiet",
    )
    parser.add_argument("--json", type=Path, help="also save the results here")
    args = parser.parse_args(argv)
    if not 0 <= args.plan_share <= 1:
        parser.error("--plan-share is a share: 0 to 1")
    synth = [f"synth-{int(n)}" for n in args.pages.split(",") if n.strip()]
    args.shapes = args.shapes.split(",") if args.shapes else [*FIXED_SHAPES, *synth]
    args.tools = [t.strip() for t in args.tools.split(",") if t.strip()]
    unknown = set(args.tools) - set(TOOLS)
    unknown |= {s for s in args.shapes if s not in FIXED_SHAPES and not s.startswith("synth-")}
    if unknown:
        parser.error(f"unknown tools or shapes: {', '.join(sorted(unknown))}")
    return args


def executables(tools: Sequence[str]) -> tuple[dict[str, str], list[str]]:
    """Each tool's executable, and why any is skipped."""
    found, skipped = {}, []
    for tool in tools:
        exe, note = rapidvet_executable() if tool == RAPIDVET else markdownlint_executable()
        if exe:
            found[tool] = exe
        else:
            skipped.append(f"{tool}: {note}")
    return found, skipped


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    found, skipped = executables(args.tools)
    with tempfile.TemporaryDirectory(prefix="rapidvet-bench-") as tmp:
        scratch = Path(tmp)
        results = [timed_shape(s, found, args, scratch) for s in shapes(args, scratch)]
    print()
    print(format_table(table_rows(results)))
    for note in [*skipped, *notes(results)]:
        print(f"note: {note}")
    if args.json:
        saved = {
            "versions": versions(),
            "plan_share": args.plan_share,
            "shapes": [asdict(r) | {"ratio": r.ratio()} for r in results],
        }
        args.json.write_text(json.dumps(saved, indent=1) + "\n", encoding="utf-8")
        print(f"saved {args.json}")
    failed = any(t.status == "failed" for r in results for t in r.tools.values())
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
