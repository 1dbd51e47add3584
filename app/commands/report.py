"""`rapidvet report [PATH...]`: the handbook measures of the SOP plan, as text or JSON."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from datetime import date
from pathlib import Path
from typing import Any

from rapidvet.app.commands import UsageError, exit_codes
from rapidvet.app.commands.check import Handbooks, check_all, parse_today
from rapidvet.app.handbook import pages
from rapidvet.checks.measures import FRESH_DAYS, HandbookMeasures, handbook_measures


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
    parser.add_argument("--jobs", type=int, default=0, help="processes (default: one per core)")
    parser.set_defaults(func=run)


def measure(args: argparse.Namespace) -> HandbookMeasures:
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
    reports = check_all(found, options, args.jobs or 2)
    return handbook_measures(
        ((page.rel, report.blocks) for page, report in zip(found, reports, strict=True)),
        options.today,
        options.toc,
        options.stale_after_days,
    )


def run(args: argparse.Namespace) -> int:
    measures = measure(args)
    output = as_json(measures) if args.format == "json" else as_text(measures)
    sys.stdout.write(output + "\n")
    return 0


def as_json(m: HandbookMeasures) -> str:
    data: dict[str, Any] = asdict(m)
    data["fresh"] = m.fresh
    data["fresh_percent"] = m.fresh_percent
    return json.dumps(data, indent=1, default=str, ensure_ascii=False)


def as_text(m: HandbookMeasures) -> str:
    percent = "n/a" if m.fresh_percent is None else f"{m.fresh_percent}%"
    lines = [
        f"Handbook measures on {m.today}: {m.pages} pages",
        f"Plans: {len(m.plans)}, vetted within {FRESH_DAYS} days: {m.fresh} ({percent})",
        f"Stale plans: {len(m.stale)}",
        *(f"  {p.path}:{p.line} {p.title} (vetted {p.vetted}, {p.age_days} days)" for p in m.stale),
        f"Never vetted: {len(m.unvetted)}",
        *(f"  {p.path}:{p.line} {p.title}" for p in m.unvetted),
        f"Placeholders: {len(m.placeholders)}",
        *(f"  {p.path}:{p.line} {p.title} ({p.marker})" for p in m.placeholders),
    ]
    if m.unlisted is None:
        lines.append("Table of contents: none found (SUMMARY.md or Sphinx toctree)")
    else:
        lines.append(f"Pages not in the table of contents: {len(m.unlisted)}")
        lines.extend(f"  {path}" for path in m.unlisted)
    return "\n".join(lines)
