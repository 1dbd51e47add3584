"""What GitHub's "new App from a manifest" page refuses, in GitHub's words.

GitHub sends some events to every App and refuses a manifest that asks for them; it refuses an
event no requested permission backs, a webhook URL that is not https (outside localhost), and a
name some App already has.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any
from urllib.parse import urlsplit

# Sent without subscribing (/en/webhooks/webhook-events-and-payloads#installation; #meta).
UNSUPPORTED_EVENTS = frozenset(
    {"installation", "installation_repositories", "github_app_authorization", "meta"}
)
# The permission each event needs (/en/webhooks/webhook-events-and-payloads, "Availability").
EVENT_PERMISSIONS = {
    "check_run": ("checks",),
    "check_suite": ("checks",),
    "merge_group": ("merge_queues",),
    "push": ("contents",),
    "create": ("contents",),
    "delete": ("contents",),
    "release": ("contents",),
    "pull_request": ("pull_requests",),
    "pull_request_review": ("pull_requests",),
    "pull_request_review_comment": ("pull_requests",),
    "pull_request_review_thread": ("pull_requests",),
    "issues": ("issues",),
    "issue_comment": ("issues", "pull_requests"),
    "status": ("statuses",),
    "member": ("members",),
    "membership": ("members",),
    "team": ("members",),
    "organization": ("members",),
    "repository": ("metadata",),
    "label": ("metadata",),
    "public": ("metadata",),
    "star": ("metadata",),
    "watch": ("metadata",),
}
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


def _unsupported(events: Collection[str]) -> str | None:
    refused = [event for event in events if event in UNSUPPORTED_EVENTS]
    if not refused:
        return None
    return f"Default events unsupported: {' and '.join(refused)}"


def _unbacked(events: Collection[str], permissions: Mapping[str, str]) -> str | None:
    granted = {name for name, level in permissions.items() if level in ("read", "write")}
    refused = [
        event
        for event in events
        if event in EVENT_PERMISSIONS and not granted.intersection(EVENT_PERMISSIONS[event])
    ]
    if not refused:
        return None
    return f"Default events are not supported by permissions: {', '.join(refused)}"


def _hook_url(hook: Mapping[str, Any]) -> str | None:
    url = urlsplit(str(hook.get("url") or ""))
    if url.scheme == "https" or (url.scheme == "http" and url.hostname in LOCAL_HOSTS):
        return None
    # /en/apps/sharing-github-apps/registering-a-github-app-from-a-manifest
    return "Hook url must be a valid https URL"


def manifest_problems(manifest: Mapping[str, Any], taken: Collection[str]) -> list[str]:
    """What GitHub's registration page says is wrong with `manifest` (nothing: it is fine);
    `taken` holds the names (lower case) Apps have already."""
    hook = manifest.get("hook_attributes") or {}
    if not manifest.get("url") or not hook.get("url"):
        return ["A manifest needs url and hook_attributes.url"]
    events = [str(event) for event in manifest.get("default_events") or []]
    permissions = dict(manifest.get("default_permissions") or {})
    return [
        problem
        for problem in (
            _unsupported(events),
            _unbacked(events, permissions),
            _hook_url(hook),
            "Name is already in use" if str(manifest.get("name")).lower() in taken else None,
        )
        if problem is not None
    ]
