"""CODEOWNERS path patterns, checked against every example in GitHub's documentation.

Source: "About code owners", section "Example of a CODEOWNERS file" and "Syntax
exceptions" (docs.github.com/en/repositories/managing-your-repositorys-settings-and-features/
customizing-your-repository/about-code-owners). Each documented line becomes a row with
paths that must and must not match.
"""

from __future__ import annotations

import re
import time

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from rapidvet.workflows.codeowners import (
    PatternError,
    compile_pattern,
    last_match,
    pattern_matches,
)
from rapidvet.workflows.rapid_config import PathRule

# (pattern, paths that match, paths that do not)
DOCUMENTED = [
    # "These owners will be the default owners for everything in the repo."
    ("*", ["README.md", "src/app.js", "a/b/c/d.txt", ".github/rapid.yml"], []),
    # "When someone opens a pull request that only modifies JS files ..."
    ("*.js", ["app.js", "src/app.js", "a/b/c.js"], ["app.jsx", "app.js.map", "js", "src/js"]),
    # "*.go docs@example.com"
    ("*.go", ["main.go", "cmd/tool/main.go"], ["main.gone", "go"]),
    # "the octocats team in the octo-org organization owns all .txt files."
    ("*.txt", ["notes.txt", "a/b/notes.txt"], ["notes.txt.bak", "notes.md"]),
    # "@doctocat owns any files in the build/logs directory at the root of the repository
    # and any of its subdirectories."
    (
        "/build/logs/",
        ["build/logs/run.log", "build/logs/2024/01/run.log"],
        ["build/logs", "src/build/logs/run.log", "build/logsx/run.log", "build/run.log"],
    ),
    # "The `docs/*` pattern will match files like `docs/getting-started.md` but not further
    # nested files like `docs/build-app/troubleshooting.md`."
    (
        "docs/*",
        ["docs/getting-started.md", "docs/README"],
        ["docs/build-app/troubleshooting.md", "docs", "src/docs/getting-started.md"],
    ),
    # "@octocat owns any file in an apps directory anywhere in your repository."
    (
        "apps/",
        ["apps/x.js", "apps/a/b.js", "web/apps/x.js", "a/b/apps/c/d.js"],
        ["apps", "myapps/x.js", "apps.js", "web/apps"],
    ),
    # "@doctocat owns any file in the `/docs` directory in the root of your repository and
    # any of its subdirectories."
    ("/docs/", ["docs/index.md", "docs/a/b/c.md"], ["docs", "src/docs/index.md", "docsx/a.md"]),
    # "any change inside the `/scripts` directory will require approval from @doctocat or
    # @octocat."
    ("/scripts/", ["scripts/deploy.sh", "scripts/ci/run.sh"], ["tools/scripts/deploy.sh"]),
    # "@octocat owns any file in a `/logs` directory such as `/build/logs`, `/scripts/logs`,
    # and `/deeply/nested/logs`."
    (
        "**/logs",
        ["build/logs/a.log", "scripts/logs/a.log", "deeply/nested/logs/a.log", "logs/a.log"],
        ["build/logsx/a.log", "build/mylogs/a.log", "logs.txt"],
    ),
    # "@octocat owns any file in the `/apps` directory in the root of your repository ..."
    ("/apps/", ["apps/x.js", "apps/github/x.js"], ["web/apps/x.js", "apps"]),
    # "... except for the `/apps/github` subdirectory"
    ("/apps/github", ["apps/github", "apps/github/x.js"], ["apps/githubx/y", "web/apps/github/x"]),
    # Syntax exceptions: "Using `[ ]` to define a character range" does not work, so
    # brackets are literal characters.
    ("/apps/[param]/file.ts", ["apps/[param]/file.ts"], ["apps/p/file.ts", "apps/a/file.ts"]),
    ("*.[jt]s", ["a.[jt]s", "src/b.[jt]s"], ["a.js", "a.ts"]),
    # "CODEOWNERS paths are case sensitive"
    ("/Docs/", ["Docs/a.md"], ["docs/a.md", "DOCS/a.md"]),
]

