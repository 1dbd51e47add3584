"""Structured logs: one JSON object per line, with the delivery, repository and pull request
a line is about. Keys and tokens never reach a log line (the clients' reprs leave them out).

The job runner `bind`s a job's fields once; every line written after that in the job's task,
by any logger, carries them, without each call passing `extra`."""

from __future__ import annotations

import json
import logging
import sys
from contextvars import ContextVar
from datetime import UTC, datetime

CONTEXT_FIELDS = ("delivery_id", "event", "installation", "repo", "pr", "key")
_bound: ContextVar[tuple[tuple[str, object], ...]] = ContextVar("rapidvet_log_fields", default=())


def bind(**fields: object) -> None:
    """Put these fields (None ones left out) on every line logged from now on in the current
    task and the tasks it starts; they replace whatever was bound before."""
    _bound.set(tuple((name, value) for name, value in fields.items() if value is not None))


class BoundFields(logging.Filter):
    """Adds the bound fields to a record; a field given through `extra` wins."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name, value in _bound.get():
            if not hasattr(record, name):
                setattr(record, name, value)
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        line.update({k: getattr(record, k) for k in CONTEXT_FIELDS if hasattr(record, k)})
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


def setup_logging(level: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(BoundFields())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("aiohttp.access").setLevel("WARNING")
    # procrastinate reports every job start, end and deferral at INFO: rapidvet logs its own.
    logging.getLogger("procrastinate").setLevel(max(logging.WARNING, root.level))
