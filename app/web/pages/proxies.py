"""Requests through a TLS-terminating proxy: the scheme the browser used, as X-Forwarded-Proto
says, believed only from a peer RAPIDVET_TRUSTED_PROXIES names. Anyone else's X-Forwarded-*
headers are ignored: a browser could send them to pass plain HTTP off as HTTPS, or the reverse.
"""

from __future__ import annotations

import ipaddress

from aiohttp import web
from aiohttp.typedefs import Middleware

from rapidvet.app.settings import IPNetwork
from rapidvet.app.web.pages.rendering import Handler

SCHEMES = frozenset({"http", "https"})


def trusted_peer(remote: str | None, trusted: tuple[IPNetwork, ...]) -> bool:
    """Whether the address the request came from is one of the trusted proxies."""
    try:
        address = ipaddress.ip_address(remote or "")
    except ValueError:  # a Unix socket, or no peer known
        return False
    return any(address in network for network in trusted)


def forwarded_scheme(trusted: tuple[IPNetwork, ...]) -> Middleware:
    """A middleware that gives the request the scheme a trusted proxy says the browser used,
    so that `request.secure`, `request.url` and the URLs built from it tell the truth."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        said = request.headers.get("X-Forwarded-Proto")
        if said is not None and trusted_peer(request.remote, trusted):
            # Proxies append: the last value is the one the proxy next to us set.
            scheme = said.rpartition(",")[2].strip().lower()
            if scheme in SCHEMES:
                request = request.clone(scheme=scheme)
        return await handler(request)

    return middleware
