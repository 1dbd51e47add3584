"""The one-time set-up code: a server that is not set up yet asks for it before it shows the
manifest form, so that a stranger who reaches `/` before its admin cannot register the App as
theirs.

The code is RAPIDVET_SETUP_TOKEN, or one made on first start and kept in the database, so that
every process sharing it asks for the same code; each prints it in its log at start (never the
environment's). Codes are compared in constant time, and a peer gets FAILURES_ALLOWED wrong
ones per FAILURE_SECONDS. Once the App is registered no code opens anything.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets

from cachetools import TTLCache

from rapidvet.app.settings import Settings
from rapidvet.app.store import Store
from rapidvet.app.store.records import SETUP, SETUP_CODE

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # 32 symbols, none to mistake for another
GROUPS, GROUP_LENGTH = 4, 5  # 100 bits
FAILURES_ALLOWED = 5
FAILURE_SECONDS = 60
PEERS_KEPT = 4096
log = logging.getLogger("rapidvet.setup")


def new_code() -> str:
    groups = ("".join(secrets.choice(ALPHABET) for _ in range(GROUP_LENGTH)) for _ in range(GROUPS))
    return "-".join(groups)


def setup_code(settings: Settings, store: Store) -> str:
    """RAPIDVET_SETUP_TOKEN, else the code in the database, made now when it holds none; and
    said in the log."""
    if settings.setup_token is not None:
        log.info("set-up code: the value of RAPIDVET_SETUP_TOKEN (enter it on the set-up page, /)")
        return settings.setup_token
    SETUP.claim(store, SETUP_CODE, new_code())  # another process's, when it made one first
    code = SETUP.get(store, SETUP_CODE) or ""
    log.info(
        "set-up code: %s (enter it on the set-up page, /, to register the GitHub App; every"
        " rapidvet serve sharing this database asks for the same code)",
        code,
    )
    return code


class SetupGate:
    """Checks codes sent to the set-up page, and counts each peer's wrong ones."""

    def __init__(self, code: str | None) -> None:
        self._digest = _digest(code) if code else None  # None: the App was registered at start
        self._failures: TTLCache[str, int] = TTLCache(maxsize=PEERS_KEPT, ttl=FAILURE_SECONDS)

    def locked_out(self, peer: str) -> bool:
        return self._failures.get(peer, 0) >= FAILURES_ALLOWED

    def check(self, peer: str, sent: str) -> bool:
        """Whether `sent` is the code; a wrong one counts against `peer`."""
        # Digests of equal length, compared in constant time: neither the code nor its length
        # shows in how long the answer takes.
        if self._digest is not None and hmac.compare_digest(_digest(sent.strip()), self._digest):
            return True
        self._failures[peer] = self._failures.get(peer, 0) + 1
        return False


def _digest(code: str) -> bytes:
    return hashlib.sha256(code.encode()).digest()
