"""The `rapidvet` command line: parse arguments, dispatch, map errors to exit codes."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterable, Sequence
from importlib import import_module

from rapidvet.app import __version__
from rapidvet.app.commands import USAGE_EXIT
from rapidvet.app.errors import UsageError

# Each command's module under rapidvet.app.commands, in --help's order. Only the module of
# the command that runs is imported: pre-commit starts `rapidvet check` on every commit, and
# should not wait for `serve`'s web stack or `explain`'s GitHub workflows to load.
COMMAND_MODULES = {
    "check": "check",
    "rules": "rules",
    "report": "report",
    "config": "config",
    "explain": "explain",
    "serve": "serve",
    "worker": "serve",
    "db": "db",
    "reconcile": "reconcile",
    "doctor": "doctor",
    "secret-key": "secret_key",
}
ALL_MODULES = tuple(dict.fromkeys(COMMAND_MODULES.values()))


class _Parser(argparse.ArgumentParser):
    # argparse exits 2 on bad usage already; keep its message to one line.
    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"rapidvet: error: {message}\n")


def build_parser(modules: Iterable[str] = ALL_MODULES) -> argparse.ArgumentParser:
    """The parser with the subcommands of `modules` (default: every command)."""
    parser = _Parser(
        prog="rapidvet",
        description="Vet VPMOM plans in a Git handbook.",
        epilog="exit codes: 0 success; 1 what was checked failed (each command's --help "
        f"says what); 2 {USAGE_EXIT}",
    )
    parser.add_argument("--version", action="version", version=f"rapidvet {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for module in modules:
        import_module(f"rapidvet.app.commands.{module}").register(sub)
    return parser


def modules_needed(argv: Sequence[str]) -> tuple[str, ...]:
    """The command modules these arguments need: the named command's, none for --version
    before any command, and all of them otherwise (--help and a bad command name list every
    command)."""
    for arg in argv:
        if arg == "--version":
            return ()
        if not arg.startswith("-"):
            return (COMMAND_MODULES[arg],) if arg in COMMAND_MODULES else ALL_MODULES
    return ALL_MODULES


def main(argv: Sequence[str] | None = None, *, own_process: bool = False) -> int:
    """Run the command `argv` (default: the process's arguments) names; its exit code.
    `own_process`: the process ends with the command, so one that holds nothing to close
    (`leaves_at_once`) may end it here, without tearing the interpreter down: freeing every
    object a `rapidvet check` made cost each run 10-15 ms (bench/README.md)."""
    arguments = sys.argv[1:] if argv is None else argv
    args = build_parser(modules_needed(arguments)).parse_args(arguments)
    try:
        code: int = args.func(args)
        sys.stdout.flush()
        if own_process and getattr(args, "leaves_at_once", False):
            sys.stderr.flush()
            os._exit(code)
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


def console() -> None:
    """The `rapidvet` console script."""
    sys.exit(main(own_process=True))


if __name__ == "__main__":
    console()
