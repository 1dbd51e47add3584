"""The shipped JSON Schema for `rapid.yml`, and its errors as located, readable problems.

jsonschema writes `repr(instance)` into each error's message as it makes the error, for
every failing value, whether or not the message is read: a megabyte of text repeated
through aliases once cost hundreds of megabytes. The validator therefore sees a view of
the document whose text, lists and mappings have short reprs, and problems are worded
here from each error's keyword and path, quoting at most QUOTE_LIMIT characters.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files
from typing import Any

from jsonschema import Draft202012Validator, ValidationError

from rapidvet.workflows.config_errors import ConfigProblem, closest, quoted, where
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


@lru_cache(maxsize=1)
def _validator() -> Draft202012Validator:
    schema = config_schema()
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


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


def _unknown_key(key: str, allowed: list[str]) -> str:
    match = closest(key, allowed)
    if match:
        return f"unknown key {quoted(key)}; did you mean {match!r}?"
    if allowed:
        return f"unknown key {quoted(key)}; expected one of {', '.join(map(repr, allowed))}"
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


def _located(failure: _Failure, document: YamlDocument) -> Iterator[tuple[Position, str]]:
    """Where in the file `failure` is, and what to say about it there."""
    path, found = failure.path, failure.found
    if failure.about_key:
        message = f"bad key {shown(found)}: expected {failure.schema['description']}"
        yield document.key_position((*path, found)), message
    elif failure.keyword == "additionalProperties":
        allowed = list(failure.schema.get("properties", {}))
        for key in found:
            if key not in allowed:
                yield document.key_position((*path, key)), _unknown_key(key, allowed)
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
            repeated = next(item for index, item in enumerate(found) if item in found[:index])
            return f"{shown(repeated)} is listed twice"
        case "pattern":
            return f"expected {failure.schema['description']}, got {shown(found)}"
    return f"does not satisfy the schema's {failure.keyword!r}"


def schema_problems(document: YamlDocument, source: str) -> list[ConfigProblem]:
    """Each way `document` breaks the schema, at the line and column of the offending node."""
    problems = []
    for error in _validator().iter_errors(_briefly_shown(document.data)):
        failure = _Failure.of(error)
        prefix = f"{where(failure.path)}: " if failure.path else ""
        for position, message in _located(failure, document):
            problems.append(ConfigProblem(source, position.line, position.column, prefix + message))
    return problems
