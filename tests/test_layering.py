"""The layers import downwards only (docs/architecture.md#layers): `checks` neither `workflows`
nor `app`, `workflows` never `app`; within `app`, the seams below everything else (`github/`,
`store/`) import none of the packages that use them, `handbook/` never `pulls/`, and only the
command line (`app/cli.py`, `app/commands/`) imports `rapidvet.app.commands`. Every import
counts, those inside functions and `TYPE_CHECKING` blocks and `import_module` calls with a
literal name included."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import ROOT

LAYERS = ("checks", "workflows", "app")  # folders that install as rapidvet.<folder>
COMMANDS = "rapidvet.app.commands"
COMMAND_LINE = (COMMANDS, "rapidvet.app.cli")
SEAMS = ("rapidvet.app.github", "rapidvet.app.store")
ABOVE_THE_SEAMS = tuple(
    f"rapidvet.app.{name}"
    for name in ("handbook", "handlers", "jobs", "pulls", "service", "web", "checkout", "commands")
)


def within(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def forbidden(importer: str, imported: str) -> str | None:
    """Why `importer` may not import `imported`, or None when it may."""
    if within(importer, "rapidvet.checks") and within(imported, "rapidvet.workflows"):
        return "checks is pure and sits below workflows"
    if within(importer, "rapidvet.checks") and within(imported, "rapidvet.app"):
        return "checks is pure and sits below app"
    if within(importer, "rapidvet.workflows") and within(imported, "rapidvet.app"):
        return "workflows is pure and sits below app"
    seam = any(within(importer, s) for s in SEAMS)
    if seam and any(within(imported, a) for a in ABOVE_THE_SEAMS):
        return "github/ and store/ sit below the packages that use them"
    if within(importer, "rapidvet.app.handbook") and within(imported, "rapidvet.app.pulls"):
        return "handbook/ sits below pulls/, which records merges into it"
    if within(imported, COMMANDS) and not any(within(importer, c) for c in COMMAND_LINE):
        return "only the command line imports the commands"
    return None


def modules(root: Path) -> Iterator[tuple[str, Path]]:
    """(dotted name, file) of every module of the layers under `root`."""
    for layer in LAYERS:
        for path in sorted((root / layer).rglob("*.py")):
            parts = path.relative_to(root).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            yield ".".join(("rapidvet", *parts)), path


def _literal_prefix(node: ast.expr) -> str | None:
    """The text a module name passed to import_module starts with, when the code spells it."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr) and node.values:
        first = node.values[0]
        if isinstance(first, ast.Constant) and isinstance(first.value, str):
            return first.value.rstrip(".") or None
    return None


