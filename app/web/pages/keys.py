"""Typed keys for what the pages keep on the aiohttp application."""

from __future__ import annotations

from collections.abc import Callable

from aiohttp import web

from rapidvet.app.github.credentials import Registration
from rapidvet.app.web.pages.setup_code import SetupGate
from rapidvet.app.web.signins import SignIns

REGISTRATION = web.AppKey("registration", Registration)
SIGN_INS = web.AppKey("sign_ins", SignIns)
SETUP_GATE = web.AppKey("setup_gate", SetupGate)
WAKE: web.AppKey[Callable[[], None]] = web.AppKey("wake")  # a job was queued: tell the worker
