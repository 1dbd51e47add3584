"""The built wheel: one `rapidvet` package (no top-level `app`, `checks`, `workflows`) with
its data files, so an install never shadows other projects' modules."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.support import ROOT


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(out),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    (built,) = out.glob("rapidvet-*.whl")
    return built


def test_only_the_rapidvet_package_is_installed(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    tops = {name.split("/", 1)[0] for name in names}
    assert {t for t in tops if not t.endswith(".dist-info")} == {"rapidvet"}
    assert {n.split("/")[1] for n in names if n.startswith("rapidvet/") and n.count("/") > 1} >= {
        "app",
        "checks",
        "workflows",
    }
    assert not any(n.startswith(("app/", "checks/", "workflows/", "tests/")) for n in names)


def test_package_data_is_in_the_wheel(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "rapidvet/workflows/rapid_config.schema.json" in names
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    text = zipfile.ZipFile(wheel).read(entry_points).decode()
    assert "rapidvet = rapidvet.app.cli:console" in text


def test_every_source_module_and_page_asset_is_in_the_wheel(wheel):
    # A subpackage missing from pyproject's list works in the editable install and breaks
    # the wheel; compare the tree with the archive instead of trusting the list.
    names = set(zipfile.ZipFile(wheel).namelist())
    wanted = {
        f"rapidvet/{path.relative_to(ROOT).as_posix()}"
        for folder in ("app", "checks", "workflows")
        for path in (ROOT / folder).rglob("*")
        if path.is_file()
        and "__pycache__" not in path.parts
        and (path.suffix == ".py" or {"templates", "static"} & set(path.parts))
    }
    assert wanted - names == set()
