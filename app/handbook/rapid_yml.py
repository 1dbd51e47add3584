"""rapid.yml as a repository on GitHub holds it: where it is, its text at a commit, and that
text parsed (in a checking child, since a branch's rapid.yml is a stranger's text)."""

from __future__ import annotations

from dataclasses import dataclass

from gidgethub.abc import GitHubAPI

from rapidvet.app.github.files import read_text
from rapidvet.workflows.config_errors import ConfigError
from rapidvet.workflows.config_loader import CONFIG_LOCATIONS, load_config
from rapidvet.workflows.rapid_config import RapidConfig


@dataclass
class ConfigRead:
    """The base branch's rapid.yml: parsed, or the error it has, or absent (defaults)."""

    path: str | None
    config: RapidConfig
    error: ConfigError | None = None


async def config_text(gh: GitHubAPI, repo: str, ref: str) -> tuple[str | None, str | None]:
    """rapid.yml's path and text where GitHub looks for CODEOWNERS: .github/, the root, docs/."""
    for path in CONFIG_LOCATIONS:
        text = await read_text(gh, repo, path, ref)
        if text is not None:
            return path, text
    return None, None


def parse_config(path: str | None, text: str | None) -> ConfigRead:
    """rapid.yml parsed, or the error it has, or the defaults when there is none. Pure: a job
    runs it in a checking child, since a branch's rapid.yml is a stranger's text."""
    if path is None or text is None:
        return ConfigRead(None, RapidConfig())
    try:
        return ConfigRead(path, load_config(text, path))
    except ConfigError as err:
        return ConfigRead(path, RapidConfig(), err)
