"""The `rapidvet` command line: parse arguments, dispatch, map errors to exit codes."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from importlib.metadata import version

from rapidvet.app.commands import (
    USAGE_EXIT,
    UsageError,
    check,
    config,
    db,
    doctor,
    explain,
    reconcile,
    report,
    rules,
    secret_key,
    serve,
)

COMMANDS = (check, rules, report, config, explain, serve, db, reconcile, doctor, secret_key)


class _Parser(argparse.ArgumentParser):
    # argparse exits 2 on bad usage already; keep its message to one line.
    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"rapidvet: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="rapidvet",
        description="Vet VPMOM plans in a Git handbook.",
        epilog="exit codes: 0 success; 1 what was checked failed (each command's --help "
        f"says what); 2 {USAGE_EXIT}",
    )
    parser.add_argument("--version", action="version", version=f"rapidvet {version('rapidvet')}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for command in COMMANDS:
        command.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        code: int = args.func(args)
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader went away (`rapidvet config schema | head`): not an error of ours.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except UsageError as err:
        print(f"rapidvet: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return code


if __name__ == "__main__":
    sys.exit(main())
