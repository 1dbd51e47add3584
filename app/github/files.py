"""Files of a repository at a commit, read through GitHub's contents API (blobs above 1 MB).

A path goes into the URL encoded segment by segment (`checks.paths.url_path`), so a file name
with `#`, `?`, `%` or `..` in it names that file of this repository and nothing else; a path
that cannot be encoded safely raises `UnsafePath` before any request."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Awaitable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from gidgethub import BadRequest
from gidgethub.abc import GitHubAPI

from rapidvet.checks.paths import url_path

CONTENTS = "/repos/{owner}/{repo}/contents/{+path}{?ref}"
BLOB = "/repos/{owner}/{repo}/git/blobs/{sha}"
PARALLEL_READS = 8  # concurrent content reads: well inside GitHub's secondary limits

T = TypeVar("T")


@dataclass(frozen=True)
class TooLarge:
    """A file left undownloaded: its `size` in bytes is over what the caller takes."""

    size: int


def owner_repo(full_name: str) -> dict[str, str]:
    owner, repo = full_name.split("/", 1)
    return {"owner": owner, "repo": repo}


async def contents_entry(gh: GitHubAPI, full_name: str, path: str, ref: str) -> Any:
    """The contents API's answer for the file `path` at `ref`: its size, sha and (below
    1 MB) content; None when there is no such file (or it is a folder)."""
    try:
        data: Any = await gh.getitem(
            CONTENTS, {**owner_repo(full_name), "path": url_path(path), "ref": ref}
        )
    except BadRequest as err:
        if err.status_code == 404:
            return None
        raise
    if not isinstance(data, dict) or data.get("type") != "file":
        return None
    return data


async def entry_text(gh: GitHubAPI, full_name: str, entry: Any) -> str:
    content = entry.get("content") or ""
    if entry.get("encoding") != "base64" or (not content and entry.get("size", 0) > 0):
        # Over 1 MB the contents API leaves the content out; the blob has it.
        blob: Any = await gh.getitem(BLOB, {**owner_repo(full_name), "sha": entry["sha"]})
        content = blob["content"]
    return base64.b64decode(content).decode("utf-8", errors="replace")


async def read_text(gh: GitHubAPI, full_name: str, path: str, ref: str) -> str | None:
    """The text of `path` at `ref`; None when there is no such file (or it is a folder)."""
    entry = await contents_entry(gh, full_name, path, ref)
    return None if entry is None else await entry_text(gh, full_name, entry)


async def read_page(
    gh: GitHubAPI, full_name: str, path: str, ref: str, max_bytes: int
) -> str | TooLarge | None:
    """As `read_text`, but a file over `max_bytes` (by the size GitHub reports) is not
    downloaded: a stranger's pull request chooses how large its pages are."""
    entry = await contents_entry(gh, full_name, path, ref)
    if entry is None:
        return None
    size = int(entry.get("size") or 0)
    return TooLarge(size) if size > max_bytes else await entry_text(gh, full_name, entry)


async def bounded(jobs: Iterable[Awaitable[T]], limit: int = PARALLEL_READS) -> list[T]:
    """Run awaitables with at most `limit` at once, results in order."""
    gate = asyncio.Semaphore(limit)

    async def one(job: Awaitable[T]) -> T:
        async with gate:
            return await job

    return list(await asyncio.gather(*(one(job) for job in jobs)))
