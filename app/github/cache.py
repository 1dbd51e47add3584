"""Conditional-request cache: GitHub answers a GET with a matching `If-None-Match` or
`If-Modified-Since` with 304, and 304s do not count against the rate limit.

Raw bodies are kept, not decoded JSON, so a caller that mutates what it got cannot change what
the next caller reads, and the size bound counts real bytes. Keys carry the installation, so one
installation's private data never answers another's request, and the Accept header, since one URL
serves JSON or raw content depending on it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import NamedTuple

from cachetools import LRUCache

DEFAULT_MAX_BYTES = 32 * 1024 * 1024
# One large file must not flush everything else out of the cache.
LARGEST_SHARE = 4
RATE_LIMIT_PREFIX = "x-ratelimit-"


class CacheKey(NamedTuple):
    installation: str
    url: str
    accept: str


@dataclass(frozen=True)
class CachedResponse:
    headers: Mapping[str, str]  # lower-case names
    body: bytes

    def validators(self) -> dict[str, str]:
        """The conditional headers that ask GitHub whether this response is still current."""
        sent = {}
        if "etag" in self.headers:
            sent["if-none-match"] = self.headers["etag"]
        if "last-modified" in self.headers:
            sent["if-modified-since"] = self.headers["last-modified"]
        return sent

    def refreshed(self, not_modified: Mapping[str, str]) -> dict[str, str]:
        """The cached headers, with the rate-limit state from GitHub's 304."""
        fresh = {
            name.lower(): value
            for name, value in not_modified.items()
            if name.lower().startswith(RATE_LIMIT_PREFIX)
        }
        return {**self.headers, **fresh}

    @property
    def size(self) -> int:
        return len(self.body) + sum(len(name) + len(value) for name, value in self.headers.items())


class ETagCache:
    """Successful GET responses with validators, least recently used out first, bounded in bytes."""

    def __init__(self, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self._entries: LRUCache[CacheKey, CachedResponse] = LRUCache(
            maxsize=max_bytes, getsizeof=lambda entry: entry.size
        )
        self._largest = max_bytes // LARGEST_SHARE

    def get(self, key: CacheKey) -> CachedResponse | None:
        return self._entries.get(key)

    def put(self, key: CacheKey, headers: Mapping[str, str], body: bytes) -> None:
        """Keep a 200 answer if GitHub gave it a validator and it fits."""
        entry = CachedResponse({name.lower(): value for name, value in headers.items()}, body)
        if entry.validators() and entry.size <= self._largest:
            self._entries[key] = entry
