"""Safe YAML reading for `rapid.yml`: plain data plus where every key and value starts.

Only the safe loader is used, and only JSON-like values come out. Aliases are followed
while converting, each reference counted again, so an alias bomb ("billion laughs")
stops at `MAX_NODES` instead of exhausting memory. Booleans are YAML 1.2's `true` and
`false` only: in YAML 1.1 `off` is false, which would turn `measures-numeric: off`
into a boolean.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import yaml

from rapidvet.workflows.config_errors import ConfigError, ConfigProblem

MAX_NODES = 100_000
MAX_DEPTH = 50

NodePath = tuple[str | int, ...]

_TAG = "tag:yaml.org,2002:"
_SCALAR_TAGS = frozenset(_TAG + name for name in ("str", "int", "float", "bool", "null"))
_MERGE_TAG = _TAG + "merge"
_BOOL_TAG = _TAG + "bool"
_TOO_DEEP = f"nested more than {MAX_DEPTH} levels deep"


class Position(NamedTuple):
    line: int
    column: int

    @classmethod
    def of(cls, mark: yaml.Mark) -> Position:
        return cls(mark.line + 1, mark.column + 1)


START = Position(1, 1)


@dataclass
class YamlDocument:
    """`data` with the position of each value and each mapping key, by path from the root."""

    data: Any
    values: dict[NodePath, Position] = field(default_factory=dict)
    keys: dict[NodePath, Position] = field(default_factory=dict)

    def value_position(self, path: NodePath) -> Position:
        return self.values.get(path, START)

    def key_position(self, path: NodePath) -> Position:
        return self.keys.get(path) or self.value_position(path)


class _Loader(yaml.SafeLoader):
    """The safe loader with YAML 1.2 booleans, no timestamps and bounded nesting."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        # The composer recurses once per level; refuse deep nesting before Python's stack does.
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
                raise yaml.composer.ComposerError(None, None, _TOO_DEEP, mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


_Loader.yaml_implicit_resolvers = {
    first: [
        (tag, regexp) for tag, regexp in resolvers if tag not in (_BOOL_TAG, _TAG + "timestamp")
    ]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    _BOOL_TAG, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


class _Converter:
    """Turns a composed node graph into plain data, recording positions on the way."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.document = YamlDocument(data=None)
        self.visited = 0
        self.scalars = yaml.constructor.SafeConstructor()

    def fail(self, node: yaml.Node, message: str) -> ConfigError:
        position = Position.of(node.start_mark)
        return ConfigError([ConfigProblem(self.source, position.line, position.column, message)])

    def visit(self, node: yaml.Node) -> None:
        # Count every visit, so an alias costs its full expansion each time it is used.
        self.visited += 1
        if self.visited > MAX_NODES:
            raise self.fail(
                node,
                f"the document expands to more than {MAX_NODES} nodes "
                "(aliases repeat what they refer to); write it out more simply",
            )

    def value(self, node: yaml.Node, path: NodePath) -> Any:
        self.visit(node)
        if len(path) > MAX_DEPTH:
            raise self.fail(node, _TOO_DEEP + " (an alias that refers to itself?)")
        self.document.values[path] = Position.of(node.start_mark)
        if isinstance(node, yaml.MappingNode) and node.tag == _TAG + "map":
            return self.mapping(node, path)
        if isinstance(node, yaml.SequenceNode) and node.tag == _TAG + "seq":
            return [self.value(item, (*path, index)) for index, item in enumerate(node.value)]
        if isinstance(node, yaml.ScalarNode) and node.tag in _SCALAR_TAGS:
            return self.scalar(node)
        raise self.fail(node, f"unsupported YAML tag {node.tag.replace(_TAG, '!!', 1)!r}")

    def scalar(self, node: yaml.ScalarNode) -> Any:
        try:
            value = self.scalars.construct_object(node)
        except (ValueError, KeyError) as error:
            # Only an explicit tag on text that does not fit it gets here, e.g. `!!int ten`.
            kind = node.tag.removeprefix(_TAG)
            raise self.fail(node, f"{node.value!r} is not a valid {kind}") from error
        # JSON Schema takes 365.0 for an integer; make it one so callers get an int too.
        return int(value) if isinstance(value, float) and value.is_integer() else value

    def mapping(self, node: yaml.MappingNode, path: NodePath) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = self.key(key_node)
            if key in result:
                first = self.document.keys[(*path, key)]
                raise self.fail(key_node, f"duplicate key {key!r} (first on line {first.line})")
            self.document.keys[(*path, key)] = Position.of(key_node.start_mark)
            result[key] = self.value(value_node, (*path, key))
        return result

    def key(self, node: yaml.Node) -> str:
        self.visit(node)
        if node.tag == _MERGE_TAG:
            raise self.fail(node, "merge keys ('<<') are not supported; use an alias instead")
        if not isinstance(node, yaml.ScalarNode):
            raise self.fail(node, "a key must be plain text, not a list or mapping")
        # Keys are names as written: `007:` is the alias "007", not the number 7.
        return str(node.value)


def _problem_from_yaml(error: yaml.YAMLError, text: str, source: str) -> ConfigProblem:
    if isinstance(error, yaml.MarkedYAMLError):
        mark = error.problem_mark or error.context_mark
        position = Position.of(mark) if mark else START
        details = [part for part in (error.context, error.problem) if part]
        return ConfigProblem(
            source, position.line, position.column, "invalid YAML: " + ", ".join(details)
        )
    if isinstance(error, yaml.reader.ReaderError):
        before = text[: error.position]
        line = before.count("\n") + 1
        column = len(before) - (before.rfind("\n") + 1) + 1
        return ConfigProblem(
            source, line, column, f"invalid YAML: unacceptable character {chr(error.character)!r}"
        )
    return ConfigProblem(source, START.line, START.column, f"invalid YAML: {error}")


def _composed(text: str) -> yaml.Node | None:
    loader = _Loader(text)
    try:
        return loader.get_single_node()
    finally:
        loader.dispose()


def parse_yaml(text: str, source: str) -> YamlDocument | None:
    """The single document in `text`, or None when there is none (empty or comments only).

    Raises ConfigError on invalid YAML, unsupported tags, duplicate keys and documents
    that nest or expand beyond the limits.
    """
    try:
        node = _composed(text)
    except yaml.YAMLError as error:
        raise ConfigError([_problem_from_yaml(error, text, source)]) from error
    if node is None:
        return None
    converter = _Converter(source)
    converter.document.data = converter.value(node, ())
    return converter.document