# Rules the issue spells out beyond the documented file (gitignore semantics).
GITIGNORE_RULES = [
    ("/build/logs", ["build/logs", "build/logs/x.txt"], ["build/logsx", "a/build/logs/x.txt"]),
    ("logs/**", ["logs/a", "logs/a/b"], ["logs", "a/logs/b"]),
    ("a/**/b", ["a/b", "a/x/b", "a/x/y/b", "a/x/b/c.md"], ["a/bb", "x/a/b", "a/x/bc"]),
    ("**/a/b", ["a/b", "x/a/b", "x/y/a/b/c"], ["a/x/b"]),
    ("docs/*.md", ["docs/a.md"], ["docs/a/b.md", "docs/a.mdx", "x/docs/a.md"]),
    ("/*", ["README.md", "x"], ["a/b", "docs/a.md"]),
    ("/*/", ["a/b", "a/b/c"], ["README.md"]),
    ("doc/*/own", ["doc/ref/own", "doc/ref/own/x"], ["doc/own", "doc/a/b/own"]),
    ("f?o", ["foo", "x/fao"], ["fo", "fooo", "f/o"]),
    ("README", ["README", "a/README", "README/x"], ["README.md", "xREADME"]),
    ("a*", ["abc", "x/abc", "abc/d"], ["xa", "x/ba"]),
    (r"f\*o", ["f*o"], ["foo", "fxo"]),
    (r"f\?o", ["f?o"], ["foo"]),
    (r"\#notes", ["#notes", "a/#notes"], ["notes"]),
    (r"my\ file.md", ["my file.md", "a/my file.md"], ["my\\ file.md", "myfile.md"]),
    ("**", ["a", "a/b/c"], []),
    ("/**/", ["a/b", "a/b/c"], []),
    ("a/**/", ["a/b", "a/b/c"], ["a", "b/a/c"]),
]


def rows(table: list[tuple[str, list[str], list[str]]]) -> list[tuple[str, str, bool]]:
    return [
        (pattern, path, expected)
        for pattern, matching, other in table
        for path, expected in [*((p, True) for p in matching), *((p, False) for p in other)]
    ]


@pytest.mark.parametrize(("pattern", "path", "expected"), rows(DOCUMENTED))
def test_documented_examples(pattern: str, path: str, expected: bool) -> None:
    assert pattern_matches(pattern, path) is expected


@pytest.mark.parametrize(("pattern", "path", "expected"), rows(GITIGNORE_RULES))
def test_gitignore_rules(pattern: str, path: str, expected: bool) -> None:
    assert pattern_matches(pattern, path) is expected


def rule(pattern: str, decider: str | None = None) -> PathRule:
    return PathRule(pattern, {"D": (decider,)} if decider else {})


# The documented file, top to bottom; each rule's pattern doubles as its name.
DOCUMENTED_FILE = [
    rule("*", "@global-owner1"),
    rule("*.js", "@js-owner"),
    rule("*.go", "docs@example.com"),
    rule("*.txt", "@octo-org/octocats"),
    rule("/build/logs/", "@doctocat"),
    rule("docs/*", "docs@example.com"),
    rule("apps/", "@octocat"),
    rule("/docs/", "@doctocat"),
    rule("/scripts/", "@doctocat"),
    rule("**/logs", "@octocat"),
    rule("/apps/", "@octocat"),
    rule("/apps/github"),
]


@pytest.mark.parametrize(
    ("path", "winner"),
    [
        ("README.md", "*"),
        ("src/app.js", "*.js"),
        ("cmd/main.go", "*.go"),
        ("notes/todo.txt", "*.txt"),
        ("docs/getting-started.md", "/docs/"),
        ("docs/build-app/troubleshooting.md", "/docs/"),
        ("web/apps/main.py", "apps/"),
        ("scripts/deploy.sh", "/scripts/"),
        ("build/logs/run.txt", "**/logs"),
        ("deeply/nested/logs/run.js", "**/logs"),
        ("apps/main.py", "/apps/"),
        ("apps/github/main.py", "/apps/github"),
    ],
)
def test_last_matching_entry_wins(path: str, winner: str) -> None:
    found = last_match(DOCUMENTED_FILE, path)
    assert found is not None
    assert found.pattern == winner


