"""The one settings object, read from the environment (and an optional `.env` file) here only.

Malformed settings stop start-up with one line naming the variable. The App's own credentials
may be missing here: the database may hold them (see `credentials`), or the App is not
registered yet and the set-up page registers it.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, cast
from urllib.parse import urlsplit

from cryptography.fernet import Fernet

from rapidvet.app.errors import UsageError

PREFIX = "RAPIDVET_"
DEFAULT_GITHUB_URL = "https://api.github.com"
DEFAULT_DATABASE_URL = "sqlite:///rapidvet.db"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
PAGES = ("public", "repo-readers", "off")
Pages = Literal["public", "repo-readers", "off"]
SETUP_TOKEN_MIN = 16  # characters: a guess at the set-up page must stay hopeless
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
GENERATE_SECRET_KEY = "rapidvet secret-key"
# The same key from a bare python3 (Debian's name for it), before rapidvet is installed.
GENERATE_SECRET_KEY_PYTHON = (
    'python3 -c "import base64,os;print(base64.urlsafe_b64encode(os.urandom(32)).decode())"'
)


class SettingsError(UsageError):
    """A setting is missing or malformed; the message names the variable."""


@dataclass(frozen=True)
class Settings:
    # The App's credentials as the environment gives them; 0 and "" where it does not. They
    # keep plain types because the GitHub client signs with them once `credentials` has
    # filled them in from the database.
    app_id: int = 0
    private_key: str = ""
    webhook_secret: str = ""
    client_id: str = ""  # the App's OAuth client, for signing in to the pages
    client_secret: str = ""
    github_url: str = DEFAULT_GITHUB_URL
    database_url: str = DEFAULT_DATABASE_URL
    log_level: str = "INFO"
    max_attempts: int = 5  # tries of one job before it is parked as dead
    retention_days: int = 30  # finished deliveries older than this are pruned
    public_url: str | None = None  # where GitHub and browsers reach this server
    secret_key: str | None = None  # Fernet key: App secrets at rest, session cookies
    pages: Pages = "repo-readers"  # who sees a repository's pages
    setup_token: str | None = None  # the set-up page's code; None: one is made and logged
    trusted_proxies: tuple[IPNetwork, ...] = ()  # whose X-Forwarded-Proto is believed
    job_seconds: float = 60.0  # of checking a job's untrusted content, then it gives up
    job_memory_mb: int = 1024  # a checking call may add to its child process

    def __repr__(self) -> str:
        # Never let a key or secret reach a log line or a traceback.
        return f"Settings(app_id={self.app_id}, github_url={self.github_url!r}, ...)"

    @property
    def web_url(self) -> str:
        """github.com for api.github.com; for GitHub Enterprise Server the host itself."""
        parts = urlsplit(self.github_url)
        if parts.netloc == "api.github.com":
            return "https://github.com"
        path = parts.path.removesuffix("/").removesuffix("/api/v3")
        return f"{parts.scheme}://{parts.netloc}{path}"


def read_env_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines of a .env file; quotes around a value are removed, `#` lines skipped."""
    values: dict[str, str] = {}
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.removeprefix("export ").partition("=")
        if not sep:
            raise SettingsError(f"{path}:{number}: expected KEY=VALUE")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1].replace("\\n", "\n")
        values[key.strip()] = value
    return values


