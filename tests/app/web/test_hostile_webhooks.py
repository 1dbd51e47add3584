"""Hostile input: over 10 000 hypothesis-generated requests to /webhooks of the real
`rapidvet serve` process, sent over raw sockets (an HTTP client library would repair most of
them): bad signatures, bad JSON, wrong content types, huge and many headers, odd GUIDs,
truncated and chunked bodies, unknown events, mixed with valid signed deliveries. Every request
must get the answer the endpoint promises (or, for broken HTTP, a 4xx from the parser or a
closed connection); the server must stay healthy and small, and the store must hold exactly the
deliveries that were validly signed, parseable and handled, each signed body once (the same
body under another GUID is a replay, answered 200).

Each hypothesis example draws 6 documents (body, event, content type) and 6 envelopes
(signature, GUID, framing, extra headers) and sends every pairing, 36 requests, over up to 6
connections at once. 30 s on a quiet 2-core machine, 100 s while others use both CPUs: slow.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import socket
import sqlite3
import threading
import urllib.parse
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest
from aiohttp.helpers import parse_content_type
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from rapidvet.app.web.webhooks import EVENTS, MAX_BODY
from tests.support.service import SECRET, Server, running_service, service_env

DOCUMENTS = ENVELOPES = 6  # per hypothesis example, crossed: 36 requests
EXAMPLES = 285  # 36 * 285 = 10 260 requests
MIN_REQUESTS = 10_000
TIMEOUT = 15.0  # seconds for one answer; a hung server fails the test
RSS_LIMIT_MIB = 300  # generous: an idle server holds ~60 MiB, 3 MB bodies come and go

# aiohttp's parser limits (web_protocol defaults); generated sizes stay clear of each edge.
MAX_FIELD = 8190
MAX_HEADERS = 128
FORM = "application/x-www-form-urlencoded"

REPO = {"full_name": "acme/handbook", "default_branch": "main"}
INSTALLATION = {"id": 42}
# (event, action) pairs a handler takes; push is taken when it changes rapid.yml on main.
HANDLED = (
    ("pull_request", "opened"),
    ("pull_request", "synchronize"),
    ("pull_request", "closed"),
    ("pull_request", "ready_for_review"),
    ("pull_request_review", "submitted"),
    ("pull_request_review", "dismissed"),
    ("check_run", "rerequested"),
    ("check_run", "requested_action"),
    ("check_suite", "rerequested"),
    ("installation", "created"),
    ("installation_repositories", "added"),
    ("push", None),
)
# Events the App knows with actions (or contents) no handler takes, and events it never gets.
UNHANDLED = (
    ("pull_request", "labeled"),
    ("pull_request", "assigned"),
    ("pull_request_review", "requested"),
    ("check_run", "created"),
    ("check_suite", "completed"),
    ("push", "elsewhere"),
    ("issues", "opened"),
    ("star", "created"),
    ("workflow_run", "completed"),
    ("Pull_Request", "opened"),
)
KNOWN = {"ping"} | {event for event, _ in HANDLED}

# What the endpoint must make of a body whose signature and headers pass.
STORE, IGNORE, PONG, REJECT = "store", "ignore", "pong", "reject"


# ------------------------------------------------------------------------- what is sent


@dataclass(frozen=True)
class Document:
    """A webhook body, its X-GitHub-Event and Content-Type, and its fate once it gets past the
    signature and header checks."""

    body: bytes
    event: bytes | None
    content_type: bytes | None
    verdict: str
    kind: str

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:  # how hypothesis prints it
        printer.text(repr(self))

    def __repr__(self) -> str:  # bodies run to megabytes: failure reports show their start
        return (
            f"Document({self.kind}, {self.verdict}, event={self.event!r:.80},"
            f" content_type={self.content_type!r}, {len(self.body)} bytes: {self.body!r:.300})"
        )


@dataclass(frozen=True)
class Hostile:
    """One request: a document in an envelope (signature, GUID, framing, extra headers)."""

    document: Document
    signature: str  # a name from SIGNATURES
    guid: bytes | None
    framing: str  # a name from FRAMINGS
    cut: int  # framings that break the body: how many bytes go missing (or too many)
    chunk: int  # chunked framings: chunk size
    junk: tuple[tuple[bytes, bytes], ...]  # extra headers
    keep_alive: bool
    name_case: str  # how the GitHub header names are spelled: lower, upper or as documented
    redeliver: bool = False  # crossed with documents: one GUID for all (else one per document)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self))

    def __repr__(self) -> str:
        junk = f"{len(self.junk)} x {len(self.junk[0][1])} bytes" if self.junk else "none"
        return (
            f"Hostile({self.document!r}, signature={self.signature}, guid={self.guid!r:.120},"
            f" framing={self.framing}, cut={self.cut}, chunk={self.chunk}, junk={junk},"
            f" keep_alive={self.keep_alive}, names={self.name_case}, redeliver={self.redeliver})"
        )


@dataclass(frozen=True)
class Expect:
    statuses: frozenset[int]  # empty: any 4xx (aiohttp's parser refused the request)
    may_close: bool  # no answer at all is fine (the body never arrived whole)
    stores: bool  # a 202 stores it; a 200 then says another request stored its body


def hmac_hex(body: bytes, secret: str = SECRET) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


# X-Hub-Signature-256 variants: the right one, and ways of getting it wrong.
SIGNATURE_HEADERS: dict[str, Callable[[bytes], str | None]] = {
    "right": lambda body: f"sha256={hmac_hex(body)}",
    "missing": lambda body: None,
    "wrong": lambda body: "sha256=" + hashlib.sha256(body).hexdigest(),
    "other-body": lambda body: f"sha256={hmac_hex(body + b' ')}",
    "other-secret": lambda body: f"sha256={hmac_hex(body, 'guess')}",
    "sha1-prefix": lambda body: f"sha1={hmac_hex(body)}",
    "no-prefix": hmac_hex,
    "upper-prefix": lambda body: f"SHA256={hmac_hex(body)}",
    "upper-hex": lambda body: f"sha256={hmac_hex(body).upper()}",
    "trailing": lambda body: f"sha256={hmac_hex(body)}0",
    "empty": lambda body: "",
}


def signature_header(kind: str, body: bytes) -> bytes | None:
    value = SIGNATURE_HEADERS[kind](body)
    return None if value is None else value.encode()


SIGNATURES = ("right",) * 12 + tuple(kind for kind in SIGNATURE_HEADERS if kind != "right")
# exact: Content-Length; chunked: Transfer-Encoding; truncated: Content-Length over what is
# sent, then the client stops sending; overlong: more bytes than Content-Length; bad-chunked:
# a chunk size that is not hex; chunked-truncated: no last chunk; oversize: Content-Length over
# 25 MB (only the start is sent: the endpoint must refuse before reading).
FRAMINGS = (
    ("exact",) * 10
    + ("chunked",) * 3
    + (
        "truncated",
        "overlong",
        "bad-chunked",
        "chunked-truncated",
        "oversize",
    )
)
HALF_CLOSED = {"truncated", "chunked-truncated"}
UNPARSEABLE = {"overlong", "bad-chunked"}


def header_name(name: str, case: str) -> bytes:
    return (name.lower() if case == "lower" else name.upper() if case == "upper" else name).encode()


def framed_body(request: Hostile) -> tuple[list[bytes], bytes]:
    """The framing headers and the bytes that follow the head."""
    body, framing = request.document.body, request.framing
    if framing in ("exact", "truncated", "overlong", "oversize"):
        length = {
            "exact": len(body),
            "truncated": len(body) + 1 + request.cut,
            "overlong": max(0, len(body) - 1 - request.cut % max(1, len(body))),
            "oversize": MAX_BODY + 1 + request.cut,
        }[framing]
        sent = body[: 1 << 16] if framing == "oversize" else body
        if framing == "overlong" and not body:
            sent = b"}"  # something must follow the (empty) body
        return [b"Content-Length: %d" % length], sent
    size = max(request.chunk, len(body) // 256)  # tiny chunks, but not a million of them
    pieces = [body[i : i + size] for i in range(0, len(body), size)]
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in pieces)
    if framing == "bad-chunked":
        chunks = b"zz\r\n" + chunks
    if framing == "chunked-truncated":
        return [b"Transfer-Encoding: chunked"], chunks[: max(0, len(chunks) - request.cut)]
    return [b"Transfer-Encoding: chunked"], chunks + b"0\r\n\r\n"


def wire(request: Hostile) -> bytes:
    """The request as bytes on the socket."""
    doc = request.document
    framing, rest = framed_body(request)
    github = {
        "X-GitHub-Event": doc.event,
        "X-GitHub-Delivery": request.guid,
        "X-Hub-Signature-256": signature_header(request.signature, doc.body),
    }
    lines = [b"POST /webhooks HTTP/1.1", b"Host: 127.0.0.1", *framing]
    lines += [
        header_name(k, request.name_case) + b": " + v for k, v in github.items() if v is not None
    ]
    if doc.content_type is not None:
        lines.append(b"Content-Type: " + doc.content_type)
    if not request.keep_alive:
        lines.append(b"Connection: close")
    lines += [name + b": " + value for name, value in request.junk]
    return b"\r\n".join(lines) + b"\r\n\r\n" + rest


# ------------------------------------------------------------------- what must come back


def as_server_reads(value: bytes) -> str:
    """A header value as aiohttp hands it to the endpoint."""
    return value.decode("utf-8", "surrogateescape")


def refused_by_parser(request: Hostile) -> bool:
    """Whether aiohttp's HTTP parser must refuse the request before the endpoint sees it."""
    values = [request.guid or b"", request.document.event or b""] + [v for _, v in request.junk]
    control = any(re.search(rb"[\x00-\x08\x0a-\x1f\x7f]", value) for value in values)
    too_big = any(len(value) > MAX_FIELD for value in values)
    own = 7  # at most: Host, framing, three GitHub headers, Content-Type, Connection
    return control or too_big or own + len(request.junk) > MAX_HEADERS


