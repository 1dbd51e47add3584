"""Typed keys for what the fake keeps on its application, its requests and its responses."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from aiohttp import web

from tests.support.fake_github.auth import Credential
from tests.support.fake_github.control import Control
from tests.support.fake_github.openapi import Description, Operation
from tests.support.fake_github.shapes import Shapes
from tests.support.fake_github.state import State

# The application's
STATE = web.AppKey("state", State)
SHAPES = web.AppKey("shapes", Shapes)
CONTROL = web.AppKey("control", Control)
DESCRIPTION = web.AppKey("description", Description)
VALIDATE_RESPONSES = web.AppKey("validate_responses", bool)
REDELIVER: web.AppKey[Callable[[int], None]] = web.AppKey("redeliver")  # runs in background
TASKS: web.AppKey[set[asyncio.Task[Any]]] = web.AppKey("tasks")

# A request's, set by the middleware as it goes
LOG: web.RequestKey[dict[str, Any]] = web.RequestKey("log")  # its entry in the request log
OPERATION = web.RequestKey("operation", Operation)
PARAMS: web.RequestKey[dict[str, Any]] = web.RequestKey("params")  # typed query parameters
JSON: web.RequestKey[Any] = web.RequestKey("json")  # the body, None without one
CREDENTIAL = web.RequestKey("credential", Credential)
DROPPED = web.RequestKey("dropped", bool)  # a fault closed the connection
FREE = web.RequestKey("free", bool)  # a 304, which costs no rate limit

# A response's
BODY: web.ResponseKey[Any] = web.ResponseKey("body")  # the value it was made from, to validate
FAULTED = web.ResponseKey("faulted", bool)  # a fault made it, so it is not validated
