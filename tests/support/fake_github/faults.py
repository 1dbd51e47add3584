"""Injected failures: error statuses, rate limits, slow answers and dropped connections."""

from __future__ import annotations

import random
import re
from dataclasses import asdict, dataclass, field
from http import HTTPStatus
from typing import Any

SECONDARY_RATE_LIMIT = (
    "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. "
    "If you reach out to GitHub Support for help, please include the request ID {request_id}."
)


@dataclass
class Fault:
    """Matches requests by method and a regex searched in the path.

    `status` answers with that error instead of the real response (`message` or GitHub's usual
    one); `retry_after` adds a `Retry-After` header; `delay` waits that many seconds first (alone,
    a slow but correct answer); `drop` closes the connection without answering. It fires on at
    most `times` requests (None: no limit), each with `probability`.
    """

    id: int
    path: str
    method: str | None = None
    status: int | None = None
    message: str | None = None
    retry_after: int | None = None
    delay: float = 0.0
    drop: bool = False
    times: int | None = None
    probability: float = 1.0
    hits: int = 0
    _pattern: re.Pattern[str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._pattern = re.compile(self.path)
        if self.method:
            self.method = self.method.upper()

    def matches(self, method: str, path: str) -> bool:
        return (self.method in (None, method)) and bool(self._pattern.search(path))

    def body(self, request_id: str) -> dict[str, Any]:
        """GitHub's error body for this fault's status."""
        if self.message is not None:
            message = self.message
        elif self.status == 429 or (self.status == 403 and self.retry_after is not None):
            message = SECONDARY_RATE_LIMIT.format(request_id=request_id)
        else:
            message = HTTPStatus(self.status or 500).phrase
        return {
            "message": message,
            "documentation_url": "https://docs.github.com/rest",
            "status": str(self.status),
        }

    def describe(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if not k.startswith("_")}


class Faults:
    """The active faults, first match wins; a seeded random source keeps runs repeatable."""

    def __init__(self, seed: int = 0) -> None:
        self._faults: list[Fault] = []
        self._next_id = 1
        self._random = random.Random(seed)

    def add(self, path: str, **options: Any) -> Fault:
        fault = Fault(self._next_id, path, **options)
        self._next_id += 1
        self._faults.append(fault)
        return fault

    def remove(self, fault_id: int) -> None:
        self._faults = [fault for fault in self._faults if fault.id != fault_id]

    def clear(self) -> None:
        self._faults.clear()

    def all(self) -> list[Fault]:
        return list(self._faults)

    def pick(self, method: str, path: str) -> Fault | None:
        """The fault that fires for this request, if any (counting the hit)."""
        for fault in self._faults:
            if fault.times is not None and fault.hits >= fault.times:
                continue
            if fault.matches(method, path) and self._random.random() < fault.probability:
                fault.hits += 1
                return fault
        return None