def guid_ok(guid: bytes | None) -> bool:
    text = as_server_reads(guid or b"")
    return 0 < len(text) <= 100 and text.isprintable()


def body_hash(request: Hostile) -> bytes:
    return hashlib.sha256(request.document.body).digest()


def expectation(request: Hostile, stored: set[str], bodies: set[bytes]) -> Expect:
    """The endpoint's promise for this request, given the GUIDs and bodies stored so far."""
    whole = request.framing in ("exact", "chunked")
    too_large = request.framing == "oversize" or (whole and len(request.document.body) > MAX_BODY)
    if too_large and not refused_by_parser(request):
        return Expect(frozenset({413}), False, False)
    if request.framing in HALF_CLOSED:
        return Expect(frozenset(), True, False)
    if request.framing in UNPARSEABLE or refused_by_parser(request):
        # The parser answers 400 and closes; a large body may still be on its way, and the
        # kernel's reset can swallow the answer.
        return Expect(frozenset(), True, False)
    if request.signature != "right":
        return Expect(frozenset({401}), False, False)
    doc = request.document
    if not doc.event or not guid_ok(request.guid):
        return Expect(frozenset({400}), False, False)
    if doc.verdict == REJECT:
        return Expect(frozenset({400}), False, False)
    if doc.verdict in (IGNORE, PONG):
        return Expect(frozenset({200}), False, False)
    assert request.guid is not None
    if as_server_reads(request.guid) in stored or body_hash(request) in bodies:
        return Expect(frozenset({200}), False, False)
    # 200 too when a request sent meanwhile with the same body and another GUID stored it
    return Expect(frozenset({200, 202}), False, True)


