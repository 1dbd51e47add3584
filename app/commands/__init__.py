"""One module per `rapidvet` subcommand; each exposes `register(subparsers)`.

`register` adds the subcommand's parser and sets `func`, a callable taking the parsed
arguments and returning the process exit code.
"""


class UsageError(Exception):
    """Bad usage or unreadable input: the CLI prints the message on one line and exits 2."""
