"""The aiohttp application: webhooks in, health and metrics out, and the pages."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from rapidvet.app.github.credentials import Registration
from rapidvet.app.handlers import handled
from rapidvet.app.store import Store
from rapidvet.app.web.pages import setup_pages
from rapidvet.app.web.webhooks import LARGE_BODIES, MAX_BODY, make_handler

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def make_app(registration: Registration, wake: Callable[[], None]) -> web.Application:
    app = web.Application(client_max_size=MAX_BODY + 1)
    app.router.add_post("/webhooks", _webhooks(registration, wake))
    add_probes(app, registration.store)
    setup_pages(app, registration, wake)
    return app


def make_probe_app(store: Store) -> web.Application:
    """What a worker alone serves: health and metrics, no webhooks and no pages."""
    app = web.Application()
    add_probes(app, store)
    return app


def add_probes(app: web.Application, store: Store) -> None:
    """GET /healthz (alive), /readyz (database reachable), /metrics (Prometheus)."""

    async def healthz(request: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    async def readyz(request: web.Request) -> web.Response:
        if store.ping():
            return web.json_response({"ready": True})
        return web.json_response({"ready": False, "error": "database unreachable"}, status=503)

    async def metrics(request: web.Request) -> web.Response:
        response = web.Response(body=generate_latest())
        response.headers["Content-Type"] = CONTENT_TYPE_LATEST
        return response

    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics)


def _webhooks(registration: Registration, wake: Callable[[], None]) -> Handler:
    """POST /webhooks: 503 until the App is registered, then deliveries checked with its secret."""
    slots = asyncio.Semaphore(LARGE_BODIES)  # one set for the server, whatever the secret

    @functools.cache
    def receiver(secret: str) -> Handler:
        handler: Handler = make_handler(registration.store, secret, handled, wake, slots)
        return handler

    async def receive(request: web.Request) -> web.StreamResponse:
        credentials = registration.credentials
        if credentials is None:
            return web.json_response(
                {"error": "not configured: register the GitHub App on this server's / page"},
                status=503,
            )
        return await receiver(credentials.webhook_secret)(request)

    return receive
