"""Time `rapidvet check` against markdownlint-cli2 and a read-every-file floor on one handbook.

A benchmark, not a test: it prints numbers and whether the targets are met, and never fails on
time. It exits 1 only when a tool crashes (or exits with its usage-error code).

    .venv/bin/python bench/check_bench.py [--tree DIR] [--pages N] [--seed S] [--repeat R]
                                          [--json OUT] [--tools floor,markdownlint-cli2,rapidvet]

What runs, each as a fresh child process on the same tree, on a warm page cache (the tree is read
once before any timing):

- floor: `python -c ...` that walks the tree and reads and UTF-8-decodes every .md file;
- markdownlint-cli2: `markdownlint-cli2 "**/*.md" --config bench/bench.markdownlint-cli2.jsonc`
  from bench/node_modules/.bin (installed with `npm ci --prefix bench` when missing), cwd = tree,
  lint report (stderr) to a file; exit 1 means "found lint issues" and is expected;
- rapidvet: `rapidvet check TREE --format json` with stdout to /dev/null; exit 1 means "found
  errors" and is expected, a Python traceback or exit 2 is a failure.

Reported per tool: wall seconds (spawn to reap, best of the repeats), CPU seconds of that run
(user + sys of the whole process tree, from wait4), MB/s (tree bytes / wall seconds, MB = 10^6
bytes) and memory in MiB, in three forms:

- max RSS: ru_maxrss from wait4, the largest single process of the tree (kernel-exact, but the
  processes of a multi-process tool are not added up);
- tree RSS / tree PSS: peak of the sum over all live processes of the tree, sampled from /proc
  every --poll seconds (RSS counts pages shared between processes once per process; PSS splits
  them, so it is the fair total). Short spikes between samples can be missed.

The memory target is judged on max(max RSS, tree PSS), the largest memory held at once by
the run, over all repeats.

On a shared machine, timings are noise while other processes run: before each run the script
waits (up to --idle-wait seconds) until others use under --idle-threshold of the CPUs, and
reports per run the CPU seconds other processes used meanwhile ("others cpu s").
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import synth_handbook

BENCH_DIR = Path(__file__).resolve().parent
MARKDOWNLINT_BIN = BENCH_DIR / "node_modules" / ".bin" / "markdownlint-cli2"
MARKDOWNLINT_CONFIG = BENCH_DIR / "bench.markdownlint-cli2.jsonc"
MARKDOWNLINT_PACKAGE = BENCH_DIR / "node_modules" / "markdownlint-cli2" / "package.json"

FLOOR = "floor"
MARKDOWNLINT = "markdownlint-cli2"
RAPIDVET = "rapidvet"
TOOLS = (FLOOR, MARKDOWNLINT, RAPIDVET)

TARGET_SPEEDUP = 10.0
TARGET_RSS_MIB = 100.0
MB = 1_000_000

# The floor: every byte a checker must at least read and decode, in a fresh interpreter.
FLOOR_CODE = """
import os, sys
total = 0
for folder, dirs, files in os.walk(sys.argv[1]):
    dirs.sort()
    for name in sorted(files):
        if name.endswith(".md"):
            with open(os.path.join(folder, name), "rb") as fh:
                total += len(fh.read().decode("utf-8"))