# -------------------------------------------------------------------------- strategies

# Header text: no ASCII control characters (the parser's business, drawn separately), no
# whitespace at the ends (the parser strips it), no surrogates (not encodable).
HEADER_CHARS = st.characters(min_codepoint=0x20, exclude_characters="\x7f", codec="utf-8")
header_text = st.text(HEADER_CHARS, min_size=1, max_size=12).filter(lambda s: s == s.strip())
ASCII = st.characters(min_codepoint=0x20, max_codepoint=0x7E)
INVALID_UTF8 = (b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\xf8\x88\x80\x80\x80", b"\x80")
CONTROL = (b"\x00", b"\x01", b"\x1b", b"\x7f")


@st.composite
def long_bytes(draw: st.DrawFn, low: int, high: int) -> bytes:
    """A long header value, repeated from a short drawn unit (drawing every byte is slow)."""
    unit = draw(header_text).encode()
    size = draw(st.integers(low, high))
    return (unit * (size // len(unit) + 1))[:size].rstrip() or b"x" * size


def with_invalid_utf8(draw: st.DrawFn, text: bytes) -> bytes:
    at = draw(st.integers(0, len(text)))
    return text[:at] + draw(st.sampled_from(INVALID_UTF8)) + text[at:]


UUID_TEXT = re.compile(rb"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@st.composite
def guids(draw: st.DrawFn) -> bytes | None:
    kind = draw(st.sampled_from(("uuid",) * 8 + ("odd", "long", "empty", "missing", "bytes")))
    if kind == "uuid":
        return str(draw(st.uuids())).encode()
    if kind == "odd":  # printable or not, short: stored only when printable
        return draw(header_text.map(str.encode))
    if kind == "long":  # over 100 characters, under the parser's limit or far above it
        return draw(long_bytes(101, 8000) | long_bytes(MAX_FIELD + 200, 3 * MAX_FIELD))
    if kind == "bytes":  # invalid UTF-8 (the endpoint refuses) or control bytes (the parser)
        text = draw(header_text).encode()
        if draw(st.booleans()):
            return with_invalid_utf8(draw, text)
        return text + draw(st.sampled_from(CONTROL)) + text
    return b"" if kind == "empty" else None


@st.composite
def odd_events(draw: st.DrawFn) -> bytes:
    """An event name no handler takes."""
    kind = draw(st.sampled_from(("named", "text", "bytes")))
    if kind == "named":
        return draw(st.sampled_from([e for e, _ in UNHANDLED if e not in KNOWN])).encode()
    text = draw(header_text.filter(lambda s: s not in KNOWN)).encode()
    return with_invalid_utf8(draw, text) if kind == "bytes" else text


def payload(event: str, action: str | None, number: int) -> dict[str, object]:
    """A payload shaped like GitHub's, with just what the endpoint reads."""
    data: dict[str, object] = {"repository": dict(REPO), "installation": dict(INSTALLATION)}
    if action is not None and event != "push":
        data["action"] = action
    if event in ("pull_request", "pull_request_review"):
        data |= {"number": number, "pull_request": {"number": number, "state": "open"}}
    elif event in ("check_run", "check_suite"):
        data[event] = {"id": number, "pull_requests": [{"number": number}]}
        if action == "requested_action":
            data["requested_action"] = {"identifier": "recheck"}
    elif event == "push":
        branch = "main" if action is None else "elsewhere"
        data |= {"ref": f"refs/heads/{branch}", "commits": [{"modified": [".github/rapid.yml"]}]}
    return data


json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
)


@st.composite
def extras(draw: st.DrawFn) -> dict[str, object]:
    """Fields the endpoint does not read: random JSON, now and then a huge string."""
    found: dict[str, object] = {}
    if draw(st.booleans()):
        found = draw(
            st.dictionaries(st.text(max_size=6).map("x_{}".format), json_values, max_size=2)
        )
    size = draw(st.sampled_from((0,) * 60 + (1 << 10, 1 << 16, 1 << 20)))
    if size:
        # ASCII, so that `size` is about the bytes sent, escaped or not
        unit = draw(st.text(ASCII, min_size=1, max_size=4))
        found["x_huge"] = (unit * (size // len(unit) + 1))[:size]
    return found


def encoded(value: object, ascii: bool = True) -> bytes:
    """JSON text, with non-ASCII escaped or as UTF-8 (lone surrogates then make it invalid)."""
    return json.dumps(value, ensure_ascii=ascii).encode("utf-8", "surrogatepass")


# Misshapen payloads: a field the endpoint reads holds another JSON type than GitHub's.
TRUTHY_NOT_OBJECT = st.one_of(
    st.text(min_size=1, max_size=5),
    st.integers().filter(bool),
    st.just(True),
    st.lists(json_scalars, min_size=1, max_size=3),
)
BAD_IDS = st.one_of(
    st.text(max_size=5),
    st.floats(allow_nan=False, allow_infinity=False),
    st.integers(max_value=0),
    st.integers(min_value=2**63),
    st.just(True),
)
BAD_TEXT = st.one_of(
    st.integers(),
    st.lists(json_scalars, max_size=2),
    st.sampled_from(["acme\x00handbook", "acme/\ud800", "a\nb", "\u2028"]),
)


@st.composite
def misshapen(draw: st.DrawFn, data: dict[str, object], event: str) -> dict[str, object]:
    where = draw(
        st.sampled_from(
            ["repository", "installation", "pull_request", "action", "installation.id"]
            + ["repository.full_name"]
            + (["pull_requests"] if event == "check_run" else [])
        )
    )
    if where in ("repository", "installation", "pull_request"):
        return data | {where: draw(TRUTHY_NOT_OBJECT)}
    if where == "action":  # unhashable: no router lookup survives it
        return data | {"action": draw(st.lists(json_scalars, max_size=2) | st.just({"a": 1}))}
    if where == "installation.id":
        return data | {"installation": {"id": draw(BAD_IDS)}}
    if where == "repository.full_name":
        return data | {"repository": REPO | {"full_name": draw(BAD_TEXT)}}
    return data | {event: {"pull_requests": [draw(TRUTHY_NOT_OBJECT)]}}


@st.composite
def nested(draw: st.DrawFn, shallow: bool) -> tuple[str, bool]:
    """JSON nested `depth` objects deep; whether Python's parser gets through it (the limit is
    near 990 levels in the server: both sides stay well clear of it)."""
    depth = draw(st.integers(1, 800) if shallow else st.integers(1200, 100_000))
    return '{"a":' * depth + "1" + "}" * depth, shallow


@st.composite
def documents(draw: st.DrawFn) -> Document:
    kind = draw(
        st.sampled_from(
            ("handled",) * 6
            + ("ignored",) * 3
            + ("misshapen",) * 2
            + ("invalid",) * 2
            + ("ping", "not-object", "deep", "big-number")
        )
    )
    event, action = draw(st.sampled_from(HANDLED))
    data = payload(event, action, draw(st.integers(1, 5))) | draw(extras())
    ascii = draw(st.booleans())
    verdict = STORE
    text = encoded(data, ascii)
    if kind == "ignored":
        other, other_action = draw(st.sampled_from(UNHANDLED))
        event = other if other in KNOWN else draw(st.just(other.encode()) | odd_events())
        text, verdict = encoded(payload(other, other_action, 1) | draw(extras()), ascii), IGNORE
    elif kind == "ping":
        event, verdict = "ping", PONG
    elif kind == "misshapen":
        text, verdict = encoded(draw(misshapen(data, event)), ascii), REJECT
    elif kind == "deep":
        deep, parses = draw(nested(draw(st.booleans())))
        text = text[:-1] + b', "x_deep": ' + deep.encode() + b"}"
        verdict = STORE if parses else REJECT
    elif kind == "big-number":  # Python refuses ints over 4 300 digits
        digits = draw(st.integers(1, 4000) | st.integers(5000, 50_000))
        text = text[:-1] + b', "x_big": ' + b"7" * digits + b"}"
        verdict = STORE if digits <= 4000 else REJECT
    elif kind == "not-object":
        depth = draw(st.integers(1, 100_000))
        array = b"[" * depth + b"]" * depth
        value = draw(json_values.filter(_not_dict))
        text = draw(st.sampled_from([array, encoded(value, ascii)]))
        verdict = REJECT
    elif kind == "invalid":
        text, verdict = draw(invalid_json(text)), REJECT
    event_bytes = event.encode() if isinstance(event, str) else event
    if kind in ("invalid", "not-object") and draw(st.booleans()):
        event_bytes = draw(odd_events())  # refused whatever the event
    if draw(st.integers(0, 29)) == 0:
        event_bytes = draw(st.sampled_from([None, b""]))  # refused whatever the body
    return draw(with_content_type(Document(text, event_bytes, None, verdict, kind)))


def _not_dict(value: object) -> bool:
    return not isinstance(value, dict)


@st.composite
def invalid_json(draw: st.DrawFn, text: bytes) -> bytes:
    """Not JSON: a proper prefix of an object, junk after it, invalid UTF-8, or binary."""
    how = draw(st.sampled_from(("prefix", "trailing", "utf-8", "binary", "single-quotes")))
    if how == "prefix":
        return text[: draw(st.integers(0, len(text) - 1))]
    if how == "trailing":
        return text + draw(st.sampled_from([b"x", b"}", b",", b"{}", b"\x00"]))
    if how == "utf-8":
        return with_invalid_utf8(draw, text)
    if how == "single-quotes":
        return b"{'action': 'opened'}"
    # \x01 first: neither JSON nor a UTF-16/32 byte order JSON's detector would read
    return b"\x01" + draw(st.binary(max_size=200))


JSON_TYPES = (
    None,
    b"application/json",
    b"application/json; charset=utf-8",
    b"APPLICATION/JSON",
    b"text/plain",
    b"multipart/form-data; boundary=zzz",
    b";;;=",
    b"application/x-www-form-urlencodedx",
)
FORM_TYPES = (
    FORM.encode(),
    b"Application/X-WWW-Form-Urlencoded; charset=utf-8",
    FORM.encode() + b";;;",
)


@st.composite
def with_content_type(draw: st.DrawFn, doc: Document) -> Document:
    """The body as GitHub's JSON or form content type, or sent under a type that does not
    match (which makes it unparseable)."""
    how = draw(st.sampled_from(("json",) * 5 + ("form",) * 2 + ("form-broken", "mismatch")))
    try:
        text = doc.body.decode("utf-8")
    except UnicodeDecodeError:
        how = "json"  # forms carry text: GitHub percent-encodes its UTF-8 JSON
    if how == "json":
        return replace(doc, content_type=draw(st.sampled_from(JSON_TYPES)))
    form = draw(st.sampled_from(FORM_TYPES))
    if how == "form":
        body = urllib.parse.urlencode({"payload": text}).encode()
        return replace(doc, body=body, content_type=form)
    if how == "form-broken":
        body = draw(
            st.sampled_from(
                [
                    urllib.parse.urlencode({"data": text}).encode(),  # no payload field
                    b"payload",  # not name=value
                    b"payload=" + urllib.parse.quote(text).encode() + b"&&",
                    b"payload=%7B\xff%7D",  # invalid UTF-8
                    b"",
                ]
            )
        )
        return replace(doc, body=body, content_type=form, verdict=REJECT)
    if draw(st.booleans()):  # JSON under the form type
        return replace(doc, content_type=form, verdict=REJECT)
    body = urllib.parse.urlencode({"payload": text}).encode()  # a form under a JSON type
    return replace(doc, body=body, content_type=draw(st.sampled_from(JSON_TYPES)), verdict=REJECT)


@st.composite
def junk_headers(draw: st.DrawFn) -> tuple[tuple[bytes, bytes], ...]:
    """None, a few, or many headers; values up to aiohttp's limit, or well over it."""
    count = draw(st.sampled_from((0,) * 6 + (1, 3, 30, 110, 140)))
    size = draw(st.sampled_from((10,) * 4 + (1000, 8000, MAX_FIELD + 300)))
    if count * size > 1 << 20:  # keep one request's head under a megabyte
        size = 20
    value = draw(long_bytes(size, size))
    return tuple((b"X-Junk-%d" % i, value) for i in range(count))


# Envelopes are drawn without their document; every batch crosses its documents with its
# envelopes, which sends many requests for few (slow) draws and mixes every kind with every
# kind, a reused GUID included.
NO_DOCUMENT = Document(b"", None, None, REJECT, "none")


@st.composite
def envelopes(draw: st.DrawFn) -> Hostile:
    """Signature, GUID, framing and extra headers of a request, its document left out."""
    return Hostile(
        document=NO_DOCUMENT,
        signature=draw(st.sampled_from(SIGNATURES)),
        guid=draw(guids()),
        framing=draw(st.sampled_from(FRAMINGS)),
        cut=draw(st.integers(0, 64)),
        chunk=draw(st.sampled_from((1, 7, 100, 4096, 1 << 16))),
        junk=draw(junk_headers()),
        keep_alive=draw(st.booleans()),
        name_case=draw(st.sampled_from(("documented",) * 3 + ("lower", "upper"))),
        redeliver=draw(st.booleans()),
    )


def crossed(envelope: Hostile, documents: list[Document]) -> list[Hostile]:
    """The envelope around each document: with its own GUID each (a UUID's variants: still
    unique, and apart from every other envelope's), or all with the envelope's GUID."""
    guid = envelope.guid
    if envelope.redeliver or guid is None or not UUID_TEXT.fullmatch(guid):
        return [replace(envelope, document=document) for document in documents]
    return [
        replace(
            envelope,
            document=document,
            guid=str(uuid.uuid5(uuid.UUID(guid.decode()), f"{i}")).encode(),
        )
        for i, document in enumerate(documents)
    ]


# ---------------------------------------------------------------------------- raw HTTP


def address(server: Server) -> tuple[str, int]:
    host, port = server.url.removeprefix("http://").split(":")
    return host, int(port)


def answer_status(sock: socket.socket) -> int | None:
    """The status of the first answer on `sock` (its body read by Content-Length), or None when
    the server closed the connection without one."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = received(sock)
        if not chunk:
            return None
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = re.search(rb"(?im)^content-length:\s*(\d+)", head)
    while length and len(body) < int(length.group(1)):  # a keep-alive server waits for us
        chunk = received(sock)
        if not chunk:
            break
        body += chunk
    return status


def received(sock: socket.socket) -> bytes:
    """The next bytes from the server; none once it closed or reset the connection (a timeout
    is an error: the server must answer)."""
    try:
        return sock.recv(1 << 16)
    except ConnectionResetError:
        return b""


def exchange(server: Server, data: bytes, half_close: bool) -> int | None:
    with socket.create_connection(address(server), timeout=TIMEOUT) as sock:
        try:
            sock.sendall(data)
            if half_close:
                sock.shutdown(socket.SHUT_WR)
        except OSError:  # refused before reading everything (EPIPE, ECONNRESET, ENOTCONN):
            pass  # its answer may still be there
        return answer_status(sock)


def healthy(server: Server) -> bool:
    get = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    return server.process.poll() is None and exchange(server, get, False) == 200


def rss_mib(pid: int) -> dict[str, float]:
    """VmRSS and VmHWM (the peak) of a process, in MiB."""
    status = Path(f"/proc/{pid}/status").read_text()
    return {k: int(v) / 1024 for k, v in re.findall(r"^(VmRSS|VmHWM):\s+(\d+) kB", status, re.M)}


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used (/proc/PID/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def stored_guids(database: Path) -> tuple[set[str], set[str]]:
    """(delivery ids, delivery ids of jobs) in the server's SQLite file."""
    with sqlite3.connect(database) as db:
        deliveries = {row[0] for row in db.execute("SELECT id FROM deliveries")}
        jobs = {row[0] for row in db.execute("SELECT delivery_id FROM jobs")}
    return deliveries, jobs


def metric_events(server: Server) -> set[str]:
    """The event labels of deliveries_total on /metrics."""
    get = b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    with socket.create_connection(address(server), timeout=TIMEOUT) as sock:
        sock.sendall(get)
        text = b""
        while chunk := sock.recv(1 << 16):
            text += chunk
    assert text.startswith(b"HTTP/1.1 200"), text[:200]
    return set(re.findall(r'deliveries_total\{event="([^"]*)"', text.decode()))


# ------------------------------------------------------------------------------ the test


@dataclass
class Tally:
    """What the test sent, saw and expects the store to hold."""

    stored: set[str] = field(default_factory=set)
    bodies: set[bytes] = field(default_factory=set)  # SHA-256 of the stored bodies
    replays: set[bytes] = field(default_factory=set)  # bodies answered 200 as stored meanwhile
    sent: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    kinds: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, request: Hostile, status: int | None, expect: Expect) -> None:
        with self.lock:
            self.sent += 1
            self.statuses[str(status)] += 1
            self.kinds[f"{request.document.kind}/{request.framing}/{request.signature}"] += 1
            if not expect.stores or request.guid is None:
                return
            digest = body_hash(request)
            if status == 200:
                self.replays.add(digest)
            elif status == 202:
                assert digest not in self.bodies, f"a body stored twice: {request!r}"
                self.stored.add(as_server_reads(request.guid))
                self.bodies.add(digest)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("hostile")
    # No worker and a GitHub on a closed port: only what the endpoint stores matters here.
    with running_service(service_env(tmp, "http://127.0.0.1:9"), tmp, "--no-worker") as running:
        yield running


def check(server: Server, request: Hostile, tally: Tally) -> None:
    with tally.lock:
        expect = expectation(request, tally.stored, tally.bodies)
    status = exchange(server, wire(request), request.framing in HALF_CLOSED)
    tally.record(request, status, expect)
    if status is None:
        ok = expect.may_close
    elif expect.statuses:
        ok = status in expect.statuses
    else:
        ok = 400 <= status < 500
    assert ok, (
        f"status {status}, expected {sorted(expect.statuses) or '4xx'}"
        f"{' or a closed connection' if expect.may_close else ''} for\n{wire(request)[:1500]!r}"
        f"\nserver log tail:\n{server.logs()[-2000:]}"
    )


def by_guid(envelopes: list[Hostile]) -> list[list[Hostile]]:
    """Envelopes grouped by the GUID the server reads: groups can go out at once, while the
    envelopes of one group go one after the other (which of them is first decides 202 or 200)."""
    groups: dict[str, list[Hostile]] = {}
    for envelope in envelopes:
        groups.setdefault(as_server_reads(envelope.guid or b""), []).append(envelope)
    return list(groups.values())


def test_generated_variants_mean_what_the_oracle_says():
    """The test's own assumptions: which content types aiohttp reads as a form, which signature
    variants verify."""
    from rapidvet.app.web.webhooks import signature_ok

    for raw, form in [(t, False) for t in JSON_TYPES] + [(t, True) for t in FORM_TYPES]:
        read = parse_content_type(raw.decode())[0] if raw else "application/octet-stream"
        assert (read == FORM) is form, raw
    body = b'{"zen": "Keep it logically awesome."}'
    for kind in SIGNATURE_HEADERS:
        header = signature_header(kind, body)
        mac = hmac.new(SECRET.encode(), body, hashlib.sha256)
        verified = signature_ok(mac, None if header is None else header.decode())
        assert verified is (kind == "right"), kind


@pytest.mark.slow
def test_hostile_requests_get_the_promised_answers_and_store_nothing_else(server: Server):
    """Each request's answer, /healthz after every example, then the store, the metrics' labels
    and the server's peak memory."""
    tally = Tally()
    before = rss_mib(server.process.pid)

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,  # the oracle follows one live server: replaying old examples adds nothing
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(
        st.lists(documents(), min_size=DOCUMENTS, max_size=DOCUMENTS),
        st.lists(envelopes(), min_size=ENVELOPES, max_size=ENVELOPES),
    )
    def batch(documents: list[Document], envelopes: list[Hostile]) -> None:
        def send(group: list[Hostile]) -> None:
            for envelope in group:
                for request in crossed(envelope, documents):
                    check(server, request, tally)

        # Concurrent connections: the server must cope with them, and the run is shorter.
        list(pool.map(send, by_guid(envelopes)))
        assert healthy(server), f"unhealthy after a batch:\n{server.logs()[-3000:]}"

    with ThreadPoolExecutor(ENVELOPES) as pool:
        batch()

    after = rss_mib(server.process.pid)
    deliveries, jobs = stored_guids(server.database)
    labels = metric_events(server)
    print(f"\nsent {tally.sent} requests; answers: {dict(tally.statuses.most_common())}")
    print(f"stored {len(deliveries)} deliveries; server RSS MiB before {before}, after {after}")
    print(f"server CPU {cpu_seconds(server.process.pid):.1f} s")
    print("most common kinds:", dict(tally.kinds.most_common(12)))
    assert tally.sent >= MIN_REQUESTS
    assert healthy(server)
    assert deliveries == tally.stored
    assert jobs == tally.stored  # one job per stored delivery, none for anything else
    assert tally.replays <= tally.bodies  # each 200 for a new GUID had its body stored
    assert labels <= EVENTS | {"other", "unknown"}, labels
    assert after["VmHWM"] < RSS_LIMIT_MIB, after  # the peak, not only what is left
