"""`rapidvet secret-key`: print a new RAPIDVET_SECRET_KEY.

The key is a Fernet key (32 random bytes, url-safe base64), made here from the standard
library alone so that it prints the same as the set-up page's `python3` one-liner, which works
on a bare Debian without rapidvet's dependencies.
"""

from __future__ import annotations

import argparse
import base64
import os

from rapidvet.app.commands import exit_codes

KEY_BYTES = 32  # Fernet: 16 bytes to sign, 16 to encrypt


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "secret-key",
        help="print a new RAPIDVET_SECRET_KEY",
        description="Print a new random key for RAPIDVET_SECRET_KEY on one line.\nKeep a copy:"
        " the App's credentials stored in the database cannot be read without it.",
        **exit_codes("printed"),
    )
    parser.set_defaults(func=run)


def new_key() -> str:
    return base64.urlsafe_b64encode(os.urandom(KEY_BYTES)).decode()


def run(args: argparse.Namespace) -> int:
    print(new_key())
    return 0
