"""rapid.yml on disk: where a handbook keeps it, and reading it with clear errors."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from rapidvet.app.checkout.handbook import Nearest
from rapidvet.app.errors import UsageError
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


def config_finder() -> Callable[[str], tuple[str, str] | None]:
    """For a folder, the rapid.yml of the nearest folder at or above it that holds one, up
    to the repository root, and that folder: the page's own handbook settings, wherever the
    page is named from."""
    nearest = Nearest(lambda folder: find_config(str(folder)) is not None)

    def config_for(folder: str) -> tuple[str, str] | None:
        found = nearest(Path(os.path.abspath(folder)))
        path = find_config(str(found)) if found else None
        return (path, str(found)) if path else None

    return config_for


def read_config(path: str) -> RapidConfig:
    try:
        data = Path(path).read_bytes()
    except OSError as err:
        raise UsageError(f"{path}: {err.strerror}") from None
    try:
        return load_config_bytes(data, path)
    except ConfigError as err:
        raise UsageError(f"{path}: invalid config: {err.problems[0]}") from None