def test_documented_empty_owners_leave_a_path_unowned() -> None:
    # "/apps/github" with no owners: the later entry wins and names nobody.
    found = last_match([rule("/apps/", "@octocat"), rule("/apps/github")], "apps/github/x.js")
    assert found == rule("/apps/github")
    assert not found.roles


def test_documented_later_owner_overrides_earlier() -> None:
    rules = [rule("/apps/", "@octocat"), rule("/apps/github", "@doctocat")]
    assert last_match(rules, "apps/github/x.js") == rule("/apps/github", "@doctocat")
    assert last_match(rules, "apps/other/x.js") == rule("/apps/", "@octocat")


def test_no_match_is_none() -> None:
    assert last_match([rule("/docs/", "@a")], "src/x.md") is None
    assert last_match([], "x") is None


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [
        ("", "empty pattern"),
        ("!docs/", "negation ('!') is not supported"),
        ("!*.md", "negation"),
        ("#docs", "cannot start with '#'"),
        ("/", "names no file"),
        ("//", "names no file"),
        ("a//b", "empty path segment"),
        ("docs\\", "lone '\\'"),
        ("my file.md", "unescaped whitespace"),
        ("docs/\tx", "unescaped whitespace"),
    ],
)
def test_unsupported_syntax_is_a_clear_error(pattern: str, reason: str) -> None:
    with pytest.raises(PatternError, match=re.escape(reason)):
        compile_pattern(pattern)


def test_compiled_patterns_are_cached() -> None:
    assert compile_pattern("docs/**/*.md") is compile_pattern("docs/**/*.md")


@pytest.mark.parametrize(
    ("pattern", "path"),
    [
        ("/" + "**/a/" * 12 + "b", "/".join(["a"] * 60) + "/c"),
        ("*a*a*a*a*a*a*a*a*a*a*b", "a" * 250),
        ("**/*a*a*a*a*a*a*a*a*b/**/" * 3, "/".join(["a" * 50] * 30)),
    ],
)
def test_many_wildcards_fail_fast(pattern: str, path: str) -> None:
    # Matching is linear in path segments; a backtracking regex would take hours here.
    started = time.monotonic()
    assert not pattern_matches(pattern, path)
    assert time.monotonic() - started < 1


@pytest.mark.parametrize(
    ("pattern", "path", "expected"),
    [
        ("*ab*b", "abb", True),
        ("*a*ab", "aab", True),
        ("*a*ab", "ab", False),
        ("a*b*c", "abbbc", True),
        ("a*b*c", "acb", False),
        ("x?*?y", "xaby", True),
        ("x?*?y", "xay", False),
        ("a**b", "a/b", False),
        ("a**b", "axxb", True),
    ],
)
def test_stars_inside_a_name(pattern: str, path: str, expected: bool) -> None:
    assert pattern_matches("/" + pattern, path) is expected


# Names without wildcards, escapes or whitespace; brackets, `!` and `#` are literal inside.
NAME = st.text(
    alphabet=st.characters(
        blacklist_categories=("Cs", "Cc", "Zs", "Zl", "Zp"), blacklist_characters="/*?\\"
    ),
    min_size=1,
    max_size=8,
)
PATH = st.lists(NAME, min_size=1, max_size=5).map("/".join)


@given(PATH)
def test_an_exact_anchored_path_matches_itself_only(path: str) -> None:
    assert pattern_matches("/" + path, path)
    assert not pattern_matches("/" + path, path + "x")


@given(NAME, st.text())
def test_an_anchored_directory_never_matches_outside_it(directory: str, path: str) -> None:
    if pattern_matches(f"/{directory}/", path):
        assert path.startswith(directory + "/")


@given(st.text())
def test_root_star_never_crosses_a_slash(path: str) -> None:
    if "/" in path:
        assert not pattern_matches("/*", path)


@given(NAME, st.text())
def test_directory_star_matches_only_direct_children(directory: str, path: str) -> None:
    assume(directory[0] not in "!#")
    if pattern_matches(f"{directory}/*", path):
        assert path.startswith(directory + "/")
        assert "/" not in path.removeprefix(directory + "/")


@given(st.text(), st.text())
def test_any_text_is_a_pattern_or_a_pattern_error(pattern: str, path: str) -> None:
    try:
        compiled = compile_pattern(pattern)
    except PatternError:
        return
    assert compiled.matches(path) in (True, False)
