"""`rapidvet doctor OWNER/REPO`: read the repository's rulesets, branch protection and
rapid.yml teams with the App's credentials, and say in plain sentences what is set up well and
what to click to fix the rest.

Exit 0 when all is well, 1 when something is wrong (or GitHub could not be asked), 2 on bad
usage or settings.
"""

from __future__ import annotations

import argparse
import re
import sys
from typing import TYPE_CHECKING

from rapidvet.app.commands import exit_codes
from rapidvet.app.errors import UsageError

if TYPE_CHECKING:
    from rapidvet.app.handbook.doctor import Finding

FULL_NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "doctor",
        help="check a repository's branch rules and teams for the App",
        **exit_codes("all is well", "something to fix (each line says what to click)"),
    )
    parser.add_argument("repo", metavar="OWNER/REPO")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    # Imported here: only this command and the service pay for the GitHub client.
    import asyncio

    import aiohttp
    from gidgethub import HTTPException

    from rapidvet.app.github.auth import GitHubApp
    from rapidvet.app.github.credentials import app_settings
    from rapidvet.app.handbook.doctor import NotInstalled, findings, read_repository
    from rapidvet.app.settings import load_settings
    from rapidvet.app.store import open_store

    if not FULL_NAME.fullmatch(args.repo):
        raise UsageError(f"{args.repo!r} is not OWNER/REPO")
    settings = load_settings()
    store = open_store(settings.database_url)
    try:
        store.migrate()
        app = app_settings(settings, store)
    finally:
        store.close()

    async def diagnosed() -> list[Finding]:
        async with GitHubApp(app) as github:
            return findings(await read_repository(github, args.repo))

    try:
        shown = asyncio.run(diagnosed())
    except NotInstalled:
        print(f"problem: the App is not installed on {args.repo}.")
        print("  fix: install it from the App's page (Install App), choosing this repository.")
        return 1
    except (HTTPException, aiohttp.ClientError, TimeoutError) as err:
        print(f"rapidvet: error: GitHub: {type(err).__name__}: {err}", file=sys.stderr)
        return 1
    for finding in shown:
        print(f"ok: {finding.text}" if finding.ok else f"problem: {finding.text}")
        if finding.fix:
            print(f"  fix: {finding.fix}")
    return 0 if all(finding.ok for finding in shown) else 1
