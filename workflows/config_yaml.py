"""Safe YAML reading for `rapid.yml`: plain data plus where every key and value starts.

Only the safe loader is used, and only JSON-like values come out. An alias repeats
everything it refers to, so an alias bomb ("billion laughs") is measured as if written
out: composing stops at the alias that takes the text past `MAX_EXPANDED_BYTES`, and
converting at `MAX_NODES` values, long before either exhausts memory. Booleans are
YAML 1.2's `true` and `false` only: in YAML 1.1 `off` is false, which would turn
`measures-numeric: off` into a boolean.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import yaml

from rapidvet.workflows.config_errors import QUOTE_LIMIT, ConfigError, ConfigProblem, quoted

MAX_NODES = 100_000
MAX_DEPTH = 50
# Every count in rapid.yml fits; beyond 4300 digits Python cannot even print an integer.
MAX_INTEGER_BITS = 63
# UTF-8 bytes of every key and scalar, each alias counted as what it refers to: four times
# the largest file allowed, so aliases still save typing but cannot multiply memory.
MAX_EXPANDED_BYTES = 1024 * 1024

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
    def of(cls, mark: yaml.Mark | yaml._yaml.Mark) -> Position:
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
    """The safe loader with YAML 1.2 booleans, no timestamps, bounded nesting and a bounded
    expanded size."""

    def __init__(self, stream: str, source: str) -> None:
        super().__init__(stream)
        self._source = source
        self._depth = 0
        self._expanded = 0  # bytes of text composed so far, aliases counted in full
        self._anchored: dict[yaml.Node, int] = {}  # expanded bytes of each anchored node

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        # The composer recurses once per level; refuse deep nesting before Python's stack does.
        self._depth += 1
        try:
            event = self.peek_event()  # type: ignore[no-untyped-call]
            if self._depth > MAX_DEPTH:
                raise yaml.composer.ComposerError(None, None, _TOO_DEEP, event.start_mark)
            before = self._expanded
            node = super().compose_node(parent, index)
            if node is not None:
                self._measure(node, event, before)
            return node
        finally:
            self._depth -= 1

    def _measure(self, node: yaml.Node, event: yaml.Event, before: int) -> None:
        """Adds what `node` brings to the document's expanded size, just composed from `event`."""
        if isinstance(event, yaml.AliasEvent):
            # Absent while the anchored node is still open: a self-reference, which
            # converting refuses as too deep.
            self._expand(self._anchored.get(node, 0), event)
            return
        if isinstance(node, yaml.ScalarNode):
            self._expand(len(node.value.encode("utf-8", "surrogatepass")), event)
        if isinstance(event, yaml.NodeEvent) and event.anchor is not None:
            self._anchored[node] = self._expanded - before

    def _expand(self, size: int, event: yaml.Event) -> None:
        self._expanded += size
        if self._expanded > MAX_EXPANDED_BYTES:
            what = "this alias takes" if isinstance(event, yaml.AliasEvent) else "this text takes"
            position = Position.of(event.start_mark) if event.start_mark else START
            message = (
                f"{what} the document past {MAX_EXPANDED_BYTES} bytes with aliases written "
                "out (each use repeats what it refers to); repeat less through aliases"
            )
            raise ConfigError([ConfigProblem(self._source, *position, message)])


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
        raise self.fail(node, f"unsupported YAML tag {quoted(node.tag.replace(_TAG, '!!', 1))}")

    def scalar(self, node: yaml.ScalarNode) -> Any:
        try:
            value = self.scalars.construct_object(node)
        except (ValueError, KeyError) as error:
            # Only an explicit tag on text that does not fit it gets here, e.g. `!!int ten`.
            kind = node.tag.removeprefix(_TAG)
            raise self.fail(node, f"{quoted(node.value)} is not a valid {kind}") from error
        # JSON Schema takes 365.0 for an integer; make it one so callers get an int too.
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, int) and value.bit_length() > MAX_INTEGER_BITS:
            raise self.fail(node, f"integer too large: more than {MAX_INTEGER_BITS} bits")
        return value

    def mapping(self, node: yaml.MappingNode, path: NodePath) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = self.key(key_node)
            if key in result:
                first = self.document.keys[(*path, key)]
                message = f"duplicate key {quoted(key)} (first on line {first.line})"
                raise self.fail(key_node, message)
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


def _shortened(detail: str) -> str:
    # PyYAML quotes names from the file in full, e.g. an undefined alias a megabyte long.
    limit = 2 * QUOTE_LIMIT
    return detail if len(detail) <= limit else detail[:limit] + "..."


def _problem_from_yaml(error: yaml.YAMLError, text: str, source: str) -> ConfigProblem:
    if isinstance(error, yaml.MarkedYAMLError):
        details = [_shortened(part) for part in (error.context, error.problem) if part]
        problem = error.problem_mark
        opened = _unclosed_quote(text, problem) if problem else None
        if opened is not None and problem is not None:
            quote = f"the quoted text opened here runs on to line {problem.line + 1}"
            details.insert(0, quote + " (is its closing quote missing?)")
            position = opened
        else:
            # A scanner error's context is where its token began, e.g. an unclosed quote's
            # opening: where the mistake is, not where the file ran out.
            scanner = isinstance(error, yaml.scanner.ScannerError)
            marks = (error.context_mark, problem) if scanner else (problem, error.context_mark)
            mark = next((m for m in marks if m is not None), None)
            position = Position.of(mark) if mark else START
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
    message = f"invalid YAML: {_shortened(str(error))}"
    return ConfigProblem(source, START.line, START.column, message)


def _unclosed_quote(text: str, problem: yaml.Mark) -> Position | None:
    """Where a quoted scalar opens that runs over several lines to the problem's line: with
    its closing quote missing, the next quote in the file closes it, and the parser fails
    lines below the mistake."""
    opened = None
    try:
        for token in yaml.scan(text, Loader=yaml.SafeLoader):
            if token.start_mark.index >= problem.index:
                break
            if not isinstance(token, yaml.ScalarToken) or token.style not in ("'", '"'):
                continue
            start, end = token.start_mark, token.end_mark
            if start.line < end.line == problem.line:
                opened = Position.of(start)
    except yaml.YAMLError:
        pass  # the scan fails where parsing did; the tokens before it are all it needs
    return opened


def _composed(text: str, source: str) -> yaml.Node | None:
    loader = _Loader(text, source)
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
        node = _composed(text, source)
    except yaml.YAMLError as error:
        raise ConfigError([_problem_from_yaml(error, text, source)]) from error
    if node is None:
        return None
    converter = _Converter(source)
    converter.document.data = converter.value(node, ())
    return converter.document
