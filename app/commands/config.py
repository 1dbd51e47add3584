"""`rapidvet config validate|match|schema`: check rapid.yml, try path patterns, print the schema."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Sequence

from rapidvet.app.checkout.config_file import find_config
from rapidvet.app.checkout.formats import workflow_command
from rapidvet.app.commands import exit_codes
from rapidvet.app.errors import UsageError
from rapidvet.workflows.codeowners import PatternError, compile_pattern
from rapidvet.workflows.config_loader import (
    CONFIG_LOCATIONS,
    MAX_BYTES,
    ConfigError,
    ConfigProblem,
    load_config_bytes,
)

FORMATS = ("text", "json", "github")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "config",
        help="validate rapid.yml, try path patterns, print its schema",
        **exit_codes("valid, or printed", "validate: the file has problems"),
    )
    commands = parser.add_subparsers(
        dest="config_command", metavar="COMMAND", required=True, parser_class=type(parser)
    )

    validate = commands.add_parser(
        "validate",
        help="check a rapid.yml; exit 1 if it is invalid",
        **exit_codes("the file is valid", "the file has problems, all of them listed"),
    )
    validate.add_argument(
        "file",
        nargs="?",
        metavar="FILE",
        help=f"default: the first of {', '.join(CONFIG_LOCATIONS)}",
    )
    validate.add_argument("--format", choices=FORMATS, default="text")
    validate.set_defaults(func=run_validate)

    match = commands.add_parser(
        "match",
        help="which paths a CODEOWNERS pattern matches, as JSON",
        **exit_codes("printed, whether or not they match", usage="bad usage or a bad pattern"),
    )
    match.add_argument("pattern", metavar="PATTERN")
    match.add_argument("paths", nargs="+", metavar="PATH", help="repository-relative file paths")
    match.set_defaults(func=run_match)

    schema = commands.add_parser(
        "schema", help="print the JSON Schema of rapid.yml", **exit_codes("printed")
    )
    schema.set_defaults(func=run_schema)


def file_start(path: str) -> bytes:
    """The file's bytes, at most one past the size limit: enough to know it is too large."""
    try:
        with open(path, "rb") as file:
            return file.read(MAX_BYTES + 1)
    except OSError as err:
        raise UsageError(f"cannot read {path}: {err.strerror or err}") from None


def run_validate(args: argparse.Namespace) -> int:
    path = args.file or find_config(".")
    if path is None:
        raise UsageError(f"no rapid.yml found here (looked for {', '.join(CONFIG_LOCATIONS)})")
    data = file_start(path)
    try:
        load_config_bytes(data, path)
    except ConfigError as err:
        problems = err.problems
    else:
        problems = []
    print(_RENDERERS[args.format](path, problems))
    return 1 if problems else 0


def as_text(path: str, problems: Sequence[ConfigProblem]) -> str:
    return "\n".join(map(str, problems)) or f"{path}: valid"


def as_json(path: str, problems: Sequence[ConfigProblem]) -> str:
    found = [{"line": p.line, "column": p.column, "message": p.message} for p in problems]
    return json.dumps({"file": path, "valid": not problems, "problems": found})


def as_github(path: str, problems: Sequence[ConfigProblem]) -> str:
    """GitHub Actions workflow commands, which the runner shows as annotations."""
    commands = [
        workflow_command("error", p.message, file=p.source, line=p.line, col=p.column)
        for p in problems
    ]
    return "\n".join(commands) or f"{path}: valid"


_RENDERERS: dict[str, Callable[[str, Sequence[ConfigProblem]], str]] = {
    "text": as_text,
    "json": as_json,
    "github": as_github,
}


def run_match(args: argparse.Namespace) -> int:
    try:
        pattern = compile_pattern(args.pattern)
    except PatternError as err:
        raise UsageError(f"unsupported pattern {args.pattern!r}: {err}") from None
    absolute = next((path for path in args.paths if path.startswith("/")), None)
    if absolute is not None:
        raise UsageError(f"{absolute!r}: expected a repository-relative path, without a leading /")
    for path in args.paths:
        print(json.dumps({"pattern": args.pattern, "path": path, "matches": pattern.matches(path)}))
    return 0


def run_schema(args: argparse.Namespace) -> int:
    from rapidvet.workflows.config_schema import config_schema  # jsonschema: load on demand

    print(json.dumps(config_schema(), indent=2))
    return 0
