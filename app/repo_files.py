"""Files of a repository at a commit, read through GitHub's contents API (blobs above 1 MB)."""

from __future__ import annotations

import base64
from typing import Any

from gidgethub import BadRequest
from gidgethub.abc import GitHubAPI

CONTENTS = "/repos/{owner}/{repo}/contents/{+path}{?ref}"
BLOB = "/repos/{owner}/{repo}/git/blobs/{sha}"


def owner_repo(full_name: str) -> dict[str, str]:
    owner, repo = full_name.split("/", 1)
    return {"owner": owner, "repo": repo}


async def read_text(gh: GitHubAPI, full_name: str, path: str, ref: str) -> str | None:
    """The text of `path` at `ref`; None when there is no such file (or it is a folder)."""
    try:
        data: Any = await gh.getitem(CONTENTS, {**owner_repo(full_name), "path": path, "ref": ref})
    except BadRequest as err:
        if err.status_code == 404:
            return None
        raise
    if not isinstance(data, dict) or data.get("type") != "file":
        return None
    content = data.get("content") or ""
    if data.get("encoding") != "base64" or (not content and data.get("size", 0) > 0):
        # Over 1 MB the contents API leaves the content out; the blob has it.
        blob: Any = await gh.getitem(BLOB, {**owner_repo(full_name), "sha": data["sha"]})
        content = blob["content"]
    return base64.b64decode(content).decode("utf-8", errors="replace")
