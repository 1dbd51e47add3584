"""Wildcard patterns matched without backtracking.

A pattern is a sequence of steps, each taking one character that passes its test, or, for a
star, any number of them. The matcher follows every placement at once (the set of steps
reached so far), so a pattern such as `*a*a*a*b` costs at most len(text) x len(pattern) steps,
where a regex built from it (`.*a.*a.*a.*b`) backtracks polynomially in the text.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

CharTest = Callable[[str], bool]


@dataclass(frozen=True)
class Step:
    test: CharTest
    star: bool = False  # zero or more characters passing `test`, else exactly one


def any_char(char: str) -> bool:
    return True


def literal(expected: str) -> Step:
    return Step(lambda char: char == expected)


@dataclass(frozen=True)
class Glob:
    steps: tuple[Step, ...]

    def fullmatch(self, text: str) -> bool:
        """Whether the whole of `text` is matched (named like `re.Pattern.fullmatch`)."""
        reached = self._past_stars({0})
        for char in text:
            taken = set()
            for index in reached:
                if index < len(self.steps) and self.steps[index].test(char):
                    taken.add(index if self.steps[index].star else index + 1)
            if not taken:
                return False
            reached = self._past_stars(taken)
        return len(self.steps) in reached

    def _past_stars(self, reached: set[int]) -> set[int]:
        """`reached` plus the steps after stars that take no character."""
        result = set(reached)
        for index in reached:
            while index < len(self.steps) and self.steps[index].star:
                index += 1
                result.add(index)
        return result
