"""`rapidvet check [PATH...]`: the structural rules on handbook pages, no GitHub needed."""

from __future__ import annotations

import argparse
import functools
import gc
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import TypeVar

from rapidvet.app.checkout.config_file import config_finder, read_config
from rapidvet.app.checkout.formats import (
    FORMAT_HELP,
    FORMATS,
    Piece,
    TextStyle,
    document,
    errors,
    piece,
)
from rapidvet.app.checkout.handbook import (
    Nearest,
    Page,
    absolute,
    excluded,
    holds_toc,
    pages,
    read_page,
    table_of_contents,
)
from rapidvet.app.commands import exit_codes
from rapidvet.checks.model import Finding, Severity
from rapidvet.checks.options import CheckOptions
from rapidvet.checks.page import PageReport, check_page
from rapidvet.checks.rules import RAPID_MISMATCH, severity_for
from rapidvet.workflows.rapid_config import RapidConfig

# Below this many bytes of pages a helper process saves too little to matter. Forking one
# costs ~1 ms, but two processes on the 2-core development machine each run ~20% slower than
# one alone, and on the real handbook (1.7 MB, 4% plans) a helper changed the run by less
# than its noise, ±5 ms of ~120 (bench/README.md): most of it is start-up and the tree walk.
PARALLEL_FROM_BYTES = 2_000_000
# Chunks per process: enough that a chunk holding a 300 KB page does not leave a core idle.
CHUNKS_PER_JOB = 8
# More processes than cores only add forks; this many keeps the chunks within what
# `cores.spread` takes (MOST_CHUNKS) and a mistyped --jobs from forking thousands.
MOST_JOBS = 64
JOBS_HELP = f"processes, 1 to {MOST_JOBS} (default 0: one per core)"
COLOR_CHOICES = ("auto", "always", "never")
Kept = TypeVar("Kept")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "check",
        help="check VPMOM plans in markdown files or folders",
        description="Check the VPMOM plans in markdown files or folders. Each file is checked "
        "with the nearest rapid.yml (.github/rapid.yml, rapid.yml or docs/rapid.yml) in its "
        "folder or a folder above, up to the repository root, unless --config names one.",
        **exit_codes("no error findings", "at least one error finding"),
    )
    parser.add_argument(
        "paths", nargs="*", default=["."], metavar="PATH", help="files or folders (default: .)"
    )
    parser.add_argument("--format", choices=FORMATS, default="text", help=FORMAT_HELP)
    parser.add_argument("--config", help="the rapid.yml for every file (default: the nearest)")
    parser.add_argument(
        "--exclude",
        action="append",
        default=[],
        metavar="GLOB",
        help="skip files whose path, folder or name matches (repeatable; adds to checks.exclude)",
    )
    parser.add_argument(
        "--severity",
        choices=[str(s) for s in Severity],
        default=str(Severity.NOTICE),
        help="report findings of this severity or worse (default: notice, all)",
    )
    parser.add_argument(
        "-q", "--quiet", action="store_true", help="text: print findings only, no summary"
    )
    parser.add_argument(
        "--color",
        choices=COLOR_CHOICES,
        default="auto",
        help="colour text output: auto (on a terminal, unless NO_COLOR is set), always, never",
    )
    parser.add_argument("--today", type=parse_today, help="date to check against (YYYY-MM-DD)")
    parser.add_argument("--jobs", type=job_count, default=0, help=JOBS_HELP)
    # It opens nothing that needs closing: its process may end without a teardown.
    parser.set_defaults(func=run, leaves_at_once=True)


def job_count(text: str) -> int:
    """--jobs: 0 for one process per core, else 1 to MOST_JOBS."""
    try:
        jobs = int(text)
    except ValueError:
        jobs = -1
    if not 0 <= jobs <= MOST_JOBS:
        raise argparse.ArgumentTypeError(f"not 0 (one per core) to {MOST_JOBS}: {text!r}")
    return jobs