def load_settings(env: Mapping[str, str] | None = None, env_file: str | None = ".env") -> Settings:
    """Settings from the environment; a `.env` file fills in what the environment lacks."""
    source = dict(env if env is not None else os.environ)
    if env_file and Path(env_file).is_file():
        source = {**read_env_file(Path(env_file)), **source}

    def get(name: str, default: str = "") -> str:
        return source.get(PREFIX + name, "").strip() or default

    app_id = get("APP_ID")
    if app_id and not app_id.isdigit():
        raise SettingsError(f"{PREFIX}APP_ID must be a number, got {app_id!r}")
    public_url = get("PUBLIC_URL")
    return Settings(
        app_id=int(app_id or 0),
        private_key=_private_key(source),
        webhook_secret=get("WEBHOOK_SECRET"),
        client_id=get("CLIENT_ID"),
        client_secret=get("CLIENT_SECRET"),
        github_url=_url(get("GITHUB_URL", DEFAULT_GITHUB_URL), "GITHUB_URL"),
        database_url=_database_url(get("DATABASE_URL", DEFAULT_DATABASE_URL)),
        log_level=_log_level(get("LOG_LEVEL", "INFO")),
        max_attempts=_positive(get("MAX_ATTEMPTS", "5"), "MAX_ATTEMPTS"),
        retention_days=_positive(get("RETENTION_DAYS", "30"), "RETENTION_DAYS"),
        public_url=_url(public_url, "PUBLIC_URL") if public_url else None,
        secret_key=_secret_key(get("SECRET_KEY")),
        pages=_pages(get("PAGES", "repo-readers")),
        setup_token=_setup_token(get("SETUP_TOKEN")),
        trusted_proxies=_networks(get("TRUSTED_PROXIES"), "TRUSTED_PROXIES"),
        job_seconds=_seconds(get("JOB_SECONDS", "60"), "JOB_SECONDS"),
        job_memory_mb=_positive(get("JOB_MEMORY_MB", "1024"), "JOB_MEMORY_MB"),
    )


def _private_key(source: Mapping[str, str]) -> str:
    text = source.get(PREFIX + "PRIVATE_KEY", "").strip().replace("\\n", "\n")
    path = source.get(PREFIX + "PRIVATE_KEY_PATH", "").strip()
    if not text and path:
        try:
            text = Path(path).read_text(encoding="utf-8").strip()
        except OSError as err:
            raise SettingsError(f"{PREFIX}PRIVATE_KEY_PATH: {path}: {err.strerror}") from None
    if not text:
        return ""
    if "-----BEGIN" not in text or "PRIVATE KEY-----" not in text:
        raise SettingsError(f"{PREFIX}PRIVATE_KEY is not a PEM private key")
    return text + "\n"


def _url(value: str, name: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise SettingsError(f"{PREFIX}{name} must be an http(s) URL, got {value!r}")
    return value.rstrip("/")


def _database_url(value: str) -> str:
    if not value.startswith(("sqlite:///", "postgresql://", "postgres://")):
        raise SettingsError(
            f"{PREFIX}DATABASE_URL must start with sqlite:/// or postgresql://, got {value!r}"
        )
    return value


def _log_level(value: str) -> str:
    if value.upper() not in LOG_LEVELS:
        raise SettingsError(f"{PREFIX}LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}")
    return value.upper()


def _positive(value: str, name: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise SettingsError(f"{PREFIX}{name} must be a positive number, got {value!r}")
    return int(value)


def _seconds(value: str, name: str) -> float:
    """A positive number of seconds; fractions (0.5) too."""
    try:
        seconds = float(value)
    except ValueError:
        seconds = 0.0
    if not 0 < seconds < float("inf"):
        raise SettingsError(f"{PREFIX}{name} must be a positive number of seconds, got {value!r}")
    return seconds


def _secret_key(value: str) -> str | None:
    if not value:
        return None
    try:
        Fernet(value)
    except ValueError:
        raise SettingsError(
            f"{PREFIX}SECRET_KEY must be a Fernet key (32 url-safe base64-encoded bytes);"
            f" generate one with: {GENERATE_SECRET_KEY} (or {GENERATE_SECRET_KEY_PYTHON})"
        ) from None
    return value


def _pages(value: str) -> Pages:
    if value.lower() not in PAGES:
        raise SettingsError(f"{PREFIX}PAGES must be one of {', '.join(PAGES)}, got {value!r}")
    return cast(Pages, value.lower())


def _setup_token(value: str) -> str | None:
    if value and len(value) < SETUP_TOKEN_MIN:
        raise SettingsError(f"{PREFIX}SETUP_TOKEN must be at least {SETUP_TOKEN_MIN} characters")
    return value or None


def _networks(value: str, name: str) -> tuple[IPNetwork, ...]:
    """Comma-separated addresses and CIDR ranges."""
    parts = [part.strip() for part in value.split(",") if part.strip()]
    try:
        return tuple(ipaddress.ip_network(part, strict=False) for part in parts)
    except ValueError as error:
        raise SettingsError(f"{PREFIX}{name}: {error}") from None
