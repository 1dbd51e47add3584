"""The endpoint template of a GitHub request URL, for metric labels, log lines and retry rules.

`https://api.github.com/repos/octo/handbook/pulls/7/files?page=2` becomes
`/repos/{owner}/{repo}/pulls/{number}/files`. Labels never carry raw owners, repository names,
numbers, shas or paths: those would leak private names into metrics and make one time series per
pull request.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from gidgethub import sansio

# Segments after which GitHub puts names rather than numbers, and the placeholders for them.
_NAMES_AFTER: dict[str, tuple[str, ...]] = {
    "repos": ("{owner}", "{repo}"),
    "orgs": ("{org}",),
    "users": ("{username}",),
    "teams": ("{team_slug}",),
    "members": ("{username}",),
    "memberships": ("{username}",),
    "collaborators": ("{username}",),
    "branches": ("{branch}",),
    "labels": ("{name}",),
    "app-manifests": ("{code}",),
    "blobs": ("{sha}",),
    "trees": ("{sha}",),
    "commits": ("{sha}",),
}
# Segments followed by a value that may itself contain slashes: it runs to the end of the path.
_REST_AFTER = {
    "contents": "{path}",
    "ref": "{ref}",
    "refs": "{ref}",
    "matching-refs": "{ref}",
    "compare": "{basehead}",
}
# Pull requests and issues are numbered per repository; every other number is an id.
_NUMBER_AFTER = {"pulls": "{number}", "issues": "{number}"}
_WORD = re.compile(r"[a-z][a-z_-]*\Z")
_SHA = re.compile(r"[0-9a-f]{40}\Z")


def endpoint_template(url: str, base_url: str = sansio.DOMAIN) -> str:
    """The path of `url` below `base_url`, with every variable segment replaced by a placeholder.

    Segments this module does not know are kept only when they look like a resource word
    (lower-case letters, `-`, `_`); anything else becomes `{id}`, `{sha}` or `{value}`.
    """
    path = urlsplit(url).path
    prefix = urlsplit(base_url).path.rstrip("/")
    if prefix and path.startswith(prefix + "/"):
        path = path[len(prefix) :]
    segments = [segment for segment in path.split("/") if segment]
    template: list[str] = []
    index = 0
    while index < len(segments):
        segment = segments[index]
        index += 1
        if segment in _REST_AFTER and index < len(segments):
            template += [segment, _REST_AFTER[segment]]
            break
        if segment in _NAMES_AFTER:
            names = _NAMES_AFTER[segment][: len(segments) - index]
            template += [segment, *names]
            index += len(names)
            continue
        previous = template[-1] if template else ""
        if segment.isdigit():
            template.append(_NUMBER_AFTER.get(previous, "{id}"))
        elif _SHA.match(segment):
            template.append("{sha}")
        elif _WORD.match(segment):
            template.append(segment)
        else:
            template.append("{value}")
    return "/" + "/".join(template)
