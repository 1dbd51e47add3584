"""`rapidvet config validate|match|schema`, through `main` and the installed console script."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from rapidvet.app.cli import main
from rapidvet.workflows.config_errors import MAX_PROBLEMS
from rapidvet.workflows.config_loader import MAX_BYTES
from rapidvet.workflows.config_schema import config_schema

VALID = "version: 1\naliases: {AS: '@asmith'}\npaths:\n  - {pattern: ops/, roles: {D: AS}}\n"
INVALID = "version: 1\npolicy:\n  team_approval: some\n  dismis_on: push\n"
INVALID_PROBLEMS = [
    (3, 18, "policy.team_approval: expected one of 'any', 'all', got 'some'"),
    (4, 3, "policy: unknown key 'dismis_on'; did you mean 'dismiss_on'?"),
]
SCRIPT = Path(sys.executable).with_name("rapidvet")


@pytest.fixture
def handbook(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def write(root: Path, relative: str, text: str | bytes) -> str:
    target = root / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        target.write_bytes(text)
    else:
        target.write_text(text, encoding="utf-8")
    return relative


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["config", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_validate_a_valid_file(handbook: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(handbook, "custom.yml", VALID)
    assert run(capsys, "validate", path) == (0, "custom.yml: valid\n", "")


@pytest.mark.parametrize(
    ("present", "chosen"),
    [
        ([".github/rapid.yml", "rapid.yml", "docs/rapid.yml"], ".github/rapid.yml"),
        (["rapid.yml", "docs/rapid.yml"], "rapid.yml"),
        (["docs/rapid.yml"], "docs/rapid.yml"),
    ],
)
def test_validate_finds_the_file_like_codeowners(
    handbook: Path, capsys: pytest.CaptureFixture[str], present: list[str], chosen: str
) -> None:
    for relative in present:
        write(handbook, relative, VALID if relative == chosen else INVALID)
    assert run(capsys, "validate") == (0, f"{chosen}: valid\n", "")


def test_validate_without_a_file_is_a_usage_error(
    handbook: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "validate")
    assert (code, out) == (2, "")
    assert err == (
        "rapidvet: error: no rapid.yml found here "
        "(looked for .github/rapid.yml, rapid.yml, docs/rapid.yml)\n"
    )


@pytest.mark.parametrize(
    ("target", "reason"),
    [("missing.yml", "No such file or directory"), (".github", "Is a directory")],
)
def test_validate_an_unreadable_file_is_a_usage_error(
    handbook: Path, capsys: pytest.CaptureFixture[str], target: str, reason: str
) -> None:
    (handbook / ".github").mkdir()
    assert run(capsys, "validate", target) == (
        2,
        "",
        f"rapidvet: error: cannot read {target}: {reason}\n",
    )


def test_validate_text_lists_problems(handbook: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(handbook, ".github/rapid.yml", INVALID)
    code, out, err = run(capsys, "validate", "--format", "text")
    assert (code, err) == (1, "")
    assert out.splitlines() == [
        f"{path}:{line}:{col}: {msg}" for line, col, msg in INVALID_PROBLEMS
    ]


def test_validate_json(handbook: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(handbook, "rapid.yml", INVALID)
    code, out, _ = run(capsys, "validate", "--format", "json")
    assert code == 1
    assert json.loads(out) == {
        "file": "rapid.yml",
        "valid": False,
        "problems": [
            {"line": line, "column": col, "message": msg} for line, col, msg in INVALID_PROBLEMS
        ],
    }


def test_validate_json_when_valid(handbook: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(handbook, "rapid.yml", VALID)
    code, out, _ = run(capsys, "validate", "--format", "json")
    assert (code, json.loads(out)) == (0, {"file": "rapid.yml", "valid": True, "problems": []})


def test_validate_github_workflow_commands(
    handbook: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(handbook, "docs/rapid.yml", INVALID)
    code, out, _ = run(capsys, "validate", "--format", "github")
    assert code == 1
    assert out.splitlines() == [
        f"::error file=docs/rapid.yml,line={line},col={col}::{msg}"
        for line, col, msg in INVALID_PROBLEMS
    ]


def test_validate_github_escapes_properties_and_data(
    handbook: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(handbook, "odd,name:100%.yml", "version: 2\n")
    code, out, _ = run(capsys, "validate", path, "--format", "github")
    assert (code, out) == (
        1,
        "::error file=odd%2Cname%3A100%25.yml,line=1,col=10::version: expected 1, got 2\n",
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "1:1: empty file: expected a mapping that starts with 'version: 1'"),
        (b"version: 1\nx: \xff\n", "2:4: not valid UTF-8: cannot decode byte(s) ff"),
        (b"#" * (MAX_BYTES + 5), f"1:1: file is larger than the limit of {MAX_BYTES} bytes"),
        (
            b"version: [1\n",
            "2:1: invalid YAML: while parsing a flow sequence, expected ',' or ']', "
            "but got '<stream end>'",
        ),
    ],
)
def test_validate_reports_unusable_content_as_invalid(
    handbook: Path, capsys: pytest.CaptureFixture[str], content: bytes, message: str
) -> None:
    path = write(handbook, "rapid.yml", content)
    assert run(capsys, "validate", path) == (1, f"rapid.yml:{message}\n", "")


def test_validate_lists_the_first_problems_then_how_many_more(
    handbook: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # 5 000 bad holders: a list that repeats, then one problem each.
    write(handbook, "rapid.yml", "version: 1\nunavailable: [" + ", ".join(["1"] * 5000) + "]\n")
    more = f"… and {5001 - MAX_PROBLEMS} more problems; fix these first"
    code, out, _ = run(capsys, "validate")
    lines = out.splitlines()
    assert (code, len(lines), lines[-1]) == (1, MAX_PROBLEMS + 1, f"rapid.yml:2:312: {more}")
    _, out, _ = run(capsys, "validate", "--format", "json")
    problems = json.loads(out)["problems"]
    assert (len(problems), problems[-1]["message"]) == (MAX_PROBLEMS + 1, more)
    _, out, _ = run(capsys, "validate", "--format", "github")
    assert out.splitlines()[-1] == f"::error file=rapid.yml,line=2,col=312::{more}"


def test_match_prints_one_json_object_per_path(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "match", "docs/*", "docs/a.md", "docs/build/b.md")
    assert (code, err) == (0, "")
    assert [json.loads(line) for line in out.splitlines()] == [
        {"pattern": "docs/*", "path": "docs/a.md", "matches": True},
        {"pattern": "docs/*", "path": "docs/build/b.md", "matches": False},
    ]


def test_match_rejects_an_unsupported_pattern(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "match", "!docs/", "docs/a.md") == (
        2,
        "",
        "rapidvet: error: unsupported pattern '!docs/': "
        "negation ('!') is not supported in CODEOWNERS patterns\n",
    )


def test_match_rejects_a_path_with_a_leading_slash(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "match", "/docs/", "docs/a.md", "/docs/a.md") == (
        2,
        "",
        "rapidvet: error: '/docs/a.md': expected a repository-relative path, without a leading /\n",
    )


def test_schema_prints_the_shipped_schema(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "schema")
    assert (code, json.loads(out)) == (0, config_schema())


@pytest.mark.parametrize(
    "argv", [[], ["bogus"], ["match", "docs/"], ["validate", "--format", "xml"]]
)
def test_bad_usage_exits_2_with_one_line(
    capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["config", *argv])
    _, err = capsys.readouterr()
    assert caught.value.code == 2
    assert err.startswith("rapidvet: error: ")
    assert err.count("\n") == 1


def script(*argv: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SCRIPT), "config", *argv], cwd=cwd, capture_output=True, text=True, check=False
    )


def test_console_script_validate(tmp_path: Path) -> None:
    write(tmp_path, ".github/rapid.yml", INVALID)
    invalid = script("validate", cwd=tmp_path)
    assert (invalid.returncode, invalid.stderr) == (1, "")
    assert invalid.stdout.splitlines()[0] == f".github/rapid.yml:3:18: {INVALID_PROBLEMS[0][2]}"

    write(tmp_path, "ok.yml", VALID)
    valid = script("validate", "ok.yml", "--format", "json", cwd=tmp_path)
    assert (valid.returncode, json.loads(valid.stdout)["valid"]) == (0, True)

    missing = script("validate", "nope.yml", cwd=tmp_path)
    assert missing.returncode == 2
    assert missing.stderr == "rapidvet: error: cannot read nope.yml: No such file or directory\n"


def test_console_script_match_and_schema(tmp_path: Path) -> None:
    matched = script("match", "**/logs", "build/logs/a.txt", "logs.txt", cwd=tmp_path)
    assert matched.returncode == 0
    assert [json.loads(line)["matches"] for line in matched.stdout.splitlines()] == [True, False]

    refused = script("match", "#x", "x", cwd=tmp_path)
    assert refused.returncode == 2
    assert "Traceback" not in refused.stderr
    assert refused.stderr.count("\n") == 1

    schema = script("schema", cwd=tmp_path)
    assert (schema.returncode, json.loads(schema.stdout)) == (0, config_schema())


def test_console_script_never_shows_a_traceback_on_hostile_yaml(tmp_path: Path) -> None:
    bomb = "version: 1\na: &a ['x','x','x','x','x','x','x','x','x','x']\n"
    for level in "bcdefghij":
        previous = chr(ord(level) - 1)
        bomb += f"{level}: &{level} [" + ", ".join([f"*{previous}"] * 10) + "]\n"
    write(tmp_path, "rapid.yml", bomb + "aliases: *j\n")
    result = script("validate", cwd=tmp_path)
    assert result.returncode == 1
    assert "with aliases written out" in result.stdout
    assert result.stderr == ""


def test_closed_pipe_is_not_a_traceback():
    shell = f"{SCRIPT} config schema | head -c 10 > /dev/null"
    proc = subprocess.run(["bash", "-c", shell], capture_output=True, text=True, check=False)
    assert "Traceback" not in proc.stderr and "BrokenPipe" not in proc.stderr


def test_every_problem_is_reported_in_one_pass(tmp_path: Path) -> None:
    write(
        tmp_path,
        "rapid.yml",
        "version: 1\n"
        "policy: {team_approval: some}\n"
        "checks:\n  rules: {too-lnog: off}\n"
        "paths: [{pattern: ops/, roles: {D: ASS}}]\n"
        "aliases: {AS: '@asmith'}\n",
    )
    result = script("validate", cwd=tmp_path)
    assert (result.returncode, result.stderr) == (1, "")
    assert result.stdout.splitlines() == [
        "rapid.yml:2:25: policy.team_approval: expected one of 'any', 'all', got 'some'",
        "rapid.yml:4:21: checks.rules.too-lnog: unknown rule 'too-lnog'; did you mean 'too-long'?",
        "rapid.yml:5:36: paths[0].roles.D: unknown alias 'ASS'; did you mean 'AS'?",
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (  # the next quote closes it two lines down, where the parser fails
            'version: 1\naliases:\n  AS: "@asmith\npaths:\n  - pattern: "ops/"\n',
            "the quoted text opened here runs on to line 5 (is its closing quote missing?), "
            "while parsing a block mapping, expected <block end>, but found '<scalar>'",
        ),
        (  # no quote closes it: the file ends inside it
            "version: 1\naliases:\n  AS: '@asmith\npaths:\n  - pattern: ops/\n",
            "while scanning a quoted scalar, found unexpected end of stream",
        ),
    ],
)
def test_an_unclosed_quote_is_reported_where_it_opens(
    tmp_path: Path, text: str, message: str
) -> None:
    write(tmp_path, "rapid.yml", text)
    result = script("validate", cwd=tmp_path)
    assert (result.returncode, result.stdout) == (1, f"rapid.yml:3:7: invalid YAML: {message}\n")
