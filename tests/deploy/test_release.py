"""The release: sdist and wheel as `python -m build` makes them, `twine check` on both, and the
wheel installed into a fresh virtualenv and run from a directory outside the checkout, so that
everything the commands need (the JSON Schema, templates, stylesheet, migrations) comes from the
wheel and its dependencies, never from the source tree. tests/test_packaging.py checks what the
wheel holds; this checks that it works on its own.

The version is pyproject.toml's: `rapidvet --version` prints rapidvet.app.__version__ (a constant,
so start-up does not read the installed metadata), which must equal it, and CHANGELOG.md's newest
release must name it.

The fresh virtualenv gets the wheel's dependencies from the package index (pip's configured
index), which also proves that pyproject lists every dependency the commands import.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest

import tests.support.service
from rapidvet.app.cli import main
from tests.app.web.test_service import get
from tests.support import ROOT
from tests.support.service import RAPIDVET, running_service, service_env

pytest_plugins = ("tests.support.postgres",)

VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
# Keep a Changelog: "## [Unreleased]", then "## [1.2.3] - 2026-12-02", newest first.
RELEASE_HEADING = re.compile(r"^## \[([^\]]+)\](?: - (\S+))?[ \t]*$", re.MULTILINE)
TODAY = "2026-12-01"  # the checks' clock, fixed so that both installs judge staleness alike
UNREACHABLE_GITHUB = "http://127.0.0.1:9"  # /readyz and the pages below never ask GitHub


def changelog_releases() -> list[tuple[str, str | None]]:
    """(version, date) of every `## [...]` heading of CHANGELOG.md, in file order."""
    text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    return [(found.group(1), found.group(2)) for found in RELEASE_HEADING.finditer(text)]


def version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def test_the_changelog_opens_with_unreleased_then_the_pyproject_version():
    releases = changelog_releases()
    assert releases[0] == ("Unreleased", None)
    newest, released_on = releases[1]
    assert newest == VERSION, f"CHANGELOG.md's newest release is {newest}, pyproject says {VERSION}"
    assert released_on is not None and date.fromisoformat(released_on) <= date.today()
    versions = [version for version, _ in releases[1:]]
    assert versions == sorted(versions, key=version_key, reverse=True)
    assert len(set(versions)) == len(versions)


def test_the_version_is_pyprojects_and_written_once(capsys):
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out == f"rapidvet {VERSION}\n", "bump app/__init__.py too"
    sources = [
        p for folder in ("app", "checks", "workflows") for p in (ROOT / folder).rglob("*.py")
    ]
    literal = re.compile(rf"__version__ = |[\"']{re.escape(VERSION)}[\"']|importlib.metadata")
    written = [p.relative_to(ROOT).as_posix() for p in sources if literal.search(p.read_text())]
    assert written == ["app/__init__.py"], "the version has one constant, rapidvet.app's"


# -- The built release ------------------------------------------------------------------------


@dataclass(frozen=True)
class Release:
    sdist: Path
    wheel: Path


def release_files() -> list[str]:
    """What a clean checkout of this tree holds: tracked and new files that git does not ignore,
    less those deleted meanwhile."""
    listed = subprocess.run(
        ["git", "-C", str(ROOT), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        capture_output=True,
        text=True,
    )
    if listed.returncode:
        pytest.skip(f"the release is built from a git checkout: {listed.stderr.strip()}")
    return [name for name in listed.stdout.split("\0") if name and (ROOT / name).is_file()]


def made_once(
    tmp_path_factory: pytest.TempPathFactory, name: str, make: Callable[[Path], None]
) -> Path:
    """`make(directory)` done by one xdist worker of this session, the others waiting for it and
    reusing the result: the build and the install take a minute of CPU each time."""
    base = tmp_path_factory.getbasetemp()
    # Under xdist, basetemp's parent is this session's own and every worker's basetemp is in it.
    directory = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / name
    directory.mkdir(exist_ok=True)
    with open(directory.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (directory / ".done").exists():
            make(directory)
            (directory / ".done").touch()
    return directory


def build(out: Path) -> None:
    # Built from a copy: the checkout's own build/ and egg-info stay untouched, so this cannot
    # race tests/test_packaging.py's build, and stray untracked files cannot slip in.
    tree = out / "tree"
    for name in release_files():
        (tree / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, tree / name)
    # No flags: the sdist first, then the wheel from the unpacked sdist, so the sdist must hold
    # everything a build needs. --no-isolation takes setuptools from this venv (offline).
    built = subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out / "dist"), str(tree)],
        capture_output=True,
        text=True,
    )
    assert built.returncode == 0, built.stdout + built.stderr


@pytest.fixture(scope="module")
def release(tmp_path_factory) -> Release:
    dist = made_once(tmp_path_factory, "release", build) / "dist"
    (sdist,) = dist.glob("*.tar.gz")
    (wheel,) = dist.glob("*.whl")
    return Release(sdist, wheel)


def clean_env(**extra: str) -> dict[str, str]:
    """This environment without rapidvet's settings or a PYTHONPATH into the checkout."""
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("RAPIDVET_") and k != "PYTHONPATH"
    }
    return env | extra


@pytest.fixture(scope="module")
def installed(release, tmp_path_factory) -> Path:
    """The bin directory of a new virtualenv holding the wheel and its dependencies only."""

    def install(home: Path) -> None:
        subprocess.run([sys.executable, "-m", "venv", str(home)], check=True)
        pip = subprocess.run(
            [home / "bin" / "python", "-m", "pip", "install", "-q", str(release.wheel)],
            capture_output=True,
            text=True,
            env=clean_env(PIP_DISABLE_PIP_VERSION_CHECK="1"),
        )
        assert pip.returncode == 0, pip.stdout + pip.stderr

    return made_once(tmp_path_factory, "venv", install) / "bin"


