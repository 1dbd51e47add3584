"""What the view models of a repository's pages share: the type of a view, and links on GitHub.

A view is plain data built from what the worker stored, with no I/O and no HTML, so a template
only lays it out. Every view has `status` ("ok", "not_found" or, for a dashboard whose first
snapshot is still being taken, "pending") and the `http_status` to answer with. Links point at
GitHub (`web_url`: https://github.com, or the GitHub Enterprise Server).
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

from rapidvet.checks.paths import path_problem, url_path

View = dict[str, Any]
URL_SAFE = re.compile(r"[A-Za-z0-9_.~/-]*")


class Links:
    """URLs on GitHub for one repository."""

    def __init__(self, web_url: str, repo: str, commit: str = "") -> None:
        self.web_url = web_url
        self.repo = repo
        self.commit_sha = commit

    def commit(self, sha: str) -> str:
        return f"{self.web_url}/{self.repo}/commit/{sha}"

    def pull(self, number: int) -> str:
        return f"{self.web_url}/{self.repo}/pull/{number}"

    def page(self, path: str) -> str | None:
        quoted = _quoted(path)
        return quoted and f"{self.web_url}/{self.repo}/blob/{self.commit_sha}/{quoted}"

    def lines(self, sha: str, path: str, start: int, end: int | None = None) -> str | None:
        span = f"L{start}" if end is None or end == start else f"L{start}-L{end}"
        quoted = _quoted(path)
        return quoted and f"{self.web_url}/{self.repo}/blob/{sha}/{quoted}#{span}"

    def profile(self, handle: str | None) -> str | None:
        if not handle:
            return None
        org, _, team = handle[1:].partition("/")
        return f"{self.web_url}/orgs/{org}/teams/{team}" if team else f"{self.web_url}/{org}"

    def avatar(self, handle: str | None) -> str | None:
        """GitHub serves an account's avatar at /<login>.png; a team shows its organization's."""
        if not handle:
            return None
        account = handle[1:].partition("/")[0]
        return f"{self.web_url}/{quote(account)}.png?size=40"


def _quoted(path: str) -> str | None:
    """`path` in a link; None for one that cannot go into a URL (an `unsafe-path` finding's)."""
    if path_problem(path) is not None:
        return None
    # Most paths need no escaping, and checking is much cheaper than quoting (10 000 rows).
    return path if URL_SAFE.fullmatch(path) else url_path(path)
