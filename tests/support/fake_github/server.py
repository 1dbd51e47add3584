"""Running the fake GitHub: in this process on a background thread, or as a separate process.

Both give the same handle: `.url` (the REST base URL, for `RAPIDVET_GITHUB_URL`, and the web
host's too, as rapidvet derives it from that), `.call(op, **arguments)` and every control
operation as a method (`fake.create_repo(...)`), plus a few helpers. Traffic stays on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any, Self

from aiohttp import web

from tests.support import ROOT
from tests.support.fake_github.app import CONTROL_PREFIX, create_app
from tests.support.fake_github.control import OPERATIONS, Control, ControlError
from tests.support.fake_github.keys import CONTROL
from tests.support.fake_github.state import State, generate_key_pair

HOST = "127.0.0.1"
CALL_TIMEOUT = 60  # seconds for one control operation


@dataclass(frozen=True)
class AppCredentials:
    """What the App under test needs to talk to the fake: its id, private key, webhook secret."""

    app_id: int
    private_key: str  # PEM
    webhook_secret: str


class ControlClient:
    """The helpers shared by both ways of running the fake; subclasses provide `call`."""

    url: str

    def call(self, operation: str, /, **arguments: Any) -> Any:
        raise NotImplementedError

    def __getattr__(self, name: str) -> Any:
        """Control operations as methods, with `Control`'s signatures (positional or keyword)."""
        if name not in OPERATIONS:
            raise AttributeError(name)
        method = getattr(Control, name)
        signature = inspect.signature(method)

        def operation(*args: Any, **kwargs: Any) -> Any:
            arguments: dict[str, Any] = {}
            for key, value in signature.bind(None, *args, **kwargs).arguments.items():
                kind = signature.parameters[key].kind
                if kind is inspect.Parameter.VAR_KEYWORD:
                    arguments |= value
                elif key != "self":
                    arguments[key] = value
            return self.call(name, **arguments)

        operation.__doc__ = method.__doc__
        return operation

    def setup_app(
        self,
        *,
        app_id: int = 4242,
        webhook_url: str | None = None,
        webhook_secret: str = "It's a Secret to Everybody",
        slug: str = "rapidvet",
    ) -> AppCredentials:
        """Register an App with a new key pair; return what the App needs to authenticate."""
        private, public = generate_key_pair()
        self.call(
            "register_app",
            app_id=app_id,
            public_key=public,
            slug=slug,
            webhook_url=webhook_url,
            webhook_secret=webhook_secret,
        )
        return AppCredentials(app_id, private, webhook_secret)

    def assert_no_failures(self) -> None:
        """Fail if any request broke GitHub's description, or the fake misbehaved."""
        failures = self.call("failures")
        if failures:
            lines = [
                f"{f['kind']}: {f['method']} {f['path']} -> {f['status']} {f['message']}: "
                + "; ".join(f["errors"])
                for f in failures
            ]
            raise AssertionError("the fake GitHub recorded failures:\n" + "\n".join(lines))


class FakeGitHub(ControlClient):
    """The fake served by an event loop on a background thread of this process.

    Control operations run on that loop, so they are safe to call from the test's thread (or
    from any other loop). `state` can be read directly while no request is in flight.
    """

    def __init__(self, state: State | None = None, *, validate_responses: bool = True) -> None:
        self.state = state or State()
        self.url = ""
        self._validate_responses = validate_responses
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._runner: web.AppRunner | None = None

    def _run(self, coroutine: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(CALL_TIMEOUT)

    def start(self) -> Self:
        self._thread.start()
        app = create_app(self.state, validate_responses=self._validate_responses)
        self._runner = web.AppRunner(app, access_log=None)
        port = self._run(listen(self._runner, 0))
        self.url = f"http://{HOST}:{port}"
        self.state.api_url = self.url
        return self

    def stop(self) -> None:
        if self._runner is not None:
            self._run(self._runner.cleanup())
            self._runner = None
        if self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join()
        self._loop.close()

    def call(self, operation: str, /, **arguments: Any) -> Any:
        assert self._runner is not None, "start() the fake first"
        control = self._runner.app[CONTROL]
        return self._run(control.call(operation, arguments))

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


async def listen(runner: web.AppRunner, port: int) -> int:
    """Serve `runner` on 127.0.0.1:`port` (0: any free port); return the port."""
    await runner.setup()
    site = web.TCPSite(runner, HOST, port)
    await site.start()
    return int(runner.addresses[0][1])


class FakeGitHubProcess(ControlClient):
    """The fake as a separate process (`python -m tests.support.fake_github`), controlled over
    HTTP."""

    def __init__(self, *arguments: str) -> None:
        self._arguments = arguments
        self._process: subprocess.Popen[str] | None = None
        self.url = ""

    def start(self) -> Self:
        self._process = subprocess.Popen(
            [sys.executable, "-m", "tests.support.fake_github", "--port", "0", *self._arguments],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self._process.stdout is not None
        line = self._process.stdout.readline()  # the port, once it listens
        if not line.strip().isdigit():
            self._process.kill()
            raise RuntimeError(f"the fake GitHub did not start (it printed {line!r})")
        self.url = f"http://{HOST}:{int(line)}"
        return self

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.wait(timeout=10)
            self._process = None

    def call(self, operation: str, /, **arguments: Any) -> Any:
        request = urllib.request.Request(
            f"{self.url}{CONTROL_PREFIX}{operation}",
            data=json.dumps(arguments).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=CALL_TIMEOUT) as response:
                return json.load(response)["result"]
        except urllib.error.HTTPError as error:
            raise ControlError(json.load(error).get("error", str(error))) from error

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
