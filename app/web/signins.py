"""Who is signed in to the pages, kept on the server: one record per browser session (SIGNIN,
app/store/records.py), keyed by a digest of the session id the cookie carries. The record holds
the user's login and GitHub token, sealed with RAPIDVET_SECRET_KEY (Fernet) as the App's
secrets are. Signing out ends the record, so a copied cookie is worth nothing afterwards; the
periodic prune drops records older than a session lasts.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from cryptography.fernet import Fernet, InvalidToken

from rapidvet.app.settings import Settings
from rapidvet.app.store import Store
from rapidvet.app.store.records import SIGNIN

SESSION_SECONDS = 8 * 3600  # as long as GitHub's user access tokens last
ENDED = ""  # what signing out leaves of a record until the prune takes it


@dataclass(frozen=True)
class Viewer:
    """The GitHub user signed in to the pages."""

    login: str
    token: str = field(repr=False)  # their own access token: asks GitHub what they may read


def sealing_key(settings: Settings) -> Fernet:
    """RAPIDVET_SECRET_KEY; without it, a key of this process alone: sessions then end when it
    stops."""
    return Fernet(settings.secret_key or Fernet.generate_key())


class SignIns:
    """The sign-in records of one store."""

    def __init__(
        self, store: Store, fernet: Fernet, clock: Callable[[], float] = time.time
    ) -> None:
        self.store, self.fernet, self.clock = store, fernet, clock

    def begin(self, user: Viewer) -> str:
        """Record `user` as signed in; the new session id for the cookie."""
        session_id = secrets.token_urlsafe(32)
        sealed = self.fernet.encrypt(
            json.dumps({"login": user.login, "token": user.token}).encode()
        )
        SIGNIN.put(self.store, _record_key(session_id), sealed.decode())
        return session_id

    def find(self, session_id: str) -> Viewer | None:
        """Who `session_id` signed in, while that session has neither ended nor expired."""
        sealed = SIGNIN.get(self.store, _record_key(session_id))
        if not sealed:
            return None
        try:
            opened = self.fernet.decrypt_at_time(sealed, SESSION_SECONDS, int(self.clock()))
            found = json.loads(opened)
        except InvalidToken:  # expired, or sealed by another key (a process without one)
            return None
        return Viewer(found["login"], found["token"])

    def end(self, session_id: str) -> None:
        SIGNIN.put(self.store, _record_key(session_id), ENDED)


def _record_key(session_id: str) -> str:
    # A digest: whoever reads the database learns no session id a cookie could carry.
    return hashlib.sha256(session_id.encode()).hexdigest()


def prune(store: Store) -> int:
    """Drop the records of sessions that ended or expired; the count removed."""
    return SIGNIN.drop(store, SESSION_SECONDS / 86400)
