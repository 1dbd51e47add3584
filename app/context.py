"""What every handler gets besides the event and the GitHub client."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from rapidvet.app.store import Store


@dataclass(frozen=True)
class Context:
    store: Store
    web_url: str  # https://github.com, or the GitHub Enterprise Server: for permalinks
    today: Callable[[], date]
    pages_url: str | None = None  # this server's address, when its pages are on

    def details_url(self, repo: str, number: int, on_github: str) -> str:
        """Where a check run's Details link goes: the pull request's page here, else (no
        address known, or pages off) the pull request on GitHub."""
        return f"{self.pages_url}/{repo}/pull/{number}" if self.pages_url else on_github
