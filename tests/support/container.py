"""Container test rig: rapidvet's image (deploy/Dockerfile) built and run with Debian's podman.

No Docker daemon runs here and no image registry can be reached, so `ensure_podman()`
installs Debian's podman, runc and debootstrap with apt-get when they are missing, and
`build_image()` runs deploy/podman/build-image.sh, which makes the slim Debian base itself
(once: podman keeps it) and builds the image on it. An unchanged tree rebuilds from podman's
layer cache in seconds.

`running_container(env, tmp, *args)` is `tests.support.service.running_service` in a container: the
same arguments and the same `Server` handle, so the end-to-end harness (tests/support/e2e.py) drives
a container as it drives a process. Containers share the host's network (traffic stays on
loopback, where the fake GitHub and PostgreSQL listen) and get the App's settings from the
environment only: `-e NAME` takes each value from podman's own environment, so no key
appears on a command line, and none is in the image.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from tests.app.web.test_service import get
from tests.support import ROOT
from tests.support.browser import apt_get
from tests.support.service import LISTENING, Server, stop

BUILD_SCRIPT = ROOT / "deploy" / "podman" / "build-image.sh"
IMAGE = "localhost/rapidvet:test"
PACKAGES = ("podman", "runc", "debootstrap")
# The runtime and the limits this machine grants containers (podman's default limits are refused).
PODMAN = ("podman", "--runtime", "runc")
LIMITS = ("--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024")
UID = 10001  # the image's user, who must own a bind-mounted data directory
DATA = "/var/lib/rapidvet"  # the image's volume, where its SQLite file lives
_LOCK = Path(tempfile.gettempdir()) / "rapidvet-container-build.lock"


class PodmanUnavailable(RuntimeError):
    """podman cannot be installed or cannot build here (tests skip on this)."""


def ensure_podman() -> None:
    """Install Debian's podman, runc and debootstrap (once) when any is missing."""
    if os.geteuid() != 0:
        # debootstrap, and podman's storage at /var/lib/containers, need root.
        raise PodmanUnavailable("building the image needs root (debootstrap, podman storage)")
    missing = [name for name in PACKAGES if shutil.which(name) is None]
    if not missing:
        return
    if shutil.which("apt-get") is None:
        raise PodmanUnavailable(f"{', '.join(missing)} missing and no apt-get to install them")
    with open(_LOCK, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another pytest-xdist worker may be installing
        missing = [name for name in PACKAGES if shutil.which(name) is None]
        if missing:
            apt_get("update")
            apt_get("install", "-y", *missing)


def podman(*args: str, timeout: float = 60, **options: Any) -> str:
    done = subprocess.run(
        [*PODMAN, *args], capture_output=True, text=True, timeout=timeout, check=False, **options
    )
    if done.returncode != 0:
        raise RuntimeError(f"podman {' '.join(args)} exited {done.returncode}: {done.stderr}")
    return done.stdout


@dataclass(frozen=True)
class Image:
    tag: str
    id: str
    size_mb: float  # podman's size of the image, in 10^6 bytes as podman and Docker report
    build_seconds: float  # this build: seconds when podman's cache held every layer
    inspect: dict[str, Any]

    @property
    def config(self) -> dict[str, Any]:
        return dict(self.inspect["Config"])


def build_image(log: Path, tag: str = IMAGE) -> Image:
    """Build deploy/Dockerfile with deploy/podman/build-image.sh; its output goes to `log`."""
    started = time.monotonic()
    with open(_LOCK, "w") as lock, open(log, "w") as sink:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one build at a time; the second finds the cache
        built = subprocess.run(
            ["bash", str(BUILD_SCRIPT), tag], stdout=sink, stderr=subprocess.STDOUT, check=False
        )
        if built.returncode != 0:
            tail = "\n".join(log.read_text().splitlines()[-30:])
            raise RuntimeError(f"{BUILD_SCRIPT} exited {built.returncode}:\n{tail}")
        (inspect,) = json.loads(podman("image", "inspect", tag))
    return Image(
        tag,
        inspect["Id"],
        round(inspect["Size"] / 1e6, 1),
        round(time.monotonic() - started, 1),
        inspect,
    )


def healthy(name: str) -> bool:
    """Run the image's HEALTHCHECK in container `name` once (podman's timers need systemd,
    which does not run here)."""
    done = subprocess.run([*PODMAN, "healthcheck", "run", name], capture_output=True, check=False)
    return done.returncode == 0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Container(Server):
    """A `Server` whose process is `podman run`; `database` is the SQLite file on the host
    (through the bind-mounted volume) or, on PostgreSQL, a path that does not exist."""

    name: str = ""
    ready_seconds: float = 0.0  # from `podman run` until /readyz answered 200

    def pid(self) -> int:
        """The container's first process (rapidvet) as the host sees it."""
        return int(podman("inspect", "--format", "{{.State.Pid}}", self.name).strip())

    def rss_mib(self) -> float:
        status = Path(f"/proc/{self.pid()}/status").read_text()
        (line,) = [line for line in status.splitlines() if line.startswith("VmRSS:")]
        return round(int(line.split()[1]) / 1024, 1)

    def healthy(self) -> bool:
        return healthy(self.name)

    def jobs_done(self) -> int:
        """Jobs this container's worker finished, from its /metrics."""
        status, body = get(self.url + "/metrics")
        assert status == 200, status
        return int(
            sum(
                sample.value
                for family in text_string_to_metric_families(body.decode())
                for sample in family.samples
                if sample.name == "jobs_total" and sample.labels.get("outcome") == "done"
            )
        )


def _container_env(env: dict[str, str], tmp: Path) -> tuple[list[str], list[str], Path]:
    """podman options passing the App's settings, and the SQLite file on the host: a SQLite
    database moves into the image's volume, bind-mounted from `tmp/data`."""
    settings = {k: v for k, v in env.items() if k.startswith("RAPIDVET_")}
    mounts: list[str] = []
    database = tmp / "postgresql"  # never a file: the database is elsewhere
    if settings.get("RAPIDVET_DATABASE_URL", "sqlite:///").startswith("sqlite:///"):
        data = tmp / "data"
        data.mkdir(exist_ok=True)
        os.chown(data, UID, UID)
        mounts = ["-v", f"{data}:{DATA}"]
        database = data / "rapidvet.db"
        del settings["RAPIDVET_DATABASE_URL"]  # the image's own default, in its volume
    names = [option for name in sorted(settings) for option in ("-e", name)]
    return names, mounts, database


def _wait_ready(
    proc: subprocess.Popen[str], log: Path, started: float, timeout: float
) -> tuple[str, float]:
    """The URL the container listens on, and the seconds from start until /readyz said 200."""
    deadline = started + timeout
    url = None
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"container exited {proc.returncode}: {log.read_text()[-3000:]}")
        if url is None and (found := LISTENING.search(log.read_text())):
            url = f"http://{found.group(1)}:{found.group(2)}"
        if url is not None:
            try:
                if get(url + "/readyz")[0] == 200:
                    return url, time.monotonic() - started
            except OSError:
                pass
        time.sleep(0.05)
    raise RuntimeError(f"container not ready after {timeout}s: {log.read_text()[-3000:]}")


