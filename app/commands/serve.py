"""`rapidvet serve` (web + worker in one process) and `rapidvet worker` (a worker alone)."""

from __future__ import annotations

import argparse
import errno

from rapidvet.app.commands import exit_codes
from rapidvet.app.errors import UsageError

# Why a port could not be listened on, for the errors a person fixes by choosing again.
_LISTEN_ERRORS = {
    errno.EADDRINUSE: "port {port} on {host} is already in use",
    errno.EADDRNOTAVAIL: "{host} is not an address of this machine",
}
_EXIT_CODES = exit_codes(
    "stopped by SIGTERM or SIGINT", usage="bad settings, or the host or port cannot be used"
)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    serve = sub.add_parser(
        "serve", help="run the GitHub App: webhooks, worker, pages", **_EXIT_CODES
    )
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=3000)
    serve.add_argument("--no-worker", action="store_true", help="serve webhooks only")
    serve.set_defaults(func=_serve)
    worker = sub.add_parser(
        "worker", help="run a worker alone (shares the database)", **_EXIT_CODES
    )
    worker.add_argument("--host", default="127.0.0.1")
    worker.add_argument(
        "--port", type=int, help="also serve /healthz, /readyz and /metrics on this port"
    )
    worker.set_defaults(func=_worker)


def _serve(args: argparse.Namespace) -> int:
    return _run(args, web_server=True, worker=not args.no_worker)


def _worker(args: argparse.Namespace) -> int:
    return _run(args, web_server=False, worker=True)


def _run(args: argparse.Namespace, *, web_server: bool, worker: bool) -> int:
    # The service pulls in aiohttp, the GitHub client and cryptography: only these two
    # commands pay for it.
    import asyncio

    from rapidvet.app.logs import setup_logging
    from rapidvet.app.service import run
    from rapidvet.app.settings import load_settings

    settings = load_settings()
    setup_logging(settings.log_level)
    try:
        asyncio.run(run(settings, args.host, args.port, web_server=web_server, worker=worker))
    except OSError as err:
        message = _LISTEN_ERRORS.get(err.errno or 0)
        if message is None:
            raise
        raise UsageError(message.format(host=args.host, port=args.port)) from None
    return 0
