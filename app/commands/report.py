"""`rapidvet report [PATH...]`: the handbook measures of the SOP plan, as text or JSON; in a
git checkout, also the plans changed since vetted (by `git blame` of each vetted plan)."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from datetime import date
from operator import attrgetter
from pathlib import Path
from typing import Any, NamedTuple

from rapidvet.app.checkout.git import Repository
from rapidvet.app.checkout.handbook import Page, pages
from rapidvet.app.commands import exit_codes
from rapidvet.app.commands.check import JOBS_HELP, Handbooks, check_all, job_count, parse_today
from rapidvet.app.errors import UsageError
from rapidvet.checks.measures import (
    FRESH_DAYS,
    HandbookMeasures,
    PlanEntry,
    changed_since_vetted,
    content_spans,
    handbook_measures,
)
from rapidvet.checks.model import Block

NOT_IN_GIT = "Changed since vetted: not counted (not a git checkout, so no dates of changes)"


class Report(NamedTuple):
    measures: HandbookMeasures
    # The vetted plans whose content a commit dated after their Vetted date changed; None
    # outside a git checkout, where no history says when a line changed.
    changed: tuple[PlanEntry, ...] | None


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "report",
        help="plans, freshness and gaps of a handbook's folders",
        **exit_codes("the measures were printed"),
    )
    parser.add_argument(
        "paths",
        nargs="*",
        default=["."],
        metavar="PATH",
        help="folders of one handbook (default: .)",
    )
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.add_argument("--config", help="rapid.yml to read settings from (default: the nearest)")
    parser.add_argument("--today", type=parse_today, help="date to measure against (YYYY-MM-DD)")
    parser.add_argument("--jobs", type=job_count, default=0, help=JOBS_HELP)
    parser.set_defaults(func=run)


def measure(args: argparse.Namespace) -> Report:
    for path in args.paths:
        if not Path(path).is_dir():
            raise UsageError(f"{path}: not a folder")
    handbooks = Handbooks(args.config, args.today or date.today())
    groups = handbooks.group(pages(args.paths)) or {handbooks.of_folder(args.paths[0]): []}
    if len(groups) > 1:
        first, second = (h.config or f"{h.toc_root} (no rapid.yml)" for h in list(groups)[:2])
        raise UsageError(f"pages of different handbooks ({first}, {second}): report each alone")
    ((handbook, found),) = groups.items()
    options = handbooks.options(handbook)
    found_blocks = check_all(found, options, args.jobs or 2, attrgetter("blocks"))
    blocks = list(zip(found, found_blocks, strict=True))
    measures = handbook_measures(
        ((page.rel, page_blocks) for page, page_blocks in blocks),
        options.today,
        options.toc,
        options.stale_after_days,
    )
    return Report(measures, changed(args.paths, blocks, measures))


def changed(
    paths: list[str], blocks: list[tuple[Page, tuple[Block, ...]]], measures: HandbookMeasures
) -> tuple[PlanEntry, ...] | None:
    """The plans changed since vetted, if every folder is in a git checkout: each vetted
    plan's lines but its record rows, blamed (plans are few: one git call each)."""
    checkouts: dict[str, Repository] = {}
    for path in paths:
        try:
            checkouts[str(Path(path))] = Repository.open(path)
        except UsageError:  # not a git checkout, or no git at all
            return None
    by_plan = {(page.rel, block.line): (page, block) for page, found in blocks for block in found}
    changed_on = {}
    for plan in measures.plans:
        if plan.vetted is not None:
            page, block = by_plan[plan.path, plan.line]
            on = checkouts[page.root].last_changed(page.rel, content_spans(block))
            if on is not None:
                changed_on[plan.path, plan.line] = on
    return changed_since_vetted(measures.plans, changed_on)


def run(args: argparse.Namespace) -> int:
    report = measure(args)
    if report.changed is None and args.format == "json":
        sys.stderr.write(f"{NOT_IN_GIT}\n")
    show = as_json if args.format == "json" else as_text
    output = show(report.measures, report.changed)
    sys.stdout.write(output + "\n")
    return 0


def as_json(m: HandbookMeasures, changed: tuple[PlanEntry, ...] | None = None) -> str:
    data: dict[str, Any] = asdict(m)
    data["fresh"] = m.fresh
    data["fresh_percent"] = m.fresh_percent
    if changed is not None:
        data["changed_since_vetted"] = [asdict(p) for p in changed]
    return json.dumps(data, indent=1, default=str, ensure_ascii=False)


def as_text(m: HandbookMeasures, changed: tuple[PlanEntry, ...] | None = None) -> str:
    percent = "n/a" if m.fresh_percent is None else f"{m.fresh_percent}%"
    lines = [
        f"Handbook measures on {m.today}: {m.pages} pages",
        f"Plans: {len(m.plans)}, vetted within {FRESH_DAYS} days: {m.fresh} ({percent})",
        f"Stale plans: {len(m.stale)}",
        *(f"  {p.path}:{p.line} {p.title} (vetted {p.vetted}, {p.age_days} days)" for p in m.stale),
        f"Never vetted: {len(m.unvetted)}",
        *(f"  {p.path}:{p.line} {p.title}" for p in m.unvetted),
        *_changed_lines(changed),
        f"Placeholders: {len(m.placeholders)}",
        *(f"  {p.path}:{p.line} {p.title} ({p.marker})" for p in m.placeholders),
    ]
    if m.unlisted is None:
        lines.append("Table of contents: none found (SUMMARY.md or Sphinx toctree)")
    else:
        lines.append(f"Pages not in the table of contents: {len(m.unlisted)}")
        lines.extend(f"  {path}" for path in m.unlisted)
    return "\n".join(lines)


def _changed_lines(changed: tuple[PlanEntry, ...] | None) -> list[str]:
    if changed is None:
        return [NOT_IN_GIT]
    return [
        f"Changed since vetted: {len(changed)}",
        *(f"  {p.path}:{p.line} {p.title} (vetted {p.vetted})" for p in changed),
    ]
