"""`rapidvet check PATH...`: the structural rules on handbook pages, no GitHub needed."""

from __future__ import annotations

import argparse
import os
import sys
from concurrent.futures import ProcessPoolExecutor
from datetime import date
from pathlib import Path

from rapidvet.app.config_file import find_config, read_config
from rapidvet.app.formats import FORMATS, counts, render
from rapidvet.app.handbook import Page, pages, read_page, table_of_contents
from rapidvet.checks.model import Severity
from rapidvet.checks.options import CheckOptions
from rapidvet.checks.page import PageReport, check_page

# Below this many pages a second process costs more to start than it saves.
PARALLEL_FROM = 400


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("check", help="check VPMOM plans in markdown files or folders")
    parser.add_argument("paths", nargs="+", metavar="PATH", help="markdown files or folders")
    parser.add_argument("--format", choices=FORMATS, default="text")
    parser.add_argument("--config", help="rapid.yml to read rule settings and aliases from")
    parser.add_argument("--today", type=parse_today, help="date to check against (YYYY-MM-DD)")
    parser.add_argument("--jobs", type=int, default=0, help="processes (default: one per core)")
    parser.set_defaults(func=run)


def parse_today(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a YYYY-MM-DD date: {text!r}") from None


def options_for(args: argparse.Namespace, root: str | None) -> CheckOptions:
    """Options from --config (or the handbook's own rapid.yml) and the handbook's TOC."""
    today = args.today or date.today()
    config_path = args.config or (find_config(root) if root else None)
    toc = table_of_contents(root) if root else None
    if config_path is None:
        return CheckOptions(today=today, toc=toc)
    return read_config(config_path).check_options(today, toc)


def run(args: argparse.Namespace) -> int:
    found = pages(args.paths)
    roots = {p.root for p in found if os.path.isdir(p.root)}
    folder = next(iter(roots)) if len(roots) == 1 and Path(args.paths[0]).is_dir() else None
    options = options_for(args, folder)
    reports = check_all(found, options, args.jobs or os.cpu_count() or 1)
    sys.stdout.writelines(render(reports, args.format))
    return 1 if counts(reports)[Severity.ERROR] else 0


_worker_options: CheckOptions | None = None


def _receive_options(options: CheckOptions) -> None:
    # Sent once per worker process: the table of contents alone can be half a megabyte.
    global _worker_options
    _worker_options = options


def _check_in_worker(chunk: list[Page]) -> list[PageReport]:
    assert _worker_options is not None
    return check_chunk(chunk, _worker_options)


def check_all(found: list[Page], options: CheckOptions, jobs: int) -> list[PageReport]:
    if jobs < 2 or len(found) < PARALLEL_FROM:
        return check_chunk(found, options)
    size = -(-len(found) // (jobs * 4))
    chunks = [found[i : i + size] for i in range(0, len(found), size)]
    with ProcessPoolExecutor(jobs, initializer=_receive_options, initargs=(options,)) as pool:
        return [report for chunk in pool.map(_check_in_worker, chunks) for report in chunk]


def check_chunk(chunk: list[Page], options: CheckOptions) -> list[PageReport]:
    """Reports for a run of pages; runs in a worker process, so it reads the files itself."""
    return [
        _with_display(check_page(read_page(page.display), page.rel, options), page.display)
        for page in chunk
    ]


def _with_display(report: PageReport, display: str) -> PageReport:
    return PageReport(display, report.blocks, report.findings)
