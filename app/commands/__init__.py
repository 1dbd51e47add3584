"""One module per `rapidvet` subcommand; each exposes `register(subparsers)`.

`register` adds the subcommand's parser and sets `func`, a callable taking the parsed
arguments and returning the process exit code.
"""

from __future__ import annotations

import argparse
from typing import Any

USAGE_EXIT = "bad usage or unreadable input"


def exit_codes(success: str, failure: str | None = None, usage: str = USAGE_EXIT) -> dict[str, Any]:
    """Parser keywords that end a command's --help with what its exit codes mean, so a
    script's author need not guess."""
    lines = [f"  0  {success}", *([f"  1  {failure}"] if failure else []), f"  2  {usage}"]
    return {
        "epilog": "exit codes:\n" + "\n".join(lines),
        "formatter_class": argparse.RawDescriptionHelpFormatter,
    }
