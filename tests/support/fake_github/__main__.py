"""Run the fake GitHub as a process:
`python -m tests.support.fake_github --port 0 [--state-file F]`.

It prints the port it listens on (one line) once ready, then serves until terminated. The
state file is a JSON list of `[operation, {arguments}]` control calls replayed at start.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
from pathlib import Path

from aiohttp import web

from tests.support.fake_github.app import create_app
from tests.support.fake_github.keys import CONTROL
from tests.support.fake_github.server import HOST, listen
from tests.support.fake_github.state import State


async def serve(port: int, state_file: Path | None, validate_responses: bool) -> None:
    state = State()
    app = create_app(state, validate_responses=validate_responses)
    runner = web.AppRunner(app, access_log=None)
    bound = await listen(runner, port)
    state.api_url = f"http://{HOST}:{bound}"
    for operation, arguments in json.loads(state_file.read_text()) if state_file else []:
        await app[CONTROL].call(operation, arguments)
    print(bound, flush=True)
    stop = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(signum, stop.set)
    await stop.wait()
    await runner.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m tests.support.fake_github", description=__doc__
    )
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--state-file", type=Path, help="JSON list of [operation, arguments]")
    parser.add_argument(
        "--no-response-validation",
        action="store_true",
        help="do not check the fake's own answers against GitHub's description",
    )
    arguments = parser.parse_args()
    asyncio.run(serve(arguments.port, arguments.state_file, not arguments.no_response_validation))


if __name__ == "__main__":
    main()
