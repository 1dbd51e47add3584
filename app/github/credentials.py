"""The App's credentials: from the environment, or from the database, where the set-up page's
manifest flow keeps them.

The App id, slug and OAuth client id are stored as they are; the private key, the webhook
secret and the OAuth client secret are sealed together with RAPIDVET_SECRET_KEY (Fernet), so a
copy of the database alone does not give the App away. A value the environment sets wins over
the stored one.

`Registration` is the App as one process knows it: nothing until credentials exist, then the
one GitHub client made from them. A process that starts unconfigured looks for them every few
seconds, so credentials stored by the set-up page (in this process or another one sharing the
database) take effect without a restart.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass, field, replace

from cryptography.fernet import Fernet, InvalidToken

from rapidvet.app.github.auth import GitHubApp
from rapidvet.app.settings import GENERATE_SECRET_KEY, PREFIX, Settings, SettingsError
from rapidvet.app.store import Store
from rapidvet.app.store.records import APP, CREDENTIALS

POLL_SECONDS = 2.0
log = logging.getLogger("rapidvet.credentials")


@dataclass(frozen=True)
class AppCredentials:
    app_id: int
    private_key: str = field(repr=False)
    webhook_secret: str = field(repr=False)
    slug: str = ""  # "" when only the environment names the App
    client_id: str = ""  # the OAuth client that signs users in to the pages
    client_secret: str = field(default="", repr=False)

    @property
    def can_sign_in(self) -> bool:
        return bool(self.client_id and self.client_secret)


def _fernet(settings: Settings) -> Fernet:
    if settings.secret_key is None:
        raise SettingsError(
            f"{PREFIX}SECRET_KEY is not set; the App's secrets are stored encrypted with it."
            f" Generate one with: {GENERATE_SECRET_KEY}"
        )
    return Fernet(settings.secret_key)


def save(store: Store, settings: Settings, credentials: AppCredentials) -> bool:
    """Store what the manifest flow received; False when the database holds credentials already
    (a second callback, or another process's)."""
    secrets = {
        "private_key": credentials.private_key,
        "webhook_secret": credentials.webhook_secret,
        "client_secret": credentials.client_secret,
    }
    record = {
        "app_id": credentials.app_id,
        "slug": credentials.slug,
        "client_id": credentials.client_id,
        "sealed": _fernet(settings).encrypt(json.dumps(secrets).encode()).decode(),
    }
    return APP.claim(store, CREDENTIALS, record)


def stored(store: Store, settings: Settings) -> AppCredentials | None:
    """The credentials in the database, None when it holds none."""
    record = APP.get(store, CREDENTIALS)
    if record is None:
        return None
    if settings.secret_key is None:
        raise SettingsError(
            f"the database holds the App's credentials encrypted: set {PREFIX}SECRET_KEY to the"
            " key they were stored with"
        )
    try:
        secrets = json.loads(_fernet(settings).decrypt(record["sealed"]))
    except InvalidToken:
        raise SettingsError(
            f"{PREFIX}SECRET_KEY does not decrypt the App credentials stored in the database:"
            " set the key they were stored with"
        ) from None
    return AppCredentials(
        app_id=int(record["app_id"]),
        private_key=secrets["private_key"],
        webhook_secret=secrets["webhook_secret"],
        slug=record["slug"],
        client_id=record["client_id"],
        client_secret=secrets["client_secret"],
    )


def resolve(settings: Settings, store: Store) -> AppCredentials | None:
    """Each value from the environment when set there, else from the database; None while
    neither names the App. Naming it only in part (an id without a key) is an error."""
    saved = stored(store, settings) or AppCredentials(0, "", "")
    found = AppCredentials(
        app_id=settings.app_id or saved.app_id,
        private_key=settings.private_key or saved.private_key,
        webhook_secret=settings.webhook_secret or saved.webhook_secret,
        slug=saved.slug,
        client_id=settings.client_id or saved.client_id,
        client_secret=settings.client_secret or saved.client_secret,
    )
    required = {
        f"{PREFIX}APP_ID": found.app_id,
        f"{PREFIX}PRIVATE_KEY (or {PREFIX}PRIVATE_KEY_PATH)": found.private_key,
        f"{PREFIX}WEBHOOK_SECRET": found.webhook_secret,
    }
    missing = [name for name, value in required.items() if not value]
    if len(missing) == len(required):
        return None
    if missing:
        raise SettingsError(f"{missing[0]} is not set")
    return found


def app_settings(settings: Settings, store: Store) -> Settings:
    """`settings` with the App's credentials filled in as `resolve` finds them, for the
    commands that act as the App (`reconcile`, `doctor`); SettingsError while there is none."""
    found = resolve(settings, store)
    if found is None:
        raise SettingsError(
            f"no GitHub App yet: set {PREFIX}APP_ID, {PREFIX}PRIVATE_KEY and"
            f" {PREFIX}WEBHOOK_SECRET, or register one on the set-up page"
        )
    return replace(
        settings,
        app_id=found.app_id,
        private_key=found.private_key,
        webhook_secret=found.webhook_secret,
    )


class Registration:
    """The App as this process knows it; see the module's docstring."""

    def __init__(self, settings: Settings, store: Store) -> None:
        self.settings = settings
        self.store = store
        self.credentials: AppCredentials | None = None
        self.github: GitHubApp | None = None
        self._registered = asyncio.Event()
        self.refresh()

    def refresh(self) -> bool:
        """Look for credentials while there are none; whether the App is registered now."""
        if self.credentials is None:
            found = resolve(self.settings, self.store)
            if found is not None:
                self.github = GitHubApp(
                    replace(
                        self.settings,
                        app_id=found.app_id,
                        private_key=found.private_key,
                        webhook_secret=found.webhook_secret,
                    )
                )
                self.credentials = found
                self._registered.set()
                log.info("GitHub App %d registered", found.app_id)
        return self.credentials is not None

    def register(self, credentials: AppCredentials) -> bool:
        """Store new credentials and take them up; False when some were stored already."""
        saved = save(self.store, self.settings, credentials)
        self.refresh()
        return saved

    async def wait(self, stop: asyncio.Event) -> bool:
        """Until the App is registered (True) or `stop` is set (False)."""
        while not self.refresh():
            waits = [
                asyncio.ensure_future(stop.wait()),
                asyncio.ensure_future(self._registered.wait()),
            ]
            await asyncio.wait(waits, timeout=POLL_SECONDS, return_when=asyncio.FIRST_COMPLETED)
            for waiter in waits:
                waiter.cancel()
            if stop.is_set():
                return False
        return True

    async def close(self) -> None:
        if self.github is not None:
            await self.github.close()
