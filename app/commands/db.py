"""`rapidvet db migrate|status`: the database schema, for operators.

`serve` and `worker` migrate on start-up anyway; these show and apply the same versions by
hand. Both exit 1 when the schema is not current afterwards (or the database is unreachable).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

from rapidvet.app.commands import exit_codes

if TYPE_CHECKING:
    from rapidvet.app.store.postgres_schema import Component

FORMATS = ("text", "json")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    codes = exit_codes("the schema is current", "migrations pending, or no database reachable")
    parser = sub.add_parser("db", help="show or apply the database schema versions", **codes)
    commands = parser.add_subparsers(
        dest="db_command", metavar="COMMAND", required=True, parser_class=type(parser)
    )
    migrate = commands.add_parser(
        "migrate", help="apply missing migrations; exit 1 on failure", **codes
    )
    migrate.add_argument("--format", choices=FORMATS, default="text")
    migrate.set_defaults(func=run_migrate)
    status = commands.add_parser(
        "status", help="applied and known versions; exit 1 if behind or absent", **codes
    )
    status.add_argument("--format", choices=FORMATS, default="text")
    status.set_defaults(func=run_status)


def run_migrate(args: argparse.Namespace) -> int:
    return _report(args.format, migrate=True)


def run_status(args: argparse.Namespace) -> int:
    return _report(args.format, migrate=False)


def _report(output: str, *, migrate: bool) -> int:
    # Imported here: the database drivers load only for the command that uses them.
    import sqlite3

    import psycopg

    from rapidvet.app.settings import load_settings
    from rapidvet.app.store import open_store
    from rapidvet.app.store.postgres import PostgresStore
    from rapidvet.app.store.postgres_schema import Component
    from rapidvet.app.store.sqlite import SqliteStore

    url = load_settings().database_url
    missing = None if migrate else _missing_sqlite_file(url)
    if missing is not None:  # opening it would create an empty one
        print(_render_error(output, url, f"no database at {missing}"))
        return 1
    store = open_store(url)
    components: list[Component] = []
    try:
        if migrate:
            store.migrate()
        if isinstance(store, PostgresStore):
            components = store.schema_status()
        elif isinstance(store, SqliteStore):
            applied, known = store.schema_version()
            pending = tuple(str(version) for version in range(applied + 1, known + 1))
            components = [Component("rapidvet", str(applied), str(known), pending)]
    except (psycopg.Error, sqlite3.Error, OSError) as err:  # the database is away or refused
        print(_render_error(output, url, f"{type(err).__name__}: {err}".strip()))
        return 1
    finally:
        store.close()
    print(_render(output, url, components))
    return 0 if all(not component.pending for component in components) else 1


def _missing_sqlite_file(url: str) -> str | None:
    """The path of the SQLite database the URL names, when there is no file there."""
    if not url.startswith("sqlite:///"):
        return None
    path = url.removeprefix("sqlite:///")
    return None if Path(path).exists() else path


def _safe_url(url: str) -> str:
    """The URL without its password."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user, _, host = parts.netloc.rpartition("@")
    return urlunsplit(parts._replace(netloc=f"{user.partition(':')[0]}:***@{host}"))


def _render(output: str, url: str, components: Sequence[Component]) -> str:
    if output == "json":
        rows = [
            asdict(component) | {"pending": list(component.pending)} for component in components
        ]
        current = all(not component.pending for component in components)
        return json.dumps({"database": _safe_url(url), "current": current, "components": rows})
    lines = [f"database: {_safe_url(url)}"]
    for c in components:
        state = f"{len(c.pending)} pending" if c.pending else "current"
        lines.append(f"{c.name}: applied {c.applied or 'none'}, known {c.known} ({state})")
    return "\n".join(lines)


def _render_error(output: str, url: str, message: str) -> str:
    if output == "json":
        return json.dumps({"database": _safe_url(url), "current": False, "error": message})
    return f"database: {_safe_url(url)}\nerror: {message}"
