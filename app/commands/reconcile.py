"""`rapidvet reconcile`: catch up once, by hand, after an outage (the service does it every five
minutes by itself): ask GitHub to send again the deliveries rapidvet missed, and queue a new
evaluation of the open pull requests whose last event came after their last evaluation.

Prints what it found and did; exit 0, 1 when GitHub could not be asked, 2 on bad settings.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from rapidvet.app.commands import exit_codes

if TYPE_CHECKING:
    from rapidvet.app.jobs.reconcile import ReconcileReport

FORMATS = ("text", "json")
UNITS = {"m": "minutes", "h": "hours", "d": "days"}


def age(text: str) -> timedelta:
    """`30m`, `1h`, `2d`."""
    found = re.fullmatch(r"(\d+)([mhd])", text.strip())
    if found is None:
        raise argparse.ArgumentTypeError(f"expected an age such as 30m, 1h or 2d, got {text!r}")
    return timedelta(**{UNITS[found.group(2)]: int(found.group(1))})


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "reconcile",
        help="redeliver missed webhooks, re-evaluate pull requests left behind",
        **exit_codes("done", "GitHub could not be reached or refused", "bad usage or settings"),
    )
    parser.add_argument(
        "--since",
        type=age,
        default="1h",
        metavar="AGE",
        help="look at deliveries this far back: 30m, 1h, 2d (GitHub lists 3 days; default 1h)",
    )
    parser.add_argument("--format", choices=FORMATS, default="text")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    # Imported here: only this command and the service pay for the GitHub client and the
    # settings' cryptography.
    import asyncio

    import aiohttp
    from gidgethub import HTTPException

    from rapidvet.app.jobs.reconcile import reconcile
    from rapidvet.app.logs import setup_logging
    from rapidvet.app.settings import load_settings
    from rapidvet.app.store import open_store

    settings = load_settings()
    setup_logging(settings.log_level)
    store = open_store(settings.database_url)
    try:
        store.migrate()
        outcome = asyncio.run(reconcile(settings, store, datetime.now(UTC) - args.since))
    except (HTTPException, aiohttp.ClientError, TimeoutError) as err:
        print(f"rapidvet: error: GitHub: {type(err).__name__}: {err}", file=sys.stderr)
        return 1
    finally:
        store.close()
    print(render(outcome, args.format))
    return 0


def render(outcome: ReconcileReport, output: str) -> str:
    if output == "json":
        return json.dumps(asdict(outcome), default=datetime.isoformat)
    since = outcome.since.isoformat(timespec="seconds")
    lines = [
        f"deliveries since {since}: {outcome.listed} attempts listed,"
        f" {len(outcome.redelivered)} redelivered"
    ]
    lines += [
        f"  redelivered {a.guid} ({a.event}{'.' + a.action if a.action else ''})"
        for a in outcome.redelivered
    ]
    lines += [f"  refused {guid}" for guid in outcome.refused]
    if outcome.left:
        lines.append(f"  {outcome.left} more left for the next run")
    if outcome.sweep_skipped is not None:
        lines.append(f"pull requests: not swept, {outcome.sweep_skipped}")
    else:
        lines.append(
            f"pull requests: {outcome.behind} behind their last event,"
            f" {len(outcome.queued)} queued for re-evaluation"
        )
    lines += [f"  queued {key}" for key in outcome.queued]
    return "\n".join(lines)
