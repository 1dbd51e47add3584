"""Errors raised for the command line to report, by the commands and by the modules they use
(settings, git, handbook reading). They live apart from `commands` so that those modules do
not import the command line: only `cli` and the commands do."""

from __future__ import annotations


class UsageError(Exception):
    """Bad usage or unreadable input: the CLI prints the message on one line and exits 2."""
