"""Path patterns with GitHub CODEOWNERS semantics.

CODEOWNERS patterns are gitignore patterns with three differences GitHub documents:
`docs/*` matches only direct children of `docs`, there is no `!` negation, and `[ ]`
are literal characters rather than ranges. Paths are repository-relative file paths
without a leading slash; matching is case-sensitive like GitHub's file system.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from rapidvet.checks.glob import Glob, any_char, literal
from rapidvet.checks.glob import Step as GlobStep
from rapidvet.workflows.rapid_config import PathRule

_GLOBSTAR = "**"
# One whole path segment, for a lone `*` and for "something beneath" a directory.
_ANY_NAME = Glob((GlobStep(any_char), GlobStep(any_char, star=True)))

# A step matches one path segment (a compiled name) or, as None, any number of them (`**`).
Step = Glob | None


class PatternError(ValueError):
    """A pattern GitHub would not accept, or would read differently than it looks."""


@dataclass(frozen=True)
class Pattern:
    text: str
    steps: tuple[Step, ...]

    def matches(self, path: str) -> bool:
        # Track every step reachable after each segment instead of backtracking, so a
        # pattern with several `**` costs (segments x steps), never exponential time.
        reachable = self._after_globstars({0})
        for segment in path.split("/"):
            taken = set()
            for index in reachable - {len(self.steps)}:
                step = self.steps[index]
                if step is None:
                    taken.add(index)
                elif step.fullmatch(segment):
                    taken.add(index + 1)
            reachable = self._after_globstars(taken)
            if not reachable:
                return False
        return len(self.steps) in reachable

    def _after_globstars(self, reachable: set[int]) -> set[int]:
        """`reachable` plus the steps a `**` lets through without taking a segment."""
        result = set(reachable)
        for index in reachable:
            while index < len(self.steps) and self.steps[index] is None:
                index += 1
                result.add(index)
        return result


def _rejection(pattern: str) -> str | None:
    """Why GitHub would not take `pattern` as a path pattern, or None when it would."""
    if not pattern:
        return "empty pattern"
    if pattern.startswith("!"):
        return "negation ('!') is not supported in CODEOWNERS patterns"
    if pattern.startswith("#"):
        return (
            "a pattern cannot start with '#', which starts a CODEOWNERS comment; use '/#' or '**/#'"
        )
    if pattern.strip("/") == "":
        return "the pattern names no file; use '*' to match every file"
    return None


def _split(pattern: str) -> list[str]:
    """`pattern` split on unescaped slashes, each part still escaped as written."""
    parts: list[str] = []
    current: list[str] = []
    chars = iter(pattern)
    for char in chars:
        if char == "\\":
            escaped = next(chars, None)
            if escaped is None:
                raise PatternError(
                    "the pattern ends with a lone '\\'; write '\\\\' for a backslash"
                )
            current.append(char + escaped)
        elif char == "/":
            parts.append("".join(current))
            current = []
        elif char.isspace():
            # In CODEOWNERS whitespace ends the pattern, so a literal one must be escaped.
            raise PatternError(f"unescaped whitespace {char!r}; write '\\ ' for a literal space")
        else:
            current.append(char)
    parts.append("".join(current))
    return parts


def _name(name: str) -> Glob:
    """One segment as written (not `**`); `*` and `?` stay within the segment."""
    if name == "*":
        return _ANY_NAME
    steps: list[GlobStep] = []
    chars = iter(name)
    for char in chars:
        if char == "*":
            steps.append(GlobStep(any_char, star=True))
        elif char == "?":
            steps.append(GlobStep(any_char))
        else:
            steps.append(literal(next(chars) if char == "\\" else char))
    return Glob(tuple(steps))


def _steps(names: list[str], anchored: bool) -> tuple[Step, ...]:
    steps: list[Step] = [] if anchored else [None]
    for index, name in enumerate(names):
        if name != _GLOBSTAR:
            steps.append(_name(name))
        elif index == len(names) - 1:
            steps += [_ANY_NAME, None]  # `dir/**`: everything beneath, not `dir` itself
        else:
            steps.append(None)
    if names[-1] not in ("*", _GLOBSTAR):
        # A name matches a file or everything beneath a directory of that name; `docs/*`
        # is GitHub's exception and covers only the direct children.
        steps.append(None)
    return tuple(steps)


@lru_cache(maxsize=1024)
def compile_pattern(pattern: str) -> Pattern:
    """`pattern` compiled for matching; raises PatternError for syntax GitHub rejects."""
    reason = _rejection(pattern)
    if reason is not None:
        raise PatternError(reason)
    parts = _split(pattern)
    leading, trailing = parts[0] == "", parts[-1] == ""
    names = parts[int(leading) : len(parts) - int(trailing)]
    if "" in names:
        raise PatternError("empty path segment ('//')")
    # A slash at the start or in the middle anchors the pattern at the repository root.
    anchored = leading or len(names) > 1
    if trailing:
        # `dir/` stands for everything beneath the directory, like `dir/**`.
        names.append(_GLOBSTAR)
    return Pattern(pattern, _steps(names, anchored))


def pattern_matches(pattern: str, path: str) -> bool:
    return compile_pattern(pattern).matches(path)


def last_match(rules: Sequence[PathRule], path: str) -> PathRule | None:
    """The rule that governs `path`: as in CODEOWNERS, the last matching entry wins."""
    return next((rule for rule in reversed(rules) if pattern_matches(rule.pattern, path)), None)