def _base(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    """The absolute module a `from ... import` names, relative imports resolved."""
    if not node.level:
        return node.module or ""
    package = module.split(".") if is_package else module.split(".")[:-1]
    anchor = package[: len(package) - node.level + 1]
    return ".".join([*anchor, *([node.module] if node.module else [])])


def imports(module: str, path: Path) -> Iterator[tuple[int, str]]:
    """(line, imported module) for every import anywhere in the file: `from a import b` counts
    as importing `a.b`, since b may be a module."""
    is_package = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            yield from ((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = _base(module, is_package, node)
            yield from ((node.lineno, f"{base}.{alias.name}") for alias in node.names)
        elif isinstance(node, ast.Call) and node.args:
            called = node.func
            name = called.attr if isinstance(called, ast.Attribute) else getattr(called, "id", "")
            prefix = _literal_prefix(node.args[0])
            if name in ("import_module", "__import__") and prefix:
                yield node.lineno, prefix


def violations(root: Path) -> list[str]:
    """Every import under `root` that goes against the layering, as "file:line: why"."""
    found = []
    for module, path in modules(root):
        for line, imported in imports(module, path):
            why = forbidden(module, imported)
            if why:
                where = path.relative_to(root)
                found.append(f"{where}:{line}: {module} imports {imported}: {why}")
    return found


def test_the_layers_import_only_downwards() -> None:
    assert violations(ROOT) == []


def test_the_walk_sees_the_real_imports() -> None:
    """The check above is not passing on an empty walk: known edges are found."""
    edges = {(m, i) for m, path in modules(ROOT) for _, i in imports(m, path)}
    assert ("rapidvet.workflows.roles", "rapidvet.checks.model.Block") in edges
    assert ("rapidvet.app.cli", "rapidvet.app.commands") in edges  # import_module(f"...")
    assert len({m for m, _ in edges}) > 100


def _tree(root: Path, files: dict[str, str]) -> Path:
    for layer in LAYERS:
        (root / layer).mkdir(parents=True, exist_ok=True)
        (root / layer / "__init__.py").write_text("")
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


PLANTED = {
    "inside a function": (
        "checks/page.py",
        "def later():\n    from rapidvet.workflows.roles import ROLE_ORDER\n",
        "checks/page.py:2: rapidvet.checks.page imports rapidvet.workflows.roles.ROLE_ORDER",
    ),
    "under TYPE_CHECKING": (
        "workflows/decision.py",
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import rapidvet.app.store\n",
        "workflows/decision.py:3: rapidvet.workflows.decision imports rapidvet.app.store",
    ),
    "relative, across layers": (
        "checks/rules.py",
        "from ..app import settings\n",
        "checks/rules.py:1: rapidvet.checks.rules imports rapidvet.app.settings",
    ),
    "the commands from below them": (
        "app/settings.py",
        "from rapidvet.app.commands import UsageError\n",
        "app/settings.py:1: rapidvet.app.settings imports rapidvet.app.commands.UsageError",
    ),
    "the commands as a submodule": (
        "app/web/pages/setup.py",
        "from rapidvet.app import commands\n",
        "app/web/pages/setup.py:1: rapidvet.app.web.pages.setup imports rapidvet.app.commands",
    ),
    "a seam importing what uses it": (
        "app/store/sqlite.py",
        "from rapidvet.app.pulls import timeline\n",
        "app/store/sqlite.py:1: rapidvet.app.store.sqlite imports rapidvet.app.pulls.timeline",
    ),
    "the GitHub seam importing the web": (
        "app/github/client.py",
        "import rapidvet.app.web.pages\n",
        "app/github/client.py:1: rapidvet.app.github.client imports rapidvet.app.web.pages",
    ),
    "the handbook importing a pull request's code": (
        "app/handbook/doctor.py",
        "from rapidvet.app.pulls.evaluation import team_has_access\n",
        "app/handbook/doctor.py:1: rapidvet.app.handbook.doctor imports"
        " rapidvet.app.pulls.evaluation.team_has_access",
    ),
    "import_module with a literal name": (
        "app/service.py",
        "from importlib import import_module\nimport_module(f'rapidvet.app.commands.{x}')\n",
        "app/service.py:2: rapidvet.app.service imports rapidvet.app.commands",
    ),
}


@pytest.mark.parametrize("planted", PLANTED.values(), ids=list(PLANTED))
def test_a_planted_back_import_is_caught(tmp_path, planted) -> None:
    name, text, expected = planted
    found = violations(_tree(tmp_path, {name: text}))
    assert [v.rsplit(": ", 1)[0] for v in found] == [expected]  # the reason left off


def test_the_command_line_may_import_the_commands(tmp_path) -> None:
    root = _tree(
        tmp_path,
        {
            "app/cli.py": "from rapidvet.app.commands import USAGE_EXIT\n",
            "app/commands/check.py": "from rapidvet.app.commands import exit_codes\n",
            "workflows/roles.py": "from rapidvet.checks.model import Block\n",
            "app/pulls/evaluation.py": "from rapidvet.workflows.decision import decide\n",
            "app/pulls/merge.py": "from rapidvet.app.store import Store\n",
            "app/github/credentials.py": "from rapidvet.app.store import Store\n",
        },
    )
    assert violations(root) == []
