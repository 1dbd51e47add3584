"""`.github/rapid.yml` text to a validated `RapidConfig` (docs/architecture.md#policy).

Checks run in three layers, each problem reported with its line and column: safe YAML
reading (size, encoding, syntax, alias bombs; stops at the first problem), the shipped
JSON Schema, then what a schema cannot say (aliases that exist, patterns GitHub accepts,
unique kind names). The last two report every problem they find, each in time linear in
the file; ConfigError lists the first hundred.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from rapidvet.checks.options import DEFAULT_KINDS, Kind
from rapidvet.checks.rules import RULES
from rapidvet.workflows.codeowners import PatternError, compile_pattern
from rapidvet.workflows.config_errors import (
    ConfigError,
    ConfigProblem,
    Names,
    quoted,
    where,
)
from rapidvet.workflows.rapid_config import (
    ChecksSettings,
    MergeSettings,
    PathRule,
    Policy,
    RapidConfig,
)

if TYPE_CHECKING:
    from rapidvet.workflows.config_yaml import NodePath, YamlDocument

__all__ = [
    "CONFIG_LOCATIONS",
    "MAX_BYTES",
    "ConfigError",
    "ConfigProblem",
    "config_location",
    "load_config",
    "load_config_bytes",
]

# Where the file is looked for, first found wins: the order GitHub uses for CODEOWNERS.
CONFIG_LOCATIONS = (".github/rapid.yml", "rapid.yml", "docs/rapid.yml")
DEFAULT_SOURCE = CONFIG_LOCATIONS[0]
MAX_BYTES = 256 * 1024  # a policy file; real ones are a few kilobytes


def config_location(existing: Iterable[str]) -> str | None:
    """Which of the `existing` repository paths is the configuration, if any."""
    present = set(existing)
    return next((path for path in CONFIG_LOCATIONS if path in present), None)


def _fail(source: str, message: str, line: int = 1, column: int = 1) -> ConfigError:
    return ConfigError([ConfigProblem(source, line, column, message)])


def _too_large(source: str) -> ConfigError:
    return _fail(source, f"file is larger than the limit of {MAX_BYTES} bytes")


def load_config_bytes(data: bytes, source: str = DEFAULT_SOURCE) -> RapidConfig:
    """`load_config` for file contents as stored: rejects oversized or non-UTF-8 input."""
    if len(data) > MAX_BYTES:
        raise _too_large(source)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line_start = data.rfind(b"\n", 0, error.start) + 1
        column = len(data[line_start : error.start].decode("utf-8", "replace")) + 1
        line = data.count(b"\n", 0, error.start) + 1
        bad = data[error.start : error.end].hex(" ")
        raise _fail(source, f"not valid UTF-8: cannot decode byte(s) {bad}", line, column) from None
    return load_config(text, source)


def load_config(text: str, source: str = DEFAULT_SOURCE) -> RapidConfig:
    """The configuration in `text`; raises ConfigError listing every problem found."""
    if len(text.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        raise _too_large(source)
    # yaml is imported by reading a config, not by every `rapidvet check` that has none.
    from rapidvet.workflows.config_yaml import parse_yaml

    document = parse_yaml(text, source)
    if document is None or document.data is None:
        raise _fail(source, "empty file: expected a mapping that starts with 'version: 1'")
    # jsonschema costs a sixth of a second to import: only reading a config pays for it.
    from rapidvet.workflows.config_schema import schema_problems

    problems = schema_problems(document, source)
    # Cross-checks too, in the same pass, so fixing the file takes one round: they look only
    # at the parts whose shape is right, and say nothing where the schema already spoke.
    spoken = {(problem.line, problem.column) for problem in problems}
    for path, message in _semantic_problems(_mapping(document.data)):
        problem = _problem_at(document, source, path, message)
        if (problem.line, problem.column) not in spoken:
            problems.append(problem)
    if problems:
        raise ConfigError(problems)
    return _config(document, source)


def _problem_at(document: YamlDocument, source: str, path: NodePath, message: str) -> ConfigProblem:
    position = document.value_position(path)
    return ConfigProblem(source, position.line, position.column, f"{where(path)}: {message}")


def _mapping(value: Any) -> dict[str, Any]:
    """`value` when it is a mapping, else an empty one: a cross-check skips a wrong shape."""
    return value if isinstance(value, dict) else {}


def _strings(value: Any) -> Iterator[tuple[int, str]]:
    """The text items of `value` with their indexes, when it is a list."""
    items = value if isinstance(value, list) else []
    return ((index, item) for index, item in enumerate(items) if isinstance(item, str))


def _holders(value: str | list[str]) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(value)


def _holder_paths(data: dict[str, Any]) -> Iterator[tuple[NodePath, str]]:
    """Every holder written in the file, with the path of the node that holds it."""
    places: list[tuple[NodePath, Any]] = [(("unavailable",), data.get("unavailable", []))]
    for index, rule in enumerate(_rules(data)):
        places += [
            (("paths", index, "roles", role), holders)
            for role, holders in _mapping(rule.get("roles")).items()
        ]
    for path, value in places:
        if isinstance(value, str):
            yield path, value
        else:
            yield from (((*path, index), holder) for index, holder in _strings(value))


def _rules(data: dict[str, Any]) -> list[dict[str, Any]]:
    """The `paths` entries, each as a mapping."""
    rules = data.get("paths")
    return [_mapping(rule) for rule in rules] if isinstance(rules, list) else []


def _semantic_problems(data: dict[str, Any]) -> Iterator[tuple[NodePath, str]]:
    aliases = data.get("aliases", {})
    alias_names = Names(aliases if isinstance(aliases, dict) else ())
    # Aliases of the wrong shape are the schema's to report; every holder would be unknown.
    for path, holder in _holder_paths(data) if isinstance(aliases, dict) else ():
        if not holder.startswith("@") and holder not in aliases:
            hint = alias_names.suggestion(holder) or "; define it under 'aliases' or write @user"
            yield path, f"unknown alias {quoted(holder)}{hint}"
    for index, rule in enumerate(_rules(data)):
        if not isinstance(pattern := rule.get("pattern"), str):
            continue
        try:
            compile_pattern(pattern)
        except PatternError as error:
            message = f"unsupported pattern {quoted(pattern)}: {error}"
            yield ("paths", index, "pattern"), message
    checks, rule_names = _mapping(data.get("checks")), Names(RULES)
    for rule_id in _mapping(checks.get("rules")):
        if rule_id not in RULES:
            hint = rule_names.suggestion(rule_id) or f"; rules are {', '.join(RULES)}"
            yield ("checks", "rules", rule_id), f"unknown rule {quoted(rule_id)}{hint}"
    kinds = checks.get("kinds")
    yield from _kind_problems([_mapping(k) for k in kinds] if isinstance(kinds, list) else [])


def _kind_problems(kinds: list[dict[str, Any]]) -> Iterator[tuple[NodePath, str]]:
    taken = {kind.name.casefold(): "built in" for kind in DEFAULT_KINDS}
    for index, kind in enumerate(kinds):
        name = kind.get("name")
        if isinstance(name, str):
            if name.casefold() in taken:
                message = f"kind {quoted(name)} is {taken[name.casefold()]}"
                yield ("checks", "kinds", index, "name"), message
            taken.setdefault(name.casefold(), f"already defined at checks.kinds[{index}]")
        seen: set[str] = set()
        for number, section in _strings(kind.get("sections")):
            if section.casefold() in seen:
                path = ("checks", "kinds", index, "sections", number)
                yield path, f"section {quoted(section)} is listed twice (names ignore case)"
            seen.add(section.casefold())


def _config(document: YamlDocument, source: str) -> RapidConfig:
    data: dict[str, Any] = document.data
    aliases: dict[str, str] = data.get("aliases", {})
    checks = data.get("checks", {})
    user_kinds = tuple(
        Kind(kind["name"], tuple(section.casefold() for section in kind["sections"]))
        for kind in checks.get("kinds", [])
    )
    settings = {key: value for key, value in checks.items() if key != "kinds"}
    policy = dict(data.get("policy", {}))
    if "required_roles" in policy:
        policy["required_roles"] = tuple(policy["required_roles"])
    return RapidConfig(
        version=data["version"],
        aliases=aliases,
        paths=tuple(
            PathRule(
                pattern=rule["pattern"],
                roles={role: _holders(value) for role, value in rule.get("roles", {}).items()},
                block=rule.get("block"),
                line=document.value_position(("paths", index)).line,
            )
            for index, rule in enumerate(data.get("paths", []))
        ),
        policy=Policy(**policy),
        unavailable=frozenset(
            aliases.get(holder, holder) for holder in _holders(data.get("unavailable", []))
        ),
        checks=ChecksSettings(**settings, kinds=DEFAULT_KINDS + user_kinds),
        merge=MergeSettings(**data.get("merge", {})),
        source=source,
    )
