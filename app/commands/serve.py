"""`rapidvet serve` (web + worker in one process) and `rapidvet worker` (a worker alone)."""

from __future__ import annotations

import argparse
import asyncio

from rapidvet.app.logs import setup_logging
from rapidvet.app.settings import load_settings


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    serve = sub.add_parser("serve", help="run the GitHub App: webhooks, worker, pages")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=3000)
    serve.add_argument("--no-worker", action="store_true", help="serve webhooks only")
    serve.set_defaults(func=_serve)
    worker = sub.add_parser("worker", help="run a worker alone (shares the database)")
    worker.add_argument("--host", default="127.0.0.1")
    worker.add_argument(
        "--port", type=int, help="also serve /healthz, /readyz and /metrics on this port"
    )
    worker.set_defaults(func=_worker)


def _serve(args: argparse.Namespace) -> int:
    # The service pulls in aiohttp and the GitHub client: only these two commands pay for it.
    from rapidvet.app.service import run

    settings = load_settings()
    setup_logging(settings.log_level)
    asyncio.run(run(settings, args.host, args.port, web_server=True, worker=not args.no_worker))
    return 0


def _worker(args: argparse.Namespace) -> int:
    from rapidvet.app.service import run

    settings = load_settings()
    setup_logging(settings.log_level)
    asyncio.run(run(settings, args.host, args.port, web_server=False, worker=True))
    return 0
