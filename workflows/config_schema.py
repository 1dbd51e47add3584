"""The shipped JSON Schema for `rapid.yml`, and its errors as located, readable problems.

jsonschema writes `repr(instance)` into each error's message as it makes the error, for
every failing value, whether or not the message is read: a megabyte of text repeated
through aliases once cost hundreds of megabytes. The validator therefore sees a view of
the document whose text, lists and mappings have short reprs, and problems are worded
here from each error's keyword and path, quoting at most QUOTE_LIMIT characters.
"""

from __future__ import annotations

import json
from collections.abc import Hashable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files
from typing import Any

from jsonschema import Draft202012Validator, ValidationError, validators
from jsonschema.protocols import Validator

from rapidvet.workflows.config_errors import ConfigProblem, Names, quoted, where
from rapidvet.workflows.config_yaml import NodePath, Position, YamlDocument

SCHEMA_FILE = "rapid_config.schema.json"

_TYPE_NAMES = {
    "object": "a mapping",
    "array": "a list",
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false",
    "null": "nothing",
}


@lru_cache(maxsize=1)
def config_schema() -> Mapping[str, Any]:
    """The JSON Schema (draft 2020-12) that `rapid.yml` must satisfy."""
    text = files("rapidvet.workflows").joinpath(SCHEMA_FILE).read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def _canonical(value: Any) -> Hashable:
    """`value` as a key that is equal for values JSON Schema calls equal: `1` and `1.0` are,
    `true` and `1` are not."""
    if isinstance(value, bool):
        return (bool, value)
    if isinstance(value, list):
        return (list, tuple(map(_canonical, value)))
    if isinstance(value, dict):
        return (dict, frozenset((key, _canonical(item)) for key, item in value.items()))
    scalar: Hashable = value  # text, a number or nothing
    return scalar


def repeated_index(items: Sequence[Any]) -> int | None:
    """The index of the first item equal to an earlier one, if any: one pass over `items`."""
    seen: set[Hashable] = set()
    for index, item in enumerate(items):
        key = _canonical(item)
        if key in seen:
            return index
        seen.add(key)
    return None


def _unique_items(
    validator: Validator, unique: bool, instance: Any, schema: Mapping[str, Any]
) -> Iterator[ValidationError]:
    # jsonschema's own check compares every pair of items when they do not sort (a list of
    # text and numbers): six seconds for 4 000 items. This one hashes each item once.
    if unique and validator.is_type(instance, "array") and repeated_index(instance) is not None:
        yield ValidationError("has repeated items")


@lru_cache(maxsize=1)
def _validator() -> Validator:
    schema = config_schema()
    Draft202012Validator.check_schema(schema)
    linear: type[Validator] = validators.extend(  # type: ignore[no-untyped-call]
        Draft202012Validator, {"uniqueItems": _unique_items}
    )
    return linear(schema)


def shown(value: Any) -> str:
    """`value` as a message shows what was found: text quoted, collections by kind."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return quoted(value)
    if value is None:
        return _TYPE_NAMES["null"]
    return _TYPE_NAMES["object" if isinstance(value, dict) else "array"]


def _expected_type(expected: str | list[str]) -> str:
    names = [expected] if isinstance(expected, str) else expected
    return " or ".join(_TYPE_NAMES[name] for name in names)


def _unknown_key(key: str, allowed: Names) -> str:
    match = allowed.closest(key)
    if match:
        return f"unknown key {quoted(key)}; did you mean {match!r}?"
    if allowed.by_case:
        names = ", ".join(map(repr, allowed.by_case.values()))
        return f"unknown key {quoted(key)}; expected one of {names}"
    return f"unknown key {quoted(key)}"


class _Text(str):
    __slots__ = ()

    def __repr__(self) -> str:
        return quoted(self)


class _List(list[Any]):
    def __repr__(self) -> str:
        return f"<a list of {len(self)} items>"


class _Mapping(dict[str, Any]):
    def __repr__(self) -> str:
        return f"<a mapping of {len(self)} keys>"


def _briefly_shown(value: Any) -> Any:
    """`value` as the validator sees it: equal, of the same JSON types, with short reprs."""
    if isinstance(value, str):
        return _Text(value)
    if isinstance(value, list):
        return _List(_briefly_shown(item) for item in value)
    if isinstance(value, dict):
        return _Mapping({_Text(key): _briefly_shown(item) for key, item in value.items()})
    return value  # numbers are at most 63 bits, booleans and nothing are short already


@dataclass(frozen=True)
class _Failure:
    """What a jsonschema error says, typed: the keyword, its value and what was found."""

    keyword: str
    expected: Any
    found: Any
    schema: Mapping[str, Any]
    path: NodePath
    about_key: bool

    @classmethod
    def of(cls, error: ValidationError) -> _Failure:
        return cls(
            keyword=str(error.validator),
            expected=error.validator_value,
            found=error.instance,
            schema=error.schema if isinstance(error.schema, Mapping) else {},
            path=tuple(error.absolute_path),
            # propertyNames checks the key itself, not its value.
            about_key="propertyNames" in error.absolute_schema_path,
        )


# The keys each mapping of the schema allows, as Names to match an unknown key against:
# one per mapping, so the did-you-mean limits hold for the whole file.
_KeyNames = dict[tuple[str, ...], Names]


def _located(
    failure: _Failure, document: YamlDocument, key_names: _KeyNames
) -> Iterator[tuple[Position, str]]:
    """Where in the file `failure` is, and what to say about it there."""
    path, found = failure.path, failure.found
    if failure.about_key:
        message = f"bad key {shown(found)}: expected {failure.schema['description']}"
        yield document.key_position((*path, found)), message
    elif failure.keyword == "additionalProperties":
        allowed = tuple(failure.schema.get("properties", {}))
        names = key_names.setdefault(allowed, Names(allowed))
        for key in found:
            if key not in allowed:
                yield document.key_position((*path, key)), _unknown_key(key, names)
    elif failure.keyword == "required":
        for key in failure.expected:
            if key not in found:
                yield document.value_position(path), f"missing required key {key!r}"
    else:
        yield document.value_position(path), _value_message(failure)


def _value_message(failure: _Failure) -> str:
    expected, found = failure.expected, failure.found
    match failure.keyword:
        case "type":
            return f"expected {_expected_type(expected)}, got {shown(found)}"
        case "enum":
            return f"expected one of {', '.join(map(shown, expected))}, got {shown(found)}"
        case "const":
            return f"expected {shown(expected)}, got {shown(found)}"
        case "minimum":
            return f"expected at least {expected}, got {shown(found)}"
        case "minItems":
            return f"expected at least {expected} item(s), got {len(found)}"
        case "maxItems":
            return f"expected {failure.schema['description']}, got {len(found)}"
        case "minLength":
            return "expected some text, got an empty string"
        case "maxLength":
            return f"expected at most {expected} characters, got {len(found)}"
        case "uniqueItems":
            return f"{shown(found[repeated_index(found) or 0])} is listed twice"
        case "pattern":
            return f"expected {failure.schema['description']}, got {shown(found)}"
    return f"does not satisfy the schema's {failure.keyword!r}"


def schema_problems(document: YamlDocument, source: str) -> list[ConfigProblem]:
    """Each way `document` breaks the schema, at the line and column of the offending node."""
    problems = []
    key_names: _KeyNames = {}
    for error in _validator().iter_errors(_briefly_shown(document.data)):
        failure = _Failure.of(error)
        prefix = f"{where(failure.path)}: " if failure.path else ""
        for position, message in _located(failure, document, key_names):
            problems.append(ConfigProblem(source, position.line, position.column, prefix + message))
    return problems
