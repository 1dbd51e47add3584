"""A pull request's files and reviews assembled into what `decide` takes.

Pure: the caller reads the files (from a local git repository for `rapidvet explain`,
from GitHub's API in the App) and hands over their texts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from rapidvet.workflows.changes import BlockKey, ChangedBlock, block_hashes, changed_blocks
from rapidvet.workflows.decision import PullRequest, ReviewRequest
from rapidvet.workflows.rapid_config import RapidConfig
from rapidvet.workflows.reviews import Review

MARKDOWN_SUFFIXES = (".md", ".markdown")

# path -> (text at the base commit, text at the head commit); None where the file is absent
FileVersions = Mapping[str, tuple[str | None, str | None]]


def is_markdown(path: str) -> bool:
    return path.lower().endswith(MARKDOWN_SUFFIXES)


def pull_blocks(config: RapidConfig, files: FileVersions) -> list[ChangedBlock]:
    """Every block the pull request adds, edits or deletes, file by file."""
    kinds = config.checks.kinds
    return [
        block
        for path, (base, head) in files.items()
        if is_markdown(path)
        for block in changed_blocks(path, base, head, kinds)
    ]


def review_request(
    config: RapidConfig,
    pull: PullRequest,
    files: FileVersions,
    reviews: Sequence[Review],
    texts_at: Mapping[str, Mapping[str, str | None]],
    teams: Mapping[str, frozenset[str]] | None = None,
    head_config: RapidConfig | None = None,
    org: str | None = None,
) -> ReviewRequest:
    """`texts_at`: for each commit a review was given on, the changed files' texts there,
    so an approval can be judged against the block content it saw; `org`: the repository
    owner, whose teams alone can hold roles."""
    kinds = config.checks.kinds
    hashes: dict[str, dict[BlockKey, str]] = {}
    for commit, texts in texts_at.items():
        at: dict[BlockKey, str] = {}
        for path, text in texts.items():
            if is_markdown(path):
                at.update(block_hashes(path, text, kinds))
        hashes[commit] = at
    return ReviewRequest(
        config=config,
        pull=pull,
        blocks=pull_blocks(config, files),
        reviews=tuple(reviews),
        teams=dict(teams or {}),
        hashes=hashes,
        head_config=head_config,
        org=org,
    )
