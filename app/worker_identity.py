"""The name a worker process goes by, `host:pid`, whichever backend it works for: SQLite's
leases and procrastinate's worker rows carry it, so a log or a stuck job names its process,
and the SQLite store takes back at once the leases of a process gone from its own host."""

from __future__ import annotations

import os
import socket


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"
