"""Typed keys for what the pages keep on the aiohttp application."""

from __future__ import annotations

from collections.abc import Callable

from aiohttp import web

from rapidvet.app.credentials import Registration

REGISTRATION = web.AppKey("registration", Registration)
WAKE: web.AppKey[Callable[[], None]] = web.AppKey("wake")  # a job was queued: tell the worker
