"""Repository paths as they may go into a URL: each segment percent-encoded, and the paths that
could name something other than their file refused.

A path comes from a stranger (a pull request's file list, a tree, a table of contents). In a
URL, a `.` or `..` segment (also percent-encoded: RFC 3986 §6.2.2.2 makes `%2E` and `.` the
same) is resolved by the HTTP client or the server, an empty segment or a backslash may be
folded away, and a control character has no place at all: such a path is not read.
"""

from __future__ import annotations

import json
import re
from urllib.parse import quote, unquote

from rapidvet.checks.model import Finding
from rapidvet.checks.options import CheckOptions
from rapidvet.checks.rules import UNSAFE_PATH, severity_for

DOT_SEGMENTS = frozenset({".", ".."})
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


class UnsafePath(ValueError):
    """A URL was to be made of a path `path_problem` refuses."""


def path_problem(path: str) -> str | None:
    """Why `path` cannot name a file in a URL, or None when it can."""
    if _CONTROL.search(path):
        return "it holds a control character"
    if "\\" in path:
        return "it holds a backslash"
    for segment in path.split("/"):
        if not segment:
            return "it has an empty segment (a leading, trailing or double /)"
        if unquote(segment) in DOT_SEGMENTS:
            return "it has a . or .. segment"
    return None


def url_path(path: str) -> str:
    """`path` for a URL: every character of each segment but the unreserved ones encoded."""
    problem = path_problem(path)
    if problem is not None:
        raise UnsafePath(f"{shown(path)} cannot go into a URL: {problem}")
    return "/".join(quote(segment, safe="") for segment in path.split("/"))


def shown(path: str) -> str:
    """`path` quoted for a message, its control characters escaped."""
    return json.dumps(path, ensure_ascii=False)


def unsafe_path_finding(path: str, options: CheckOptions) -> Finding | None:
    """The `unsafe-path` finding of a file not read because of its path; None for a safe path
    (or when the rule is off)."""
    problem = path_problem(path)
    severity = severity_for(UNSAFE_PATH, options)
    if problem is None or severity is None:
        return None
    return Finding(
        UNSAFE_PATH,
        severity,
        f"{shown(path)} was not read: {problem}",
        1,
        fix="Rename the file to a plain relative path",
    )
