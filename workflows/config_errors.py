"""Problems found in a `rapid.yml`, located by file, line and column (all 1-based)."""

from __future__ import annotations

import difflib
import itertools
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


# Problems listed for one file, and their characters at most: a hostile file can hold tens
# of thousands, and a check run's summary, which lists them, takes at most 65 535 characters.
MAX_PROBLEMS = 100
MAX_PROBLEM_CHARS = 50_000


class ConfigError(ValueError):
    """The configuration cannot be used; `problems` says where and why, in file order: the
    first MAX_PROBLEMS (fewer if long), then one that says how many more there are."""

    def __init__(self, problems: Iterable[ConfigProblem]) -> None:
        self.problems = _listed(sorted(set(problems)))
        super().__init__("\n".join(str(problem) for problem in self.problems))


def _listed(problems: list[ConfigProblem]) -> list[ConfigProblem]:
    """`problems` cut to the limits; the cut-off ones summed up where the first of them is."""
    chars = 0
    for count, problem in enumerate(problems):
        chars += len(str(problem))
        if count == MAX_PROBLEMS or chars > MAX_PROBLEM_CHARS:
            more = len(problems) - count
            message = f"… and {more} more problem{'s' if more > 1 else ''}; fix these first"
            return [
                *problems[:count],
                ConfigProblem(problem.source, problem.line, problem.column, message),
            ]
    return problems


def quoted(value: str | int | float) -> str:
    """`repr(value)`, with text cut to QUOTE_LIMIT characters before it is ever repr'd."""
    if not isinstance(value, str):
        return repr(value)
    # Slicing also makes a plain `str` of a subclass, whose own repr may call this.
    start = value[:QUOTE_LIMIT]
    return repr(start) if len(value) <= QUOTE_LIMIT else f"{start!r}... ({len(value)} characters)"


# Did-you-mean compares spelling with difflib, whose cost grows with the square of the
# lengths compared and with the number of choices: only names this short, against this many
# choices, for this many unknown names of a file (no more problems than that are shown).
SPELLING_LENGTH = 40
SPELLING_CHOICES = 100
SPELLING_LOOKUPS = 100


class Names:
    """The choices an unknown name is matched against, to suggest what it was meant to be.

    Built once per set of choices, so each look-up costs the same however many unknown names
    a hostile file holds: case is one dictionary look-up, spelling is bounded as above."""

    def __init__(self, choices: Iterable[str]) -> None:
        self.by_case: dict[str, str] = {}
        for choice in choices:
            self.by_case.setdefault(choice.casefold(), choice)
        spellable = (choice for choice in self.by_case.values() if len(choice) <= SPELLING_LENGTH)
        self.spellable = list(itertools.islice(spellable, SPELLING_CHOICES))
        self.lookups_left = SPELLING_LOOKUPS

    def closest(self, word: str) -> str | None:
        """The choice `word` was most likely meant to be (case first, then spelling), if any."""
        same_case = self.by_case.get(word.casefold())
        if same_case is not None or len(word) > SPELLING_LENGTH or self.lookups_left <= 0:
            return same_case
        self.lookups_left -= 1
        matches = difflib.get_close_matches(word, self.spellable, n=1, cutoff=0.6)
        return matches[0] if matches else None

    def suggestion(self, word: str) -> str:
        """`; did you mean 'x'?` when `word` looks like a misspelt choice, else nothing."""
        match = self.closest(word)
        return f"; did you mean {match!r}?" if match else ""


def suggestion(word: str, choices: Iterable[str]) -> str:
    """`Names.suggestion` for a single word."""
    return Names(choices).suggestion(word)


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