print(total)
"""


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

    def best(self) -> Run | None:
        return min(self.runs, key=lambda r: r.seconds) if self.runs else None

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


@dataclass(frozen=True)
class Timing:
    poll: float  # seconds between memory samples
    idle_wait: float  # longest wait for a quiet machine before each run
    idle_threshold: float  # share of all CPUs others may use and still count as quiet


# --------------------------------------------------------------------------- running a tool


def measured_run(command: Sequence[str], cwd: Path, stderr: Path, poll: float) -> Run:
    """Run `command` once, stdout to /dev/null; wall time from spawn to reap, rusage of its tree."""
    with open(stderr, "wb") as err:
        busy_before, own_before = machine_busy_seconds(), time.process_time()
        start = time.perf_counter()
        proc = subprocess.Popen(
            list(command), cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err
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
    allowed = {FLOOR: {0}, MARKDOWNLINT: {0, 1}, RAPIDVET: {0, 1}}[tool]
    if run.returncode not in allowed:
        return f"exit {run.returncode}"
    return None


def timed_tool(
    tool: str, command: list[str], tree: Path, repeat: int, timing: Timing, scratch: Path
) -> ToolResult:
    result = ToolResult(tool=tool, command=command, status="ok")
    for i in range(repeat):
        wait_until_quiet(timing.idle_wait, timing.idle_threshold)
        # cwd = the tree for every tool: it is the handbook's root, as a user would run them.
        run = measured_run(command, tree, scratch / f"{tool}.{i}.stderr", timing.poll)
        result.runs.append(run)
        print(
            f"  {tool} run {i + 1}/{repeat}: {run.seconds:.2f} s (cpu {run.cpu_seconds:.2f} s, "
            f"others {run.other_cpu_seconds:.2f} s), exit {run.returncode}, "
            f"max RSS {run.max_rss_mib:.0f} MiB, tree PSS {run.tree_pss_mib:.0f} MiB",
            flush=True,
        )
        reason = failure_of(tool, run)
        if reason:
            result.status, result.note = "failed", f"{reason}: {run.stderr_tail[-600:].strip()}"
            break
    return result


# ------------------------------------------------------------------------------- the tools


def markdownlint_command() -> tuple[list[str] | None, str]:
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
    return [str(MARKDOWNLINT_BIN), "**/*.md", "--config", str(MARKDOWNLINT_CONFIG)], ""


def rapidvet_executable() -> str | None:
    # The console script of the environment running this benchmark comes first.
    beside = Path(sys.executable).parent / "rapidvet"
    if beside.exists():
        return str(beside)
    return shutil.which("rapidvet")


def rapidvet_command(tree: Path) -> tuple[list[str] | None, str]:
    exe = rapidvet_executable()
    if exe is None:
        return None, "rapidvet console script not found"
    probe = subprocess.run([exe, "check", "--help"], capture_output=True, text=True)
    if probe.returncode != 0:
        return None, f"`rapidvet check --help` failed: {probe.stderr[-600:].strip()}"
    return [exe, "check", str(tree), "--format", "json"], ""


def floor_command(tree: Path) -> list[str]:
    return [sys.executable, "-c", FLOOR_CODE, str(tree)]


def versions() -> dict[str, str]:
    found = {"python": platform.python_version(), "cpus": str(os.cpu_count())}
    node = shutil.which("node")
    if node:
        found["node"] = subprocess.run(
            [node, "--version"], capture_output=True, text=True
        ).stdout.strip()
    if MARKDOWNLINT_PACKAGE.exists():
        found[MARKDOWNLINT] = json.loads(MARKDOWNLINT_PACKAGE.read_text())["version"]
    exe = rapidvet_executable()
    if exe:
        done = subprocess.run([exe, "--version"], capture_output=True, text=True)
        found[RAPIDVET] = done.stdout.strip() or f"? (exit {done.returncode})"
    return found


# -------------------------------------------------------------------------------- the tree


@dataclass
class TreeInfo:
    path: str
    md_files: int
    bytes: int
    manifest: dict[str, Any]

    @property
    def mb(self) -> float:
        return self.bytes / MB


def md_files(root: Path) -> Iterator[Path]:
    for folder, dirs, files in os.walk(root):
        dirs.sort()
        for name in sorted(files):
            if name.endswith(".md"):
                yield Path(folder, name)


def tree_info(root: Path) -> TreeInfo:
    """Read every page once (also warms the page cache) and load the generator's manifest."""
    count = size = 0
    for path in md_files(root):
        size += len(path.read_bytes())
        count += 1
    manifest_path = root / synth_handbook.MANIFEST_NAME
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
    return TreeInfo(path=str(root), md_files=count, bytes=size, manifest=manifest)


def prepared_tree(args: argparse.Namespace, scratch: Path) -> Path:
    tree: Path = args.tree or scratch / "handbook"
    if tree.exists() and any(tree.iterdir()):
        print(f"reusing tree {tree}", flush=True)
        return tree
    print(f"generating {args.pages} pages (seed {args.seed}) into {tree} ...", flush=True)
    start = time.perf_counter()
    synth_handbook.write_handbook(tree, args.pages, args.seed)
    print(f"  generated in {time.perf_counter() - start:.1f} s", flush=True)
    return tree


# ------------------------------------------------------- what rapidvet's JSON report holds


def finding_path(finding: dict[str, Any], inherited: str | None) -> str | None:
    for key in ("path", "file", "filename"):
        if isinstance(finding.get(key), str):
            return str(finding[key])
    return inherited


def findings_with_paths(
    node: Any, path: str | None = None
) -> Iterator[tuple[str | None, dict[str, Any]]]:
    # Reports either put the path on each finding or group findings under a per-file object.
    if isinstance(node, dict):
        path = finding_path(node, path)
        if "rule_id" in node or "rule" in node or "ruleId" in node:
            yield path, node
        for value in node.values():
            yield from findings_with_paths(value, path)
    elif isinstance(node, list):
        for value in node:
            yield from findings_with_paths(value, path)


