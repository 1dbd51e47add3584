"""POST /webhooks: verify, store, answer. No GitHub call happens before the answer.

GitHub waits 10 s and never retries a failed delivery by itself, so the handler only
checks the signature, parses the JSON, writes the delivery and its job in one transaction
and answers 202; the worker does the rest, noting the delivery for the reconciler and the
timeline included (`service.note_delivery`): on the answer's path every statement counts.

Bodies before their signature is checked come from anyone. The HMAC is worked out chunk by
chunk as the body arrives, but the chunks are kept too (a signed body is stored as it came),
so what strangers can make the server hold is bounded instead:

- a body over SMALL_BODY (1 MB; GitHub's are nearly all a few KB) is read only while it holds
  one of LARGE_BODIES slots, taken before its first byte is read when Content-Length announces
  it, so at most 4 x 25 MB of large unverified bodies are held however many arrive at once
  (the others wait in their sockets, a few hundred KB each in the kernel's buffers and
  aiohttp's; smaller bodies need no slot: 1 MB at most per connection). 32 bad 25 MB bodies
  at once peak at ~180 MiB of server memory, against ~820 MiB when every one was held.
- one that finds every slot taken waits for one, up to SLOT_WAIT (10 s), then gets 503 and
  Retry-After. Waiting is right for GitHub: it never retries by itself, so a refusal would
  lose a genuine delivery until the reconciler asks for it again, while a wait only costs a
  parked socket; past 10 s GitHub has given up on the delivery anyway, so waiting longer holds
  a connection for nobody.
- a body must arrive within BODY_SECONDS (10 s, GitHub's own timeout) of being read: a sender
  that trickles cannot keep a slot, and gets 408.

A signed body is a replay when it was stored before under another X-GitHub-Delivery id (the
id is not signed; GitHub's own redeliveries keep it, and are answered 200 by it): the store
keeps the SHA-256 of each stored raw body until the delivery is pruned, and such a delivery
is answered 200 and not queued. The reconciler is unaffected: it asks GitHub again only for
ids it never stored, and GitHub sends them under the same id.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
from collections.abc import Callable
from contextlib import AsyncExitStack
from typing import Any
from urllib.parse import unquote_to_bytes

from aiohttp import web
from gidgethub import sansio

from rapidvet.app import metrics
from rapidvet.app.store import Delivery, Store, key_parts

MAX_BODY = 25 * 1024 * 1024  # GitHub caps payloads at 25 MB
SMALL_BODY = 1 << 20  # bodies over this many bytes need a slot to be read (module docstring)
LARGE_BODIES = 4  # slots: unverified bodies held at once stay under 4 x 25 MB
SLOT_WAIT = 10.0  # seconds a large body waits for a slot; GitHub's own timeout
BODY_SECONDS = 10.0  # seconds a body may take to arrive once it is being read
CHUNK = 1 << 16
# The events the App subscribes to (and ping): the only `event` labels of the delivery counter,
# since the header is not covered by the signature and anyone can send any value.
EVENTS = frozenset(
    (
        "check_run",
        "check_suite",
        "installation",
        "installation_repositories",
        "merge_group",
        "ping",
        "pull_request",
        "pull_request_review",
        "push",
    )
)
log = logging.getLogger("rapidvet.webhooks")


def signature_ok(mac: hmac.HMAC, header: str | None) -> bool:
    """X-Hub-Signature-256 is "sha256=" + the hex HMAC-SHA256 of the raw body (`mac`, fed the
    whole body). Compared as bytes in constant time: the header is any text a sender likes,
    and compare_digest raises on a str that is not ASCII."""
    if header is None:
        return False
    expected = b"sha256=" + mac.hexdigest().encode()
    return hmac.compare_digest(expected, header.encode("utf-8", "surrogatepass"))


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


class Refused(Exception):
    """A body the endpoint will not take: the answer, and its outcome for the counter."""

    def __init__(self, outcome: str, response: web.Response) -> None:
        super().__init__(outcome)
        self.outcome, self.response = outcome, response


TOO_LARGE = "too_large", 413, "payload larger than 25 MB"
BAD_SIGNATURE = "bad_signature", 401, "missing or wrong signature"
SLOW = "slow_body", 408, f"body not received within {BODY_SECONDS:.0f} s"


def _refused(outcome: str, status: int, message: str) -> Refused:
    return Refused(outcome, _error(status, message))


async def _take_slot(held: AsyncExitStack, slots: asyncio.Semaphore) -> None:
    """Wait up to SLOT_WAIT for a large body's slot, held until `held` closes; 503 if none."""
    try:
        async with asyncio.timeout(SLOT_WAIT):
            await slots.acquire()
    except TimeoutError:
        busy = _error(503, "too many large deliveries at once: send it again later")
        busy.headers["Retry-After"] = f"{SLOT_WAIT:.0f}"
        raise Refused("busy", busy) from None
    held.callback(slots.release)


async def signed_body(request: web.Request, secret: str, slots: asyncio.Semaphore) -> bytes:
    """The raw body, once its X-Hub-Signature-256 is right; Refused otherwise. Read in chunks
    into the HMAC, a body over SMALL_BODY only with one of `slots` (module docstring)."""
    declared = request.content_length
    if declared is not None and declared > MAX_BODY:
        raise _refused(*TOO_LARGE)
    mac = hmac.new(secret.encode(), digestmod=hashlib.sha256)
    chunks: list[bytes] = []
    size = 0
    async with AsyncExitStack() as held:
        large = declared is not None and declared > SMALL_BODY
        if large:
            await _take_slot(held, slots)
        # Most of GitHub's bodies, a few KB, are whole before the handler runs: no timer then.
        whole = request.content.is_eof()
        try:
            async with asyncio.timeout(None if whole else BODY_SECONDS) as deadline:
                async for chunk in request.content.iter_chunked(CHUNK):
                    size += len(chunk)
                    if size > MAX_BODY:
                        raise _refused(*TOO_LARGE)
                    if size > SMALL_BODY and not large:  # chunked: no Content-Length said so
                        await _take_slot(held, slots)
                        large = True
                        deadline.reschedule(asyncio.get_running_loop().time() + BODY_SECONDS)
                    mac.update(chunk)
                    chunks.append(chunk)
        except TimeoutError:
            raise _refused(*SLOW) from None
        if not signature_ok(mac, request.headers.get("X-Hub-Signature-256")):
            raise _refused(*BAD_SIGNATURE)
        return b"".join(chunks)  # while the slot is held: the copy counts against it too


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
    slots: asyncio.Semaphore,
) -> Callable[[web.Request], Any]:
    """The endpoint; `slots` bound the large bodies read at once (module docstring), shared
    by every handler of one server."""

    async def receive(request: web.Request) -> web.Response:
        event = request.headers.get("X-GitHub-Event", "")
        try:
            body = await signed_body(request, secret, slots)
        except Refused as refused:
            return _count(event, refused.outcome, refused.response)
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
                body_sha256=hashlib.sha256(body).digest(),
            )
        except (AttributeError, KeyError, TypeError):  # a field of another JSON type than GitHub's
            delivery = None
        if delivery is None or not _storable(delivery):
            return _count(event, "bad_payload", _error(400, "payload is not shaped like GitHub's"))
        stored = await store.receive(delivery)
        if not stored:  # its id, or its signed body under another id (a replay), was stored
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
