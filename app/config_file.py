"""rapid.yml on disk: where a handbook keeps it, and reading it with clear errors."""

from __future__ import annotations

from pathlib import Path

from rapidvet.app.commands import UsageError
from rapidvet.workflows.config_loader import (
    ConfigError,
    config_location,
    load_config_bytes,
)
from rapidvet.workflows.rapid_config import RapidConfig


def find_config(root: str) -> str | None:
    """The rapid.yml a handbook folder holds, looked for where GitHub looks for CODEOWNERS."""
    base = Path(root)
    existing = {
        p for p in (".github/rapid.yml", "rapid.yml", "docs/rapid.yml") if (base / p).is_file()
    }
    chosen = config_location(existing)
    return str(base / chosen) if chosen else None


def read_config(path: str) -> RapidConfig:
    try:
        data = Path(path).read_bytes()
    except OSError as err:
        raise UsageError(f"{path}: {err.strerror}") from None
    try:
        return load_config_bytes(data, path)
    except ConfigError as err:
        raise UsageError(f"{path}: invalid config: {err.problems[0]}") from None
