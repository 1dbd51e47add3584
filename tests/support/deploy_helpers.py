"""Shared by the tests of deploy/, action.yml and .pre-commit-hooks.yaml: the files as data,
the JSON Schemas check-jsonschema ships (so nothing is downloaded), rapidvet's own argument
parser for the commands these files run, and the setting names rapidvet reads."""

from __future__ import annotations

import argparse
import os
import re
import socket
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import jsonschema
import yaml
from check_jsonschema.builtin_schemas import get_builtin_schema

from rapidvet.app import settings
from rapidvet.app.cli import build_parser
from tests.support import ROOT
from tests.support.service import Server, running_service

DEPLOY = ROOT / "deploy"
# The templates' placeholder: rapidvet refuses it as a value, so none starts by accident.
PLACEHOLDER = "CHANGE-ME"


def yaml_file(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def yaml_documents(path: Path) -> list[Any]:
    return [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc is not None]


def builtin_schema(name: str) -> dict[str, Any]:
    """A schema vendored in check-jsonschema, e.g. `vendor.compose-spec`."""
    return get_builtin_schema(name)


def schema_errors(instance: Any, schema: dict[str, Any]) -> list[str]:
    """Every violation, each as `path.to.field: message`; [] when the instance is valid."""
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)
    validator = validator_class(schema, format_checker=validator_class.FORMAT_CHECKER)
    return sorted(
        f"{'.'.join(str(p) for p in error.absolute_path) or '(root)'}: {error.message}"
        for error in validator.iter_errors(instance)
    )


def rapidvet_args(args: Sequence[str]) -> argparse.Namespace:
    """The arguments as `rapidvet` parses them; fails the test where rapidvet would exit 2."""
    try:
        return build_parser().parse_args(list(args))
    except SystemExit as err:
        raise AssertionError(f"rapidvet refuses the arguments {list(args)}") from err


def setting_names() -> set[str]:
    """The RAPIDVET_* variables `load_settings` reads, taken from its source."""
    source = Path(settings.__file__).read_text(encoding="utf-8")
    names = re.findall(r'(?:get\(|PREFIX \+ )"([A-Z_]+)"', source)
    assert len(names) >= 10, "settings.py no longer reads its variables the way this expects"
    return {settings.PREFIX + name for name in names}


@contextmanager
def bare_service(tmp: Path) -> Iterator[Server]:
    """`rapidvet serve` on loopback with nothing but a SQLite file: no App registered yet,
    which is how a fresh deployment starts, and enough to answer the health checks."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(settings.PREFIX)}
    env[settings.PREFIX + "DATABASE_URL"] = f"sqlite:///{tmp / 'rapidvet.db'}"
    with running_service(env, tmp) as server:
        yield server


def closed_port_url() -> str:
    """A loopback URL where nothing listens, for checks that must fail."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"
