"""POST /webhooks: verify, store, answer. No GitHub call happens before the answer.

GitHub waits 10 s and never retries a failed delivery by itself, so the handler only
checks the signature, parses the JSON, writes the delivery and its job in one transaction
and answers 202; the worker does the rest, noting the delivery for the reconciler and the
timeline included (`service.note_delivery`): on the answer's path every statement counts.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote_to_bytes

from aiohttp import web
from gidgethub import sansio

from rapidvet.app import metrics
from rapidvet.app.store import Delivery, Store, key_parts

MAX_BODY = 25 * 1024 * 1024  # GitHub caps payloads at 25 MB
# The events the App subscribes to (and ping): the only `event` labels of the delivery counter,
# since the header is not covered by the signature and anyone can send any value.
EVENTS = frozenset(
    (
        "check_run",
        "check_suite",
        "installation",
        "installation_repositories",
        "ping",
        "pull_request",
        "pull_request_review",
        "push",
    )
)
log = logging.getLogger("rapidvet.webhooks")


def signature_ok(secret: str, body: bytes, header: str | None) -> bool:
    """X-Hub-Signature-256 is "sha256=" + HMAC-SHA256(secret, raw body); constant-time compare."""
    if not header or not header.startswith("sha256="):
        return False
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, header.removeprefix("sha256="))


def job_key(event: str, payload: dict[str, Any]) -> str:
    """What serializes the delivery's job: its pull request where it has exactly one, else
    its repository, else its installation."""
    repo = (payload.get("repository") or {}).get("full_name")
    number = (payload.get("pull_request") or {}).get("number")
    if number is None and event in ("check_run", "check_suite"):
        pulls = (payload.get(event) or {}).get("pull_requests") or []
        number = pulls[0].get("number") if len(pulls) == 1 else None
    if repo and number is not None:
        return f"{repo}#{number}"
    if repo:
        return str(repo)
    return f"installation:{(payload.get('installation') or {}).get('id')}"


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


async def _body(request: web.Request) -> bytes | None:
    """The raw body, or None once it passes MAX_BODY (read no further than that)."""
    if request.content_length is not None and request.content_length > MAX_BODY:
        return None
    chunks, size = [], 0
    async for chunk in request.content.iter_chunked(1 << 16):
        size += len(chunk)
        if size > MAX_BODY:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _payload(request: web.Request, body: bytes) -> tuple[bytes, Any]:
    """The JSON text from either content type GitHub sends (application/json or a form
    field), kept as it came so it is stored without encoding it again, and its value."""
    if request.content_type == "application/x-www-form-urlencoded":
        body = _form_payload(body)
    # JSON is UTF-8 (RFC 8259); json.loads(bytes) would also take UTF-16 and encoded surrogates.
    return body, json.loads(body.decode("utf-8"))


def _form_payload(body: bytes) -> bytes:
    """The `payload` field of GitHub's form body (its only field), percent-decoded 64 KB at a
    time: parse_qs holds one string per escape, near 80 times the body's size at its peak."""
    name, equals, value = body.partition(b"=")
    if name != b"payload" or not equals or b"&" in value:
        raise ValueError("the form holds other fields than payload")
    value = value.replace(b"+", b" ")
    pieces, start = [], 0
    while start < len(value):
        end = start + (1 << 16)
        escape = value.rfind(b"%", end - 2, end)  # an escape cut in two stays whole
        end = escape if escape > start else end
        pieces.append(unquote_to_bytes(value[start:end]))
        start = end
    return b"".join(pieces)


def _storable(delivery: Delivery) -> bool:
    """Whether every backend takes the row: printable text (no NUL, no lone surrogate from a
    JSON escape) and an installation id that fits a bigint, as GitHub sends them."""
    texts = (delivery.key, delivery.action, delivery.repo)
    installation = delivery.installation
    return all(t is None or (isinstance(t, str) and t.isprintable()) for t in texts) and (
        installation is None or (type(installation) is int and 0 < installation < 2**63)
    )


def make_handler(
    store: Store,
    secret: str,
    wanted: Callable[[sansio.Event], bool],
    wake: Callable[[], None],
) -> Callable[[web.Request], Any]:

    async def receive(request: web.Request) -> web.Response:
        event = request.headers.get("X-GitHub-Event", "")
        body = await _body(request)
        if body is None:
            return _count(event, "too_large", _error(413, "payload larger than 25 MB"))
        if not signature_ok(secret, body, request.headers.get("X-Hub-Signature-256")):
            return _count(event, "bad_signature", _error(401, "missing or wrong signature"))
        guid = request.headers.get("X-GitHub-Delivery", "")
        if not event or not guid or len(guid) > 100 or not guid.isprintable():
            return _count(
                event,
                "bad_request",
                _error(400, "X-GitHub-Event and X-GitHub-Delivery are required"),
            )
        try:
            text, payload = _payload(request, body)
        except (ValueError, KeyError, UnicodeDecodeError, RecursionError):  # or nested too deep
            return _count(event, "bad_json", _error(400, "body is not valid JSON"))
        if not isinstance(payload, dict):
            return _count(event, "bad_json", _error(400, "body is not a JSON object"))
        if event == "ping":
            return _count(event, "ping", web.json_response({"pong": True}))
        try:
            if not wanted(sansio.Event(payload, event=event, delivery_id=guid)):
                return _count(event, "ignored", web.json_response({"ignored": True}))
            delivery: Delivery | None = Delivery(
                id=guid,
                event=event,
                action=payload.get("action"),
                installation=(payload.get("installation") or {}).get("id"),
                repo=(payload.get("repository") or {}).get("full_name"),
                key=job_key(event, payload),
                payload=text,
            )
        except (AttributeError, KeyError, TypeError):  # a field of another JSON type than GitHub's
            delivery = None
        if delivery is None or not _storable(delivery):
            return _count(event, "bad_payload", _error(400, "payload is not shaped like GitHub's"))
        stored = await store.receive(delivery)
        if not stored:
            return _count(event, "duplicate", web.json_response({"duplicate": True}))
        wake()
        _, pr = key_parts(delivery.key)
        about = {"installation": delivery.installation, "repo": delivery.repo, "pr": pr}
        log.info("delivery stored", extra={"delivery_id": guid, "event": event, **about})
        return _count(event, "queued", web.json_response({"queued": True}, status=202))

    return receive


def _count(event: str, outcome: str, response: web.Response) -> web.Response:
    label = event if event in EVENTS else "other" if event else "unknown"
    metrics.deliveries_total.labels(event=label, outcome=outcome).inc()
    return response