@contextmanager
def running_container(
    env: dict[str, str], tmp: Path, *args: str, image: str = IMAGE, timeout: float = 90
) -> Iterator[Container]:
    """`rapidvet serve *args` in a container of `image`, on a free loopback port, with the
    App's settings of `env`; yields once /readyz answers, stops it (SIGTERM) afterwards."""
    tmp.mkdir(parents=True, exist_ok=True)
    name = f"rapidvet-test-{uuid.uuid4().hex[:8]}"
    names, mounts, database = _container_env(env, tmp)
    log = tmp / f"{name}.log"
    command = [
        *PODMAN,
        "run",
        "--rm",
        "--name",
        name,
        "--hostname",
        name,  # worker names in the queue are host:pid, and every container's pid is 1
        "--network=host",
        *LIMITS,
        *names,
        *mounts,
        image,
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(free_port()),
        *args,
    ]
    started = time.monotonic()
    with open(log, "w") as sink:
        # podman passes SIGTERM on to rapidvet (--sig-proxy), which stops gracefully.
        proc = subprocess.Popen(command, env=env, stdout=sink, stderr=subprocess.STDOUT, text=True)
    try:
        url, ready = _wait_ready(proc, log, started, timeout)
        yield Container(url, proc, database, log, name=name, ready_seconds=round(ready, 2))
    finally:
        stop(proc, 30, kill=lambda: subprocess.run([*PODMAN, "kill", name], capture_output=True))
        subprocess.run([*PODMAN, "rm", "--force", name], capture_output=True, check=False)


def error_lines(*containers: Container) -> list[str]:
    """rapidvet's log lines at level error, from every container."""
    return [
        line
        for container in containers
        for line in container.logs().splitlines()
        if '"level": "error"' in line
    ]
