"""The aiohttp application: webhooks in, health and metrics out."""

from __future__ import annotations

from collections.abc import Callable

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from rapidvet.app.handlers import handled
from rapidvet.app.store import Store
from rapidvet.app.webhooks import MAX_BODY, make_handler


def make_app(store: Store, webhook_secret: str, wake: Callable[[], None]) -> web.Application:
    app = web.Application(client_max_size=MAX_BODY + 1)

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

    app.router.add_post("/webhooks", make_handler(store, webhook_secret, handled, wake))
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics)
    return app
