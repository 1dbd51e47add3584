"""The container image (deploy/Dockerfile), built with Debian's podman and proven against the
fake GitHub on loopback: one container on SQLite takes a pull request from opened to its merge
record; two on PostgreSQL share 200 deliveries and process each once.

Measurements (image size, seconds to ready, RSS) are printed (`-s`) and written to
`<basetemp>/test-output/container.txt` for the README.
"""

from __future__ import annotations

import itertools
import subprocess
import time
import uuid
from collections import Counter
from contextlib import ExitStack
from pathlib import Path

import pytest

import tests.support.e2e
from tests.app.jobs.test_durability import Run, assert_processed_once, environment
from tests.app.pulls.test_e2e import test_review_lifecycle_to_merge_record as review_lifecycle
from tests.app.web.test_service import get
from tests.support.container import (
    DATA,
    LIMITS,
    PODMAN,
    UID,
    Image,
    PodmanUnavailable,
    build_image,
    ensure_podman,
    error_lines,
    healthy,
    podman,
    running_container,
)
from tests.support.e2e import REPO, open_handbook
from tests.support.traffic import Sender, Traffic, job_states, play, rerun_jobs, scenario, settle

pytest_plugins = ("tests.support.postgres",)
pytestmark = pytest.mark.slow

SIZE_GOAL_MB = 200
# 10 pull requests from opened to merged or not, 26 of the 200 deliveries sent again.
DELIVERIES = {"pulls": 10, "middle": 12, "seed": 11, "redeliveries": 0.15}
# Secrets the App reads from the environment: never part of the image.
SECRET_SETTINGS = (
    "RAPIDVET_PRIVATE_KEY",
    "RAPIDVET_WEBHOOK_SECRET",
    "RAPIDVET_CLIENT_SECRET",
    "RAPIDVET_SECRET_KEY",
)
# Run as root inside the image: every file that holds a PEM private key, or is a .env file.
FIND_SECRETS = r"""
import os, re
key = re.compile(rb"-----BEGIN [A-Z ]*PRIVATE KEY-----\s+[A-Za-z0-9+/=]{40}")
for top in ("/opt", "/etc", "/var", "/root", "/home", "/usr/local", "/srv", "/tmp"):
    for folder, _, files in os.walk(top):
        for name in files:
            path = os.path.join(folder, name)
            try:
                with open(path, "rb") as file:
                    found = name == ".env" or key.search(file.read())
            except OSError:
                continue
            if found:
                print(path)
"""


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> Image:
    try:
        ensure_podman()
    except PodmanUnavailable as error:
        pytest.skip(str(error))
    log = tmp_path_factory.mktemp("image") / "build.log"
    built = build_image(log)
    print(f"image {built.tag}: {built.size_mb} MB, built in {built.build_seconds}s ({log})")
    return built


@pytest.fixture
def record(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest):
    """record(what, value): print a measurement and add it to test-output/container.txt."""
    output = tmp_path_factory.getbasetemp() / "test-output" / "container.txt"
    output.parent.mkdir(parents=True, exist_ok=True)

    def write(what: str, value: object) -> None:
        line = f"{what}: {value}"
        print(line)
        request.node.user_properties.append((what, value))
        with open(output, "a") as sink:
            sink.write(line + "\n")

    return write


def test_the_image_is_slim_runs_as_a_user_and_holds_no_secret(image: Image, record):
    config = image.config
    assert config["User"] == f"{UID}:{UID}"
    assert config["Entrypoint"] == ["rapidvet"]
    assert config["Cmd"] == ["serve", "--host", "0.0.0.0"]
    assert "3000/tcp" in config["ExposedPorts"]
    assert DATA in config["Volumes"]
    assert f"RAPIDVET_DATABASE_URL=sqlite:///{DATA}/rapidvet.db" in config["Env"]
    assert "/healthz" in " ".join(image.inspect["Healthcheck"]["Test"])
    assert not [v for v in config["Env"] if v.startswith(SECRET_SETTINGS)]
    history = podman("history", "--no-trunc", "--format", "{{.CreatedBy}}", image.tag)
    assert "PRIVATE KEY" not in history and "WEBHOOK_SECRET" not in history
    found = podman(
        "run", "--rm", *LIMITS, "--network=none", "--user", "0", "--entrypoint", "python3",
        image.tag, "-c", FIND_SECRETS,
    )  # fmt: skip
    assert found.split() == []
    version = podman("run", "--rm", *LIMITS, "--network=none", image.tag, "--version").strip()
    record("image", f"{image.tag} ({version}): {image.size_mb} MB")
    assert image.size_mb < SIZE_GOAL_MB


