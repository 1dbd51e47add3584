"""Problems found in a `rapid.yml`, located by file, line and column (all 1-based)."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

# Most characters of a value a message quotes: a hostile rapid.yml can hold megabytes of
# text, and each problem is shown in a check run, a log line and a terminal.
QUOTE_LIMIT = 100


@dataclass(frozen=True, order=True)
class ConfigProblem:
    source: str
    line: int
    column: int
    message: str

    def __str__(self) -> str:
        return f"{self.source}:{self.line}:{self.column}: {self.message}"


class ConfigError(ValueError):
    """The configuration cannot be used; `problems` says where and why, in file order."""

    def __init__(self, problems: Iterable[ConfigProblem]) -> None:
        self.problems = sorted(set(problems))
        super().__init__("\n".join(str(problem) for problem in self.problems))


def quoted(value: str | int | float) -> str:
    """`repr(value)`, with text cut to QUOTE_LIMIT characters before it is ever repr'd."""
    if not isinstance(value, str):
        return repr(value)
    # Slicing also makes a plain `str` of a subclass, whose own repr may call this.
    start = value[:QUOTE_LIMIT]
    return repr(start) if len(value) <= QUOTE_LIMIT else f"{start!r}... ({len(value)} characters)"


def closest(word: str, choices: Iterable[str]) -> str | None:
    """The choice `word` was most likely meant to be (case first, then spelling), if any."""
    options = list(choices)
    same_case = [option for option in options if option.casefold() == word.casefold()]
    if same_case:
        return same_case[0]
    matches = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    return matches[0] if matches else None


def suggestion(word: str, choices: Iterable[str]) -> str:
    """`; did you mean 'x'?` when `word` looks like a misspelt choice, else nothing."""
    match = closest(word, choices)
    return f"; did you mean {match!r}?" if match else ""


_PLAIN_KEY = re.compile(r"[A-Za-z0-9_-]+")


def where(path: Sequence[str | int]) -> str:
    """`path` written the way a reader finds it in the file: `paths[0].roles.D`."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        elif len(part) <= QUOTE_LIMIT and _PLAIN_KEY.fullmatch(part):
            text += f".{part}" if text else part
        else:
            text += f"[{quoted(part)}]"
    return text
