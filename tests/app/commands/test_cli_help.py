"""Every command's --help ends with what its exit codes mean, so scripts need not guess."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from rapidvet.app import commands
from rapidvet.app.cli import ALL_MODULES, COMMAND_MODULES, modules_needed
from tests.support.service import RAPIDVET

COMMANDS = [
    [],
    ["check"],
    ["rules"],
    ["report"],
    ["config"],
    ["config", "validate"],
    ["config", "match"],
    ["config", "schema"],
    ["explain"],
    ["serve"],
    ["worker"],
    ["db"],
    ["db", "migrate"],
    ["db", "status"],
    ["reconcile"],
    ["secret-key"],
]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "rapidvet")
def test_help_says_what_the_exit_codes_mean(command: list[str]) -> None:
    proc = subprocess.run([RAPIDVET, *command, "--help"], capture_output=True, text=True)
    assert proc.returncode == 0
    codes = " ".join(proc.stdout.split("exit codes:")[1].split())
    assert codes.startswith("0 ") and " 2 " in codes


# Import costs measured with -X importtime on the 2-core development machine: procrastinate
# 340 ms, psycopg 250, aiohttp 150, pebble 125, jinja2 80, jsonschema 60, importlib.metadata
# 50 (the installed metadata; --version reads a constant), concurrent.futures.process 50 (a
# process pool: large trees fork helpers instead). yaml (10) reads a rapid.yml or an unusual
# .gitbook.yaml, markdown_it (75) the pages the block scanner is not certain of.
HEAVY = (
    "jsonschema",
    "aiohttp",
    "procrastinate",
    "psycopg",
    "jinja2",
    "cryptography",
    "pebble",
    "importlib.metadata",
    "concurrent.futures.process",
    "rapidvet.workflows.notes",  # the RAPID review's notes (12 ms): only with a rapid.yml
)
# --version runs no command: none of the checks, workflows or command modules either.
NOT_FOR_VERSION = (
    *HEAVY,
    "rapidvet.checks",
    "rapidvet.workflows",
    *(f"rapidvet.app.commands.{module}" for module in ALL_MODULES),
    "markdown_it",
    "yaml",
)


# The console script's own code, run after asking for every loaded module's name at exit
# (-X importtime leaves out what importlib.import_module loads itself), the quick exit of a
# command that leaves at once (and of its forked helpers) included.
LOADED_AT_EXIT = """
import atexit, os, sys
def loaded():
    print(*sys.modules, sep="\\n", file=sys.stderr)
    sys.stderr.flush()
atexit.register(loaded)
def quick_exit(code, _exit=os._exit):
    loaded()
    _exit(code)
os._exit = quick_exit
sys.argv = sys.argv[1:]
exec(compile(open(sys.argv[0]).read(), sys.argv[0], "exec"), {"__name__": "__main__"})
"""


def imported_by(args: list[str], cwd: Path, code: int = 0) -> set[str]:
    """The modules the console script loads for `args`, in a fresh interpreter."""
    proc = subprocess.run(
        [sys.executable, "-c", LOADED_AT_EXIT, RAPIDVET, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == code, proc.stderr
    return set(proc.stderr.split())


def loaded(imported: set[str], heavy: tuple[str, ...]) -> set[str]:
    return {name for name in imported for h in heavy if name == h or name.startswith(h + ".")}


def test_check_without_a_config_imports_nothing_heavy(tmp_path) -> None:
    """pre-commit starts `rapidvet check` on every commit: it pays only for what it uses."""
    (tmp_path / "page.md").write_text("# A page\n")
    imported = imported_by(["check", "page.md"], tmp_path)
    assert "rapidvet.checks.page" in imported  # the list below is of real module names
    assert loaded(imported, HEAVY) == set()
    assert loaded(imported, tuple(f"rapidvet.app.commands.{m}" for m in ALL_MODULES)) == {
        "rapidvet.app.commands.check"
    }


def test_check_of_a_gitbook_handbook_reads_it_without_yaml_or_markdown_it(tmp_path) -> None:
    (tmp_path / ".gitbook.yaml").write_text("root: ./\nstructure:\n  summary: SUMMARY.md\n")
    (tmp_path / "SUMMARY.md").write_text("# Contents\n\n* [Plans](plans.md)\n")
    (tmp_path / "plans.md").write_text(
        "# Plans\n\n## FY27 Ops VPMOM\n\n| Period | FY27 |\n| --- | --- |\n\n### Vision\n\nCalm.\n"
    )
    imported = imported_by(["check", "."], tmp_path, code=1)
    assert "rapidvet.checks.gitbook_config" in imported
    assert loaded(imported, ("yaml", "markdown_it")) == set()


def test_version_imports_no_command(tmp_path) -> None:
    imported = imported_by(["--version"], tmp_path)
    assert "rapidvet.app.cli" in imported
    assert loaded(imported, NOT_FOR_VERSION) == set()


@pytest.mark.parametrize(
    ("argv", "modules"),
    [
        (["check", "."], ("check",)),
        (["worker", "--port", "1"], ("serve",)),
        (["secret-key"], ("secret_key",)),
        (["--version"], ()),
        (["-h"], ALL_MODULES),
        ([], ALL_MODULES),
        (["chek"], ALL_MODULES),  # argparse's error lists every command
    ],
)
def test_only_the_named_commands_module_is_imported(argv, modules) -> None:
    assert modules_needed(argv) == modules


def test_every_command_module_is_listed() -> None:
    """A new module in app/commands/ is reachable from the command line."""
    found = {p.stem for p in Path(commands.__file__).parent.glob("*.py")} - {"__init__"}
    assert set(ALL_MODULES) == found
    top_help = subprocess.run([RAPIDVET, "--help"], capture_output=True, text=True).stdout
    assert all(name in top_help for name in COMMAND_MODULES)
