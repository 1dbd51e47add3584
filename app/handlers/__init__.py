"""Webhook handlers, one module per event family; each takes `(event, gh, context)`."""

from __future__ import annotations

from gidgethub import routing, sansio

from rapidvet.app.handlers import installation, merge_group, pull_request, push, reruns, review

router = routing.Router(
    pull_request.router,
    review.router,
    reruns.router,
    installation.router,
    push.router,
    merge_group.router,
)


def handled(event: sansio.Event) -> bool:
    """Whether any handler takes this event: others are answered but not stored."""
    if event.event == "push" and not push.relevant(event.data):
        return False
    return bool(router.fetch(event))
