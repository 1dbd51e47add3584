"""RAPID line parser: `IJT(D), MLT(R, A, P & I)` -> holders and their roles.

Grammar: holders separated by `,` (also `;`, `&` or `and`), each `HOLDER(ROLES)`. HOLDER is
initials, a team name (letters, digits, spaces and `. - ' & +`, as in `M&M`) or a handle
(`@jane`, `@org/team`). ROLES are R, A, P, I, D or their full words (Decide, ...), in any case,
separated by `,`, `&`, `and`, `/` or spaces. GitBook escapes (`\\(`), HTML entities (`&amp;`)
and emphasis around the whole line are undone before parsing.

A holder written twice (names compared case-insensitively, as handles are) has its roles
merged into the first mention and is reported, so the line still says who decides.
Unreadable text yields no holders and only the `unparseable` problem: the decider checks
would otherwise guess about the part that could not be read.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from dataclasses import dataclass

ROLE_ORDER = ("R", "A", "P", "I", "D")
ROLE_WORDS = {
    "recommend": "R",
    "agree": "A",
    "perform": "P",
    "input": "I",
    "decide": "D",
}
EXAMPLE = "IJT(D), MLT(R, A, P & I)"
PROBLEM_CODES = (
    "unparseable",
    "no-decider",
    "two-deciders",
    "unknown-role",
    "empty-roles",
    "duplicate-holder",
)

_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")
_EMPHASIS = re.compile(r"(\*{1,3}|_{1,3})(?P<inner>.*)\1", re.DOTALL)
_HOLDER = re.compile(
    r"\s*(?P<name>@?\w[\w .'/&+-]*?)\s*\((?P<roles>[^()]*)\)\s*",
)
_HOLDER_SEPARATOR = re.compile(r"\s*(?:[,;&]|\band\b)\s*", re.IGNORECASE)
_ROLE_SEPARATOR = re.compile(r"\s*(?:[,&/]|\band\b)\s*|\s+", re.IGNORECASE)


@dataclass(frozen=True)
class RapidHolder:
    name: str
    roles: tuple[str, ...]


@dataclass(frozen=True)
class RapidProblem:
    """One thing wrong with a RAPID line.

    `code` is one of PROBLEM_CODES, stable so a rule engine can map each to its own rule id.
    """

    code: str
    message: str


@dataclass(frozen=True)
class RapidLine:
    text: str
    holders: tuple[RapidHolder, ...]
    errors: tuple[str, ...]
    problems: tuple[RapidProblem, ...] = ()

    @property
    def decider(self) -> str | None:
        deciders = self.holders_with("D")
        return deciders[0] if len(deciders) == 1 else None

    def holders_with(self, role: str) -> tuple[str, ...]:
        return tuple(h.name for h in self.holders if role.upper() in h.roles)


def parse_rapid_line(text: str) -> RapidLine:
    """Parse a RAPID cell. Never raises: every defect is a `RapidProblem`."""
    source = _plain(text)
    written = _written_holders(source)
    if isinstance(written, RapidProblem):
        return _line(text, (), [written])
    problems: list[RapidProblem] = []
    roles_by_key: dict[str, tuple[str, list[str]]] = {}
    for name, role_text in written:
        roles = _roles(name, role_text, problems)
        key = name.casefold()
        if key in roles_by_key:
            problems.append(_duplicate(name))
            roles_by_key[key][1].extend(roles)
        else:
            roles_by_key[key] = (name, roles)
    holders = tuple(RapidHolder(name, _ordered(roles)) for name, roles in roles_by_key.values())
    problems.extend(_decider_problems(holders))
    return _line(text, holders, problems)


def format_rapid_line(holders: Iterable[RapidHolder]) -> str:
    """Canonical text, the corpus's dominant style: `IJT(D), MLT(R, A, P & I)`.

    Holders are joined by ", "; roles by ", ", except that three or more roles join the
    last two with " & " (two roles stay `R, D`, as the corpus writes them).
    """
    return ", ".join(f"{h.name}({_role_list(h.roles)})" for h in holders)


def _role_list(roles: tuple[str, ...]) -> str:
    if len(roles) < 3:
        return ", ".join(roles)
    return ", ".join(roles[:-1]) + " & " + roles[-1]


def _plain(text: str) -> str:
    """The line without markdown escapes, HTML entities or surrounding emphasis."""
    plain = html.unescape(_ESCAPE.sub(r"\1", text)).strip()
    while match := _EMPHASIS.fullmatch(plain):
        plain = match["inner"].strip()
    return plain


def _written_holders(source: str) -> list[tuple[str, str]] | RapidProblem:
    """(name, role text) pairs as written, or the problem naming the unreadable part."""
    holders: list[tuple[str, str]] = []
    position = 0
    while position < len(source):
        if holders:
            separator = _HOLDER_SEPARATOR.match(source, position)
            position = separator.end() if separator else position
        match = _HOLDER.match(source, position)
        if match is None:
            return _unparseable(source, position)
        holders.append((match["name"], match["roles"]))
        position = match.end()
    return holders if holders else _unparseable(source, 0)


def _roles(name: str, role_text: str, problems: list[RapidProblem]) -> list[str]:
    words = [w for w in _ROLE_SEPARATOR.split(role_text) if w]
    if not words:
        problems.append(
            RapidProblem(
                "empty-roles",
                f"{name} has no roles between the parentheses; give at least one of {_allowed()}",
            )
        )
    roles = []
    for word in words:
        role = _role(word)
        if role is None:
            problems.append(
                RapidProblem(
                    "unknown-role",
                    f'"{word}" given to {name} is not a RAPID role; use {_allowed()}',
                )
            )
        else:
            roles.append(role)
    return roles


def _role(word: str) -> str | None:
    upper = word.upper()
    return upper if upper in ROLE_ORDER else ROLE_WORDS.get(word.casefold())


def _ordered(roles: list[str]) -> tuple[str, ...]:
    return tuple(r for r in ROLE_ORDER if r in roles)


def _decider_problems(holders: tuple[RapidHolder, ...]) -> list[RapidProblem]:
    deciders = [h.name for h in holders if "D" in h.roles]
    if not deciders:
        return [RapidProblem("no-decider", "no holder has D (Decide); exactly one must")]
    if len(deciders) > 1:
        both = "both" if len(deciders) == 2 else "all"
        return [
            RapidProblem(
                "two-deciders",
                f"{_names(deciders)} {both} have D (Decide); exactly one holder may decide",
            )
        ]
    return []


def _duplicate(name: str) -> RapidProblem:
    return RapidProblem(
        "duplicate-holder",
        f"{name} is listed more than once; list each holder once with all its roles",
    )


def _unparseable(source: str, position: int) -> RapidProblem:
    rest = source[position:].strip()
    what = f'cannot read "{rest}"' if rest else "the RAPID line is empty"
    return RapidProblem(
        "unparseable",
        f"{what}: expected HOLDER(ROLES) entries separated by commas, e.g. {EXAMPLE}",
    )


def _names(names: list[str]) -> str:
    return ", ".join(names[:-1]) + " and " + names[-1]


def _allowed() -> str:
    return ", ".join(ROLE_ORDER[:-1]) + " or " + ROLE_ORDER[-1]


def _line(text: str, holders: tuple[RapidHolder, ...], problems: list[RapidProblem]) -> RapidLine:
    return RapidLine(text, holders, tuple(p.message for p in problems), tuple(problems))
