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