def test_the_default_command_serves_port_3000_from_its_volume(image: Image):
    """As a user runs it: no arguments, no settings (the set-up page), a new volume that the
    non-root user can write; in a network of its own, so port 3000 is its own too."""
    name = f"rapidvet-test-{uuid.uuid4().hex[:8]}"
    podman("run", "--detach", "--rm", "--name", name, *LIMITS, "--network=none", image.tag)
    try:
        deadline = time.monotonic() + 60
        while not healthy(name):
            assert time.monotonic() < deadline, podman("logs", name)
            time.sleep(0.5)
        listing = podman("exec", name, "ls", "-l", DATA)
        assert "rapidvet.db" in listing and "rapidvet rapidvet" in listing, listing
    finally:
        subprocess.run([*PODMAN, "rm", "--force", name], capture_output=True, check=False)


def test_one_container_on_sqlite_from_opened_to_the_merge_record(
    image: Image, fake_github, tmp_path: Path, monkeypatch, record
):
    # The end-to-end harness, with the App in the container instead of a process.
    monkeypatch.setattr(tests.support.e2e, "running_service", running_container)
    with ExitStack() as stack:
        handbook = open_handbook(stack, fake_github, tmp_path)
        server = handbook.server
        assert get(server.url + "/readyz") == (200, b'{"ready": true}')
        assert server.healthy(), "the image's HEALTHCHECK failed"
        idle = server.rss_mib()
        review_lifecycle(handbook, tmp_path)
        # The SQLite file is in the volume; every delivery stored there was done, in there.
        states = job_states(f"sqlite:///{server.database}")
        assert set(states.values()) == {"done"}
        assert server.jobs_done() == len(states)
        busy = server.rss_mib()
        record("sqlite: seconds from podman run to /readyz", server.ready_seconds)
        record("sqlite: RSS of rapidvet serve, MiB (ready, after the pull request)", (idle, busy))
        assert error_lines(server) == []


def test_two_containers_on_postgresql_process_200_deliveries_once(
    image: Image, fake_github, tmp_path: Path, postgres_url: str, record
):
    env = environment(fake_github, tmp_path, postgres_url)
    plan = scenario(**DELIVERIES)
    assert len(plan.steps) == 200
    with ExitStack() as stack:
        # The same settings; each serves webhooks and runs a worker on the shared queue.
        containers = [
            stack.enter_context(running_container(env, tmp_path / name)) for name in ("a", "b")
        ]
        for container in containers:
            record(f"postgresql {container.name}: seconds to ready", container.ready_seconds)
        urls = itertools.cycle([c.url for c in containers])  # every try goes to the other one
        traffic = Traffic(fake_github, REPO)
        sender = Sender(lambda: next(urls))
        started = time.monotonic()
        play(traffic, plan, sender)
        settle(postgres_url, 300, lambda: "\n".join(c.logs()[-3000:] for c in containers))
        seconds = time.monotonic() - started
        run = Run(
            traffic,
            sender,
            Counter(),
            [],
            seconds,
            rerun_jobs(postgres_url),
            error_lines(*containers),
        )
        assert_processed_once(fake_github, run, plan, postgres_url)
        done = {c.name: c.jobs_done() for c in containers}
        # Each stored delivery's job finished once, on one container or the other.
        assert sum(done.values()) == len(sender.accepted), done
        assert all(done.values()), f"one container did all the work: {done}"
        record(
            "postgresql: two containers",
            f"{sender.sent} deliveries sent ({len(sender.accepted)} GUIDs, the rest sent again),"
            f" jobs done per container {sorted(done.values())}, {run.reruns} tried again,"
            f" {seconds:.1f}s",
        )
        record("postgresql: RSS per container, MiB", [c.rss_mib() for c in containers])
        assert run.errors == []