def parse_today(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a YYYY-MM-DD date: {text!r}") from None


@dataclass(frozen=True)
class Handbook:
    """What a page is checked with: its rapid.yml (None: the defaults), the folder that
    file's exclude globs start from, and the folder its table of contents is read from
    (None: no table of contents)."""

    config: str | None
    base: str
    toc_root: str | None


class Handbooks:
    """Finds each page's handbook, like ruff and markdownlint find their configuration, and
    reads each rapid.yml and table of contents once."""

    def __init__(self, config: str | None, today: date) -> None:
        self._chosen = (config, os.getcwd()) if config else None
        self._config_for = config_finder()
        self._toc_root = Nearest(holds_toc)
        self._today = today
        self._configs: dict[str, RapidConfig] = {}
        self._options: dict[Handbook, CheckOptions] = {}
        self._folders: dict[str, Handbook] = {}

    def of_folder(self, folder: str) -> Handbook:
        # Remembered per folder as named: a handbook's thousands of pages share a few hundred.
        if folder not in self._folders:
            absolute = os.path.abspath(folder)
            config = self._chosen or self._config_for(absolute)
            toc_root = self._toc_root(Path(absolute))
            path, base = config or (None, "")
            self._folders[folder] = Handbook(path, base, str(toc_root) if toc_root else None)
        return self._folders[folder]

    def _read(self, path: str) -> RapidConfig:
        if path not in self._configs:
            self._configs[path] = read_config(path)
        return self._configs[path]

    def place(self, page: Page) -> tuple[Handbook, Page] | None:
        """The page's handbook, and the page named relative to its table of contents; None
        when its rapid.yml's checks.exclude skips it."""
        handbook = self.of_folder(os.path.dirname(page.display) or ".")
        if handbook.config and excluded(
            page.display, self._read(handbook.config).checks.exclude, handbook.base
        ):
            return None
        walked_from_it = absolute(page.root) == handbook.toc_root
        if handbook.toc_root is not None and not walked_from_it:
            rel = os.path.relpath(os.path.abspath(page.display), handbook.toc_root)
            page = replace(page, rel=rel.replace(os.sep, "/"), root=handbook.toc_root)
        return handbook, page

    def options(self, handbook: Handbook) -> CheckOptions:
        if handbook not in self._options:
            toc = table_of_contents(handbook.toc_root) if handbook.toc_root else None
            self._options[handbook] = (
                self._read(handbook.config).check_options(self._today, toc)
                if handbook.config
                else CheckOptions(today=self._today, toc=toc)
            )
        return self._options[handbook]

    def with_mismatches(self, handbook: Handbook, report: PageReport) -> PageReport:
        """The report with each role a plan's RAPID line gives to other holders than the
        handbook's rapid.yml does, as the RAPID review reports it."""
        if handbook.config is None:
            return report
        config, options = self._read(handbook.config), self.options(handbook)
        severity = severity_for(RAPID_MISMATCH, options)
        if severity is None:
            return report
        return _with_mismatches(report, config, handbook.base, severity)

    def group(self, found: Sequence[Page]) -> dict[Handbook, list[Page]]:
        """The pages by handbook, in the order found, the excluded ones left out."""
        groups: dict[Handbook, list[Page]] = {}
        for page in found:
            placed = self.place(page)
            if placed is not None:
                groups.setdefault(placed[0], []).append(placed[1])
        return groups


def run(args: argparse.Namespace) -> int:
    handbooks = Handbooks(args.config, args.today or date.today())
    jobs = args.jobs or os.cpu_count() or 1
    style = TextStyle(color=_color(args.color), summary=not args.quiet)
    pieces: list[Piece] = []
    for handbook, group in handbooks.group(pages(args.paths, args.exclude)).items():
        shown_piece = functools.partial(
            _shown_piece,
            with_mismatches=functools.partial(handbooks.with_mismatches, handbook),
            shown=_at_least(Severity(args.severity)),
            fmt=args.format,
            style=style,
        )
        pieces += check_all(group, handbooks.options(handbook), jobs, shown_piece)
    sys.stdout.writelines(document(pieces, args.format, style))
    # Errors are the worst severity, so every --severity shows them all.
    return 1 if errors(pieces) else 0


def _shown_piece(
    report: PageReport,
    with_mismatches: Callable[[PageReport], PageReport],
    shown: frozenset[Severity],
    fmt: str,
    style: TextStyle,
) -> Piece:
    """The page's piece of the output: run where the page was checked, which sends only it."""
    report = with_mismatches(report)
    report = replace(report, findings=tuple(f for f in report.findings if f.severity in shown))
    return piece(report, fmt, style)


def _at_least(least: Severity) -> frozenset[Severity]:
    """`least` and the severities worse than it."""
    worst_first = list(Severity)
    return frozenset(worst_first[: worst_first.index(least) + 1])


def _with_mismatches(
    report: PageReport, config: RapidConfig, base: str, severity: Severity
) -> PageReport:
    # Imported here: the review's notes cost a run without a rapid.yml ~12 ms of start-up.
    from rapidvet.workflows.notes import page_mismatch_notes

    # `paths:` globs match from the rapid.yml's folder, as the App matches them from the root.
    path = os.path.relpath(os.path.abspath(report.path), base).replace(os.sep, "/")
    found = [
        Finding(note.code, severity, note.message, note.line or block.line, block=block.title)
        for block in report.blocks
        for note in page_mismatch_notes(config, path, block)
    ]
    if not found:
        return report
    findings = sorted([*report.findings, *found], key=lambda f: (f.line, f.rule))
    return replace(report, findings=tuple(findings))


def _color(choice: str) -> bool:
    """Colour on a terminal unless NO_COLOR is set (no-color.org); --color always wins."""
    if choice != "auto":
        return choice == "always"
    return sys.stdout.isatty() and not os.environ.get("NO_COLOR")


def check_all(
    found: list[Page], options: CheckOptions, jobs: int, kept: Callable[[PageReport], Kept]
) -> list[Kept]:
    """What `kept` keeps of each page's report, in the pages' order; a large tree is checked
    on `jobs` cores, each sending back only what `kept` keeps."""
    sizes = _sizes(found) if jobs > 1 else []
    if not sizes or sum(sizes) < PARALLEL_FROM_BYTES:
        return check_chunk(found, options, kept)
    # Imported here: forking helpers would cost a one-page pre-commit run a few ms.
    from rapidvet.app.checkout.cores import spread

    chunks = _chunks(found, sizes, jobs * CHUNKS_PER_JOB)
    # Frozen, the objects forked helpers inherit stay shared: a collection in a helper would
    # write to each, copying its page (10 000 pages: 91 MiB for the whole tree, not 101).
    gc.freeze()
    try:
        done = spread(functools.partial(check_chunk, options=options, kept=kept), chunks, jobs - 1)
    finally:
        gc.unfreeze()
    return [report for chunk in done for report in chunk]


def _sizes(found: list[Page]) -> list[int]:
    """Each page's bytes; 0 for one that cannot be read, which `check_chunk` names later."""
    sizes = []
    for page in found:
        try:
            sizes.append(os.stat(page.display).st_size)
        except OSError:
            sizes.append(0)
    return sizes


def _chunks(found: list[Page], sizes: list[int], count: int) -> list[list[Page]]:
    """Runs of consecutive pages of at most 1/`count` of the bytes each (a larger page alone):
    in order, and balanced though a few pages are a hundred times larger than the rest."""
    share = sum(sizes) / count
    chunks: list[list[Page]] = [[]]
    held = 0
    for page, size in zip(found, sizes, strict=True):
        if held and held + size > share:
            chunks.append([])
            held = 0
        chunks[-1].append(page)
        held += size
    return chunks


def check_chunk(
    chunk: list[Page], options: CheckOptions, kept: Callable[[PageReport], Kept]
) -> list[Kept]:
    """What `kept` keeps of each page's report; run by a helper process, so it reads the
    files itself."""
    # Checking leaves no cycles worth collecting, but the reports it keeps made the cyclic
    # collector walk ever more objects: a quarter of a plan-heavy tree's time.
    enabled = gc.isenabled()
    gc.disable()
    try:
        return [
            kept(_with_display(check_page(read_page(page.display), page.rel, options), page))
            for page in chunk
        ]
    finally:
        if enabled:
            gc.enable()


def _with_display(report: PageReport, page: Page) -> PageReport:
    return PageReport(page.display, report.blocks, report.findings)