def report_summary(report_path: Path, tree: Path, info: TreeInfo) -> dict[str, Any]:
    """A sanity check that the timed work was real: what did rapidvet find, and where."""
    try:
        report = json.loads(report_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        return {"error": f"report is not JSON: {err}"}
    pairs = list(findings_with_paths(report))
    rules = Counter(str(f.get("rule_id") or f.get("rule") or f.get("ruleId")) for _, f in pairs)
    plan_pages = set(info.manifest.get("plan_pages", []))
    pages = {relative_page(p, tree) for p, _ in pairs if p}
    blocks = {relative_page(p, tree): n for p, n in blocks_by_page(report)}
    summary: dict[str, Any] = {
        "report_bytes": report_path.stat().st_size,
        "blocks": sum(blocks.values()),
        "pages_with_blocks": sum(1 for n in blocks.values() if n),
        "findings": len(pairs),
        "pages_with_findings": len(pages),
        "rules": dict(rules.most_common()),
    }
    if plan_pages:
        with_blocks = {p for p, n in blocks.items() if n}
        summary["generated"] = {
            "plan_pages": len(plan_pages),
            "plan_blocks": info.manifest.get("plan_blocks"),
            "placeholder_blocks": info.manifest.get("placeholder_blocks"),
        }
        summary["plan_pages_with_blocks"] = len(with_blocks & plan_pages)
        summary["other_pages_with_blocks"] = len(with_blocks - plan_pages)
        summary["other_pages_with_findings"] = len(pages - plan_pages)
    return summary


def blocks_by_page(node: Any) -> Iterator[tuple[str, int]]:
    """(path, number of blocks) for every per-file object of the report."""
    if isinstance(node, dict):
        if isinstance(node.get("path"), str) and isinstance(node.get("blocks"), list):
            yield node["path"], len(node["blocks"])
        for value in node.values():
            yield from blocks_by_page(value)
    elif isinstance(node, list):
        for value in node:
            yield from blocks_by_page(value)


def relative_page(path: str, tree: Path) -> str:
    p = Path(path)
    if p.is_absolute():
        try:
            return p.relative_to(tree).as_posix()
        except ValueError:
            return p.as_posix()
    text = p.as_posix()
    prefix = tree.as_posix().rstrip("/") + "/"
    return text[len(prefix) :] if text.startswith(prefix) else text


def verified_report(
    command: list[str], scratch: Path, tree: Path, info: TreeInfo
) -> dict[str, Any]:
    report = scratch / "rapidvet-report.json"
    with open(report, "wb") as out:
        subprocess.run(command, cwd=tree, stdout=out, stderr=subprocess.DEVNULL, check=False)
    return report_summary(report, tree, info)


# --------------------------------------------------------------------------------- results


def ratio(numerator: Run | None, denominator: Run | None) -> float | None:
    if numerator is None or denominator is None or denominator.seconds <= 0:
        return None
    return numerator.seconds / denominator.seconds


def targets(results: dict[str, ToolResult]) -> dict[str, Any]:
    rapid = results.get(RAPIDVET)
    lint = results.get(MARKDOWNLINT)
    floor = results.get(FLOOR)
    rapid_best = rapid.best() if rapid and rapid.status == "ok" else None
    speedup = ratio(lint.best() if lint and lint.status == "ok" else None, rapid_best)
    over_floor = ratio(rapid_best, floor.best() if floor and floor.status == "ok" else None)
    memory = rapid.peak_memory_mib() if rapid_best and rapid else None
    return {
        "speedup_vs_markdownlint": speedup,
        "rapidvet_over_floor": over_floor,
        "rapidvet_peak_memory_mib": memory,
        "speedup_target": TARGET_SPEEDUP,
        "memory_target_mib": TARGET_RSS_MIB,
        "speedup_met": None if speedup is None else speedup >= TARGET_SPEEDUP,
        "memory_met": None if memory is None else memory < TARGET_RSS_MIB,
    }


def table_rows(results: dict[str, ToolResult], info: TreeInfo) -> list[list[str]]:
    rows = [
        [
            "tool",
            "seconds",
            "cpu s",
            "others cpu s",
            "MB/s",
            "max RSS MiB",
            "tree RSS MiB",
            "tree PSS MiB",
            "exit",
            "runs",
        ]
    ]
    for name in TOOLS:
        result = results.get(name)
        if result is None:
            continue
        best = result.best()
        if best is None or result.status != "ok":
            rows.append([name, result.status, *[""] * 7, result.note[:60]])
            continue
        rows.append(
            [
                name,
                f"{best.seconds:.2f}",
                f"{best.cpu_seconds:.2f}",
                f"{best.other_cpu_seconds:.2f}",
                f"{info.mb / best.seconds:.1f}",
                f"{max(r.max_rss_mib for r in result.runs):.1f}",
                f"{max(r.tree_rss_mib for r in result.runs):.1f}",
                f"{max(r.tree_pss_mib for r in result.runs):.1f}",
                str(best.returncode),
                " ".join(f"{r.seconds:.2f}" for r in result.runs),
            ]
        )
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


def verdict(met: bool | None) -> str:
    return "n/a" if met is None else ("met" if met else "NOT met")


def printed_report(results: dict[str, ToolResult], info: TreeInfo, goals: dict[str, Any]) -> str:
    manifest = info.manifest
    kinds = manifest.get("kinds", {})
    lines = [
        "",
        f"tree: {info.path}",
        f"  {info.md_files} .md files, {info.mb:.1f} MB"
        + (
            f"; plan pages {kinds.get('plan', 0)} ({manifest.get('plan_blocks', 0)} plan blocks,"
            f" {manifest.get('placeholder_blocks', 0)} placeholders), near-misses"
            f" {kinds.get('near-miss', 0)}, ordinary {kinds.get('ordinary', 0)}"
            if kinds
            else ""
        ),
        "",
        format_table(table_rows(results, info)),
        "",
    ]
    speedup, over_floor, memory = (
        goals["speedup_vs_markdownlint"],
        goals["rapidvet_over_floor"],
        goals["rapidvet_peak_memory_mib"],
    )
    lines.append(
        "speed-up markdownlint-cli2 / rapidvet: "
        + (f"{speedup:.1f}x" if speedup else "n/a")
        + f"  (target >= {TARGET_SPEEDUP:.0f}x: {verdict(goals['speedup_met'])})"
    )
    lines.append("rapidvet / floor: " + (f"{over_floor:.1f}x" if over_floor else "n/a"))
    lines.append(
        "rapidvet peak memory (max of max RSS and tree PSS): "
        + (f"{memory:.1f} MiB" if memory else "n/a")
        + f"  (target < {TARGET_RSS_MIB:.0f} MiB: {verdict(goals['memory_met'])})"
    )
    return "\n".join(lines)


# ------------------------------------------------------------------------------------ main


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--tree", type=Path, help="reuse this tree (generated into it if empty)")
    parser.add_argument("--pages", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=3, help="runs of floor and rapidvet")
    parser.add_argument("--markdownlint-repeat", type=int, default=1)
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
    parser.add_argument(
        "--tools", default=",".join(TOOLS), help="comma-separated subset of: " + ", ".join(TOOLS)
    )
    parser.add_argument("--json", type=Path, help="also save the results here")
    parser.add_argument(
        "--no-verify",
        action="store_true",
        help="skip the untimed run that summarizes rapidvet's report",
    )
    args = parser.parse_args(argv)
    args.tools = [t.strip() for t in args.tools.split(",") if t.strip()]
    unknown = set(args.tools) - set(TOOLS)
    if unknown:
        parser.error(f"unknown tools: {', '.join(sorted(unknown))}")
    return args


def tool_results(args: argparse.Namespace, tree: Path, scratch: Path) -> dict[str, ToolResult]:
    results: dict[str, ToolResult] = {}
    for tool in TOOLS:
        if tool not in args.tools:
            continue
        command: list[str] | None
        if tool == FLOOR:
            command, note = floor_command(tree), ""
        elif tool == MARKDOWNLINT:
            command, note = markdownlint_command()
        else:
            command, note = rapidvet_command(tree)
        if command is None:
            print(f"skipping {tool}: {note}", flush=True)
            results[tool] = ToolResult(tool=tool, command=[], status="skipped", note=note)
            continue
        repeat = args.markdownlint_repeat if tool == MARKDOWNLINT else args.repeat
        print(f"timing {tool} ({repeat} run(s)) ...", flush=True)
        timing = Timing(args.poll, args.idle_wait, args.idle_threshold)
        results[tool] = timed_tool(tool, command, tree, repeat, timing, scratch)
    return results


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="rapidvet-bench-") as tmp:
        scratch = Path(tmp)
        tree = prepared_tree(args, scratch).resolve()
        info = tree_info(tree)
        results = tool_results(args, tree, scratch)
        goals = targets(results)
        report = None
        rapid = results.get(RAPIDVET)
        if rapid and rapid.status == "ok" and not args.no_verify:
            report = verified_report(rapid.command, scratch, tree, info)
    print(printed_report(results, info, goals))
    if report:
        print(f"rapidvet report (untimed check run): {json.dumps(report)[:800]}")
    if args.json:
        saved = {
            "tree": {k: v for k, v in asdict(info).items() if k != "manifest"}
            | {
                "mb": info.mb,
                "manifest": {k: v for k, v in info.manifest.items() if k != "plan_pages"},
            },
            "versions": versions(),
            "tools": {name: asdict(r) for name, r in results.items()},
            "targets": goals,
            "rapidvet_report": report,
        }
        args.json.write_text(json.dumps(saved, indent=1) + "\n", encoding="utf-8")
        print(f"saved {args.json}")
    return 1 if any(r.status == "failed" for r in results.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