@pytest.fixture
def outside(tmp_path) -> Path:
    assert not tmp_path.resolve().is_relative_to(ROOT)
    return tmp_path


def run(executable: Path | str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(executable), *args], cwd=cwd, env=clean_env(), capture_output=True, text=True
    )


@pytest.mark.slow
def test_the_artefacts_carry_the_version_and_pass_twine_check(release):
    assert release.sdist.name == f"rapidvet-{VERSION}.tar.gz"
    assert release.wheel.name == f"rapidvet-{VERSION}-py3-none-any.whl"
    checked = subprocess.run(
        [
            sys.executable,
            "-m",
            "twine",
            "check",
            "--strict",
            str(release.sdist),
            str(release.wheel),
        ],
        capture_output=True,
        text=True,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.count("PASSED") == 2, checked.stdout


@pytest.mark.slow
def test_the_fresh_venv_runs_the_wheel_not_the_checkout(installed, outside):
    where = run(
        installed / "python", "-c", "import rapidvet.app; print(rapidvet.app.__file__)", cwd=outside
    )
    assert where.returncode == 0, where.stderr
    assert Path(where.stdout.strip()).is_relative_to(installed.parent), where.stdout
    version = run(installed / "rapidvet", "--version", cwd=outside)
    assert (version.returncode, version.stdout) == (0, f"rapidvet {VERSION}\n")


def assert_checks_like_the_checkout(installed: Path, handbook: Path, cwd: Path) -> dict:
    """`rapidvet check` from the wheel finds what the checkout's finds, with the same exit
    code (1: the handbooks hold error findings); the wheel's JSON report."""
    args = ("check", str(handbook), "--format", "json", "--today", TODAY)
    wheel, checkout = run(installed / "rapidvet", *args, cwd=cwd), run(RAPIDVET, *args, cwd=cwd)
    assert wheel.returncode in (0, 1), wheel.stderr
    assert (wheel.returncode, wheel.stdout) == (checkout.returncode, checkout.stdout)
    return dict(json.loads(wheel.stdout))


@pytest.mark.slow
def test_check_on_the_example_handbook(installed, outside):
    report = assert_checks_like_the_checkout(installed, ROOT / "examples" / "handbook", outside)
    rules = {finding["rule"] for file in report["files"] for finding in file["findings"]}
    assert {"section-missing", "placeholder", "vision-one-sentence"} <= rules


@pytest.mark.slow
def test_check_on_the_corpus_handbook(installed, outside, corpus):
    head = corpus / "handbook-head"
    if not head.is_dir():
        pytest.skip(f"no {head} in the corpus")
    report = assert_checks_like_the_checkout(installed, head, outside)
    assert len(report["files"]) > 300
    assert sum(len(file["blocks"]) for file in report["files"]) > 0


@pytest.mark.slow
def test_config_commands_use_the_wheels_schema(installed, outside):
    schema = run(installed / "rapidvet", "config", "schema", cwd=outside)
    shipped = json.loads((ROOT / "workflows" / "rapid_config.schema.json").read_text())
    assert schema.returncode == 0 and json.loads(schema.stdout) == shipped
    example = ROOT / "examples" / "handbook" / ".github" / "rapid.yml"
    assert (
        run(installed / "rapidvet", "config", "validate", str(example), cwd=outside).returncode == 0
    )
    broken = outside / "rapid.yml"
    broken.write_text("version: 1\nmerge: {record: sometimes}\n")
    refused = run(installed / "rapidvet", "config", "validate", str(broken), cwd=outside)
    assert refused.returncode == 1 and "record" in refused.stdout + refused.stderr


@pytest.mark.slow
def test_serve_from_the_wheel_is_ready_and_serves_its_pages(installed, outside, monkeypatch):
    monkeypatch.setattr(tests.support.service, "RAPIDVET", str(installed / "rapidvet"))
    with running_service(service_env(outside, UNREACHABLE_GITHUB), outside) as server:
        status, ready = get(server.url + "/readyz")
        assert (status, json.loads(ready)) == (200, {"ready": True})
        css = get(server.url + "/static/rapidvet.css")
        assert css == (200, (ROOT / "app" / "web" / "static" / "rapidvet.css").read_bytes())
        status, page = get(server.url + "/no/such/page")  # error.html, from the wheel
        assert status == 404 and b"<title>No such page" in page, page[:500]
        status, metrics = get(server.url + "/metrics")
        assert status == 200 and b"\ndead_jobs " in metrics
    assert server.process.returncode == 0, server.logs()  # SIGTERM stops it cleanly


@pytest.mark.slow
def test_db_migrate_on_postgresql_from_the_wheel(installed, outside, postgres_url):
    # procrastinate's SQL migrations are package data of a dependency, rapidvet's are code:
    # both must reach an install that has no checkout to read them from.
    env = clean_env(RAPIDVET_DATABASE_URL=postgres_url)

    def db(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [installed / "rapidvet", "db", *args, "--format", "json"],
            cwd=outside,
            env=env,
            capture_output=True,
            text=True,
        )

    before = db("status")
    assert before.returncode == 1 and json.loads(before.stdout)["current"] is False, before.stdout
    migrated = db("migrate")
    assert migrated.returncode == 0, migrated.stdout + migrated.stderr
    after = json.loads(db("status").stdout)
    assert after["current"] is True
    assert {c["name"] for c in after["components"]} == {"rapidvet", "procrastinate"}
