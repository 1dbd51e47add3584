"""GitHub's secondary rate limit on content-creating requests, per installation.

/en/rest/using-the-rest-api/rate-limits-for-the-rest-api#about-secondary-rate-limits: "No more
than 80 content-generating requests per minute"; the refusal is a 403 with `retry-after`.
Requests GitHub refused do not count against the window.
"""

from __future__ import annotations

import math
from collections import defaultdict, deque

CONTENT_METHODS = frozenset({"POST", "PATCH", "PUT", "DELETE"})
CONTENT_LIMIT = 80
CONTENT_WINDOW = 60.0  # seconds


class ContentLimit:
    """A sliding window of content-creating requests for each installation."""

    def __init__(self, limit: int = CONTENT_LIMIT, window: float = CONTENT_WINDOW) -> None:
        self.limit = limit
        self.window = window
        self._sent: defaultdict[str, deque[float]] = defaultdict(deque)

    def admit(self, key: str, now: float) -> int | None:
        """Count one request of `key` at `now`; None if it may go on, else the seconds until
        the window lets another through (GitHub's `retry-after`)."""
        sent = self._sent[key]
        while sent and sent[0] <= now - self.window:
            sent.popleft()
        if len(sent) >= self.limit:
            return max(1, math.ceil(sent[0] + self.window - now))
        sent.append(now)
        return None
