"""Loading `.github/rapid.yml`: the example of docs/architecture.md#policy, located errors, YAML
safety."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from rapidvet.checks.options import DEFAULT_KINDS, Kind
from rapidvet.workflows.config_loader import (
    MAX_BYTES,
    ConfigError,
    ConfigProblem,
    config_location,
    load_config,
    load_config_bytes,
)
from rapidvet.workflows.config_schema import config_schema
from rapidvet.workflows.config_yaml import MAX_EXPANDED_BYTES, MAX_NODES
from rapidvet.workflows.rapid_config import (
    ChecksSettings,
    MergeSettings,
    PathRule,
    Policy,
    RapidConfig,
)
from tests.support import ROOT

ARCHITECTURE = ROOT / "docs" / "architecture.md"
EXAMPLE_FENCE = "```yaml rapid.yml\n"


def policy_example() -> str:
    """The rapid.yml example of docs/architecture.md#policy: the tests load the documented
    example itself, so it cannot drift from what rapidvet reads."""
    text = ARCHITECTURE.read_text(encoding="utf-8")
    return text.split(EXAMPLE_FENCE, 1)[1].split("```", 1)[0]


POLICY_EXAMPLE = policy_example()


def test_the_policy_example_loads_to_the_expected_config() -> None:
    assert load_config(POLICY_EXAMPLE) == RapidConfig(
        version=1,
        aliases={"IJT": "@ianjt", "AS": "@asmith", "MLT": "@mattermost/mlt"},
        paths=(
            PathRule(
                pattern="operations/**",
                roles={"D": ("@ianjt",), "A": ("@mattermost/mlt",), "I": ("@cfo",)},
                line=7,
            ),
            PathRule(
                pattern="operations/sales/*.md",
                roles={"D": ("AS",), "A": ("MLT",)},
                block="Sales VPMOM",
                line=9,
            ),
        ),
        policy=Policy(
            required_roles=("D", "A"),
            team_approval="any",
            author_can_satisfy=False,
            doc_rapid_must_match=True,
            stale_after_days=365,
            dismiss_on="content",
            request_input=True,
        ),
        unavailable=frozenset({"@cfo"}),
        checks=ChecksSettings(
            one_page_lines=60,
            rules={"measures-numeric": "warning", "vision-one-sentence": "error"},
            kinds=DEFAULT_KINDS,
        ),
        merge=MergeSettings(record="direct", previous_versions_limit=5),
        source=".github/rapid.yml",
    )


def test_the_policy_example_is_all_defaults_except_paths_and_aliases() -> None:
    config = load_config(POLICY_EXAMPLE)
    assert config.policy == Policy()
    assert config.merge == MergeSettings()
    assert load_config("version: 1\n") == RapidConfig()


def test_source_names_the_file_in_config_and_problems() -> None:
    assert load_config("version: 1\n", "docs/rapid.yml").source == "docs/rapid.yml"
    with pytest.raises(ConfigError) as caught:
        load_config("version: 2\n", "rapid.yml")
    assert caught.value.problems == [
        ConfigProblem("rapid.yml", 1, 10, "version: expected 1, got 2")
    ]


def problems(text: str) -> list[tuple[int, int, str]]:
    with pytest.raises(ConfigError) as caught:
        load_config(text)
    assert all(p.source == ".github/rapid.yml" for p in caught.value.problems)
    return [(p.line, p.column, p.message) for p in caught.value.problems]


def one_rule(roles: str, pattern: str = "docs/") -> str:
    return f"version: 1\naliases: {{AS: '@asmith'}}\npaths:\n  - pattern: {pattern}\n{roles}"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "version: 1\npolicy:\n  team_approval: some\n",
            (3, 18, "policy.team_approval: expected one of 'any', 'all', got 'some'"),
            id="bad enum value",
        ),
        pytest.param(
            "version: 1\npolicy:\n  stale_after_days: soon\n",
            (3, 21, "policy.stale_after_days: expected an integer, got 'soon'"),
            id="wrong type",
        ),
        pytest.param(
            "version: 1\npaths: docs/\n",
            (2, 8, "paths: expected a list, got 'docs/'"),
            id="wrong container type",
        ),
        pytest.param(
            "version: 1\npolicy:\n  team_aproval: all\n",
            (3, 3, "policy: unknown key 'team_aproval'; did you mean 'team_approval'?"),
            id="unknown key with suggestion",
        ),
        pytest.param(
            "version: 1\nowners: []\n",
            (
                2,
                1,
                "unknown key 'owners'; expected one of 'version', 'aliases', 'paths', "
                "'policy', 'unavailable', 'checks', 'merge'",
            ),
            id="unknown top-level key",
        ),
        pytest.param(
            one_rule("    roles: {D: '@a', X: '@b'}\n"),
            (5, 22, "paths[0].roles: unknown key 'X'; expected one of 'R', 'A', 'P', 'I', 'D'"),
            id="bad role letter",
        ),
        pytest.param(
            one_rule("    roles: {d: '@a'}\n"),
            (5, 13, "paths[0].roles: unknown key 'd'; did you mean 'D'?"),
            id="lower-case role letter",
        ),
        pytest.param(
            one_rule("    roles: {D: as}\n"),
            (5, 16, "paths[0].roles.D: unknown alias 'as'; did you mean 'AS'?"),
            id="unknown alias",
        ),
        pytest.param(
            one_rule("    roles:\n      A: [AS, Finance]\n"),
            (
                6,
                15,
                "paths[0].roles.A[1]: unknown alias 'Finance'; "
                "define it under 'aliases' or write @user",
            ),
            id="unknown alias in a list",
        ),
        pytest.param(
            one_rule("    roles: {D: ['@a', AS]}\n"),
            (
                5,
                16,
                "paths[0].roles.D: expected one holder (a block has exactly one Decider), got 2",
            ),
            id="two D holders",
        ),
        pytest.param(
            one_rule("    roles: {A: ['@', '@b']}\n"),
            (
                5,
                17,
                "paths[0].roles.A[0]: expected a holder: @user, @org/team "
                "or an alias name, got '@'",
            ),
            id="malformed holder",
        ),
        pytest.param(
            one_rule("    roles: {A: ['@b', '@b']}\n"),
            (5, 16, "paths[0].roles.A: '@b' is listed twice"),
            id="repeated holder",
        ),
        pytest.param(
            one_rule("    roles: {D: AS}\n", pattern="'!docs/'"),
            (
                4,
                14,
                "paths[0].pattern: unsupported pattern '!docs/': "
                "negation ('!') is not supported in CODEOWNERS patterns",
            ),
            id="negation pattern",
        ),
        pytest.param(
            "version: 1\npaths:\n  - roles: {D: '@a'}\n",
            (3, 5, "paths[0]: missing required key 'pattern'"),
            id="missing pattern",
        ),
        pytest.param(
            "aliases: {}\n",
            (1, 1, "missing required key 'version'"),
            id="missing version",
        ),
        pytest.param(
            "version: 2\n",
            (1, 10, "version: expected 1, got 2"),
            id="unsupported version",
        ),
        pytest.param(
            "version: 1\naliases:\n  'I J(T)': '@ianjt'\n",
            (
                3,
                3,
                "aliases: bad key 'I J(T)': expected an alias name: initials or a team "
                "name, without '@', parentheses or commas",
            ),
            id="bad alias name",
        ),
        pytest.param(
            "version: 1\naliases:\n  IJT: ianjt\n",
            (3, 8, "aliases.IJT: expected a GitHub handle: @user or @org/team, got 'ianjt'"),
            id="alias to a non-handle",
        ),
        pytest.param(
            "version: 1\nunavailable: [AZ]\n",
            (2, 15, "unavailable[0]: unknown alias 'AZ'; define it under 'aliases' or write @user"),
            id="unknown alias in unavailable",
        ),
        pytest.param(
            "version: 1\nchecks:\n  rules: {measures-numeric: loud}\n",
            (
                3,
                29,
                "checks.rules.measures-numeric: expected one of 'off', 'error', 'warning', "
                "'notice', got 'loud'",
            ),
            id="bad rule grade",
        ),
        pytest.param(
            "version: 1\nmerge: {previous_versions_limit: 0}\n",
            (2, 34, "merge.previous_versions_limit: expected at least 1, got 0"),
            id="below minimum",
        ),
        pytest.param(
            "version: 1\npolicy: {request_input: yes}\n",
            (2, 25, "policy.request_input: expected true or false, got 'yes'"),
            id="YAML 1.1 boolean word",
        ),
        pytest.param(
            "version: 1\nchecks:\n  kinds:\n    - {name: v2mom, sections: [Vision]}\n",
            (4, 14, "checks.kinds[0].name: kind 'v2mom' is built in"),
            id="kind shadows a built-in kind",
        ),
        pytest.param(
            "version: 1\npolicy: {team_approval: any\n",
            (
                3,
                1,
                "invalid YAML: while parsing a flow mapping, expected ',' or '}', "
                "but got '<stream end>'",
            ),
            id="syntax error",
        ),
        pytest.param(
            "version: 1\naliases:\n  IJT: '@ianjt'\n   AS: '@asmith'\n",
            (
                4,
                4,
                "invalid YAML: while parsing a block mapping, expected <block end>, "
                "but found '<block mapping start>'",
            ),
            id="bad indentation",
        ),
        pytest.param(
            "version: 1\n\tpolicy: {}\n",
            (
                2,
                1,
                "invalid YAML: while scanning for the next token, found character '\\t' "
                "that cannot start any token",
            ),
            id="tab indentation",
        ),
        pytest.param(
            "version: 1\naliases: {x: 'a\x00b'}\n",
            (2, 16, "invalid YAML: unacceptable character '\\x00'"),
            id="control character",
        ),
        pytest.param(
            "version: 1\n---\nversion: 1\n",
            (
                2,
                1,
                "invalid YAML: expected a single document in the stream, "
                "but found another document",
            ),
            id="two documents",
        ),
        pytest.param(
            "version: 1\npolicy: {}\npolicy: {}\n",
            (3, 1, "duplicate key 'policy' (first on line 2)"),
            id="duplicate key",
        ),
        pytest.param(
            "version: !!python/object/apply:os.system ['true']\n",
            (1, 10, "unsupported YAML tag '!!python/object/apply:os.system'"),
            id="python tag",
        ),
        pytest.param(
            "version: 1\nbase: &base {team_approval: all}\npolicy:\n  <<: *base\n",
            (4, 3, "merge keys ('<<') are not supported; use an alias instead"),
            id="merge key",
        ),
        pytest.param(
            "version: 1\n? [a, b]\n: c\n",
            (2, 3, "a key must be plain text, not a list or mapping"),
            id="complex key",
        ),
        pytest.param(
            "- version: 1\n",
            (1, 1, "expected a mapping, got a list"),
            id="not a mapping",
        ),
    ],
)
def test_broken_files_are_located(text: str, expected: tuple[int, int, str]) -> None:
    assert problems(text) == [expected]


def test_every_problem_is_reported_in_file_order() -> None:
    text = "version: 1\nmerge: {record: sometimes}\npolicy:\n  dismiss_on: merge\nchecks: []\n"
    assert problems(text) == [
        (2, 17, "merge.record: expected one of 'direct', 'pull_request', 'off', got 'sometimes'"),
        (4, 15, "policy.dismiss_on: expected one of 'content', 'push', 'never', got 'merge'"),
        (5, 9, "checks: expected a mapping, got a list"),
    ]


def test_error_text_is_one_problem_per_line() -> None:
    with pytest.raises(ConfigError) as caught:
        load_config("version: 3\npolicy: {team_approval: some}\n", "rapid.yml")
    assert str(caught.value).splitlines() == [
        "rapid.yml:1:10: version: expected 1, got 3",
        "rapid.yml:2:25: policy.team_approval: expected one of 'any', 'all', got 'some'",
    ]


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n", "---\n"])
def test_an_empty_file_is_an_error_not_a_default(text: str) -> None:
    assert problems(text) == [
        (1, 1, "empty file: expected a mapping that starts with 'version: 1'")
    ]


def billion_laughs(levels: int = 9, laugh: str = "lol") -> str:
    lines = ["version: 1", f'lol0: &lol0 "{laugh}"']
    for level in range(1, levels + 1):
        refs = ", ".join([f"*lol{level - 1}"] * 10)
        lines.append(f"lol{level}: &lol{level} [{refs}]")
    lines.append(f"aliases: *lol{levels}")
    return "\n".join(lines) + "\n"


def test_billion_laughs_is_refused_quickly() -> None:
    started = time.monotonic()
    found = problems(billion_laughs())
    assert time.monotonic() - started < 10
    assert len(found) == 1
    assert f"past {MAX_EXPANDED_BYTES} bytes with aliases written out" in found[0][2]


def test_billion_empty_laughs_are_refused_by_their_count() -> None:
    # Empty text adds no bytes, so the count of values is what stops this one.
    started = time.monotonic()
    found = problems(billion_laughs(laugh=""))
    assert time.monotonic() - started < 10
    assert len(found) == 1
    assert f"expands to more than {MAX_NODES} nodes" in found[0][2]


def test_a_self_referencing_alias_is_refused() -> None:
    assert problems("version: 1\naliases: &a {x: *a}\n") == [
        (2, 10, "nested more than 50 levels deep (an alias that refers to itself?)")
    ]


def test_deep_nesting_is_refused_before_the_stack_overflows() -> None:
    text = "version: 1\nx: " + "[" * 20_000 + "]" * 20_000 + "\n"
    [(line, _, message)] = problems(text)
    assert line == 2
    assert message == "invalid YAML: nested more than 50 levels deep"


def test_aliases_within_the_limit_are_followed() -> None:
    text = "version: 1\naliases: {AS: '@asmith'}\npaths:\n"
    text += "  - {pattern: a/, roles: &ops {D: AS, A: ['@b']}}\n  - {pattern: b/, roles: *ops}\n"
    config = load_config(text)
    assert config.paths[0].roles == config.paths[1].roles == {"D": ("AS",), "A": ("@b",)}


def padded(size: int, text: str = "version: 1\n") -> str:
    return text + "#" * (size - len(text.encode()))


def test_size_limit_counts_utf8_bytes() -> None:
    assert load_config(padded(MAX_BYTES)) == RapidConfig()
    assert problems(padded(MAX_BYTES + 1)) == [
        (1, 1, f"file is larger than the limit of {MAX_BYTES} bytes")
    ]
    # Fewer characters than the limit, but more bytes.
    assert problems("version: 1\n#" + "é" * (MAX_BYTES // 2)) == [
        (1, 1, f"file is larger than the limit of {MAX_BYTES} bytes")
    ]


def test_size_limit_is_checked_before_parsing_bytes() -> None:
    with pytest.raises(ConfigError, match="larger than the limit"):
        load_config_bytes(b"\xff" * (MAX_BYTES + 1))


def test_non_utf8_bytes_are_located() -> None:
    data = "version: 1\naliases: {É: '@x'}\n".encode("latin-1")
    with pytest.raises(ConfigError) as caught:
        load_config_bytes(data, "rapid.yml")
    assert caught.value.problems == [
        ConfigProblem("rapid.yml", 2, 11, "not valid UTF-8: cannot decode byte(s) c9")
    ]


def test_utf8_bytes_with_a_byte_order_mark_load() -> None:
    assert load_config_bytes("\ufeffversion: 1\naliases: {É: '@x'}\n".encode()).aliases == {
        "É": "@x"
    }


def test_yaml_1_1_words_stay_text() -> None:
    # `off` is a grade and a merge mode here, not false; dates stay text too.
    config = load_config(
        "version: 1\nchecks: {rules: {measures-numeric: off}}\nmerge: {record: off}\n"
    )
    assert config.checks.rules == {"measures-numeric": "off"}
    assert config.merge.record == "off"


def test_d_may_be_a_list_of_one() -> None:
    config = load_config(one_rule("    roles: {D: [AS], P: '@p', R: [AS, '@r']}\n"))
    assert config.paths[0].roles == {"D": ("AS",), "P": ("@p",), "R": ("AS", "@r")}


def test_entries_without_roles_leave_paths_unowned() -> None:
    # The documented CODEOWNERS idiom: a later entry with no owners.
    config = load_config("version: 1\npaths:\n  - pattern: /apps/\n  - pattern: /apps/github\n")
    assert [rule.roles for rule in config.paths] == [{}, {}]
    assert [rule.line for rule in config.paths] == [3, 4]


def test_unavailable_aliases_resolve_to_handles() -> None:
    text = "version: 1\naliases: {AS: '@asmith'}\nunavailable: [AS, '@cfo']\n"
    assert load_config(text).unavailable == frozenset({"@asmith", "@cfo"})
    assert load_config("version: 1\nunavailable: '@cfo'\n").unavailable == frozenset({"@cfo"})


def test_user_kinds_are_added_with_casefolded_sections() -> None:
    text = "version: 1\nchecks:\n  kinds:\n    - {name: OKR, sections: [Objectives, KEY Results]}\n"
    kinds = load_config(text).checks.kinds
    assert kinds == (*DEFAULT_KINDS, Kind("OKR", ("objectives", "key results")))


def test_kind_problems_are_reported_together() -> None:
    text = (
        "version: 1\nchecks:\n  kinds:\n"
        "    - {name: OKR, sections: [Goals, goals]}\n"
        "    - {name: okr, sections: [x]}\n"
    )
    assert problems(text) == [
        (4, 37, "checks.kinds[0].sections[1]: section 'goals' is listed twice (names ignore case)"),
        (5, 14, "checks.kinds[1].name: kind 'okr' is already defined at checks.kinds[0]"),
    ]


def test_integral_floats_become_integers() -> None:
    config = load_config("version: 1.0\npolicy: {stale_after_days: 30.0}\n")
    assert config.policy.stale_after_days == 30
    assert isinstance(config.policy.stale_after_days, int)


@pytest.mark.parametrize(
    ("existing", "chosen"),
    [
        ({".github/rapid.yml", "rapid.yml", "docs/rapid.yml"}, ".github/rapid.yml"),
        ({"rapid.yml", "docs/rapid.yml"}, "rapid.yml"),
        ({"docs/rapid.yml", "README.md"}, "docs/rapid.yml"),
        ({"rapid.yaml", ".github/CODEOWNERS", "src/rapid.yml"}, None),
        (set(), None),
    ],
)
def test_config_location_follows_codeowners_precedence(
    existing: set[str], chosen: str | None
) -> None:
    assert config_location(existing) == chosen


def subschemas(schema: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield schema
    for keyword, value in schema.items():
        # `properties` and `$defs` map names to schemas; the mapping is not a schema itself.
        children = value.values() if keyword in ("properties", "$defs") else [value]
        for child in children:
            if isinstance(child, dict):
                yield from subschemas(child)


def test_schema_is_valid_draft_2020_12() -> None:
    schema = config_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(schema)


def test_schema_describes_what_messages_quote() -> None:
    # Messages for `pattern`, `maxItems` and bad key names say "expected <description>".
    schema = config_schema()

    def resolved(sub: dict[str, Any]) -> dict[str, Any]:
        ref = sub.get("$ref")
        return schema["$defs"][ref.removeprefix("#/$defs/")] if ref else sub

    quoted = [s for s in subschemas(schema) if {"pattern", "maxItems"} & s.keys()]
    quoted += [resolved(s["propertyNames"]) for s in subschemas(schema) if "propertyNames" in s]
    assert len(quoted) > 5
    assert all("description" in s for s in quoted)


def test_the_policy_example_satisfies_the_schema_as_plain_yaml() -> None:
    Draft202012Validator(config_schema()).validate(yaml.safe_load(POLICY_EXAMPLE))


@given(st.text(max_size=300))
def test_any_text_loads_or_raises_config_error(text: str) -> None:
    try:
        load_config(text)
    except ConfigError as error:
        assert error.problems
        assert all(p.line >= 1 and p.column >= 1 for p in error.problems)


@given(st.binary(max_size=300))
def test_any_bytes_load_or_raise_config_error(data: bytes) -> None:
    try:
        load_config_bytes(data)
    except ConfigError as error:
        assert error.problems


YAML_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=12,
)
SECTIONS = st.sampled_from(["aliases", "paths", "policy", "unavailable", "checks", "merge"])


@given(st.dictionaries(SECTIONS, YAML_VALUES))
def test_any_shape_of_config_loads_or_raises_config_error(sections: dict[str, Any]) -> None:
    try:
        load_config(yaml.safe_dump({"version": 1, **sections}))
    except ConfigError as error:
        assert error.problems


def test_unknown_rule_id_is_an_error_with_a_suggestion():
    text = "version: 1\nchecks:\n  rules:\n    measures-numeric: error\n    too-lnog: off\n"
    with pytest.raises(ConfigError) as caught:
        load_config(text)
    (problem,) = caught.value.problems
    assert (problem.line, problem.message) == (
        5,
        "checks.rules.too-lnog: unknown rule 'too-lnog'; did you mean 'too-long'?",
    ) or (
        problem.line == 5 and "unknown rule 'too-lnog'; did you mean 'too-long'?" in problem.message
    )
