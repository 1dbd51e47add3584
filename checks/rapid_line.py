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
# The expected form, in <placeholders>: a real-looking example gets pasted and committed.
TEMPLATE = "<Decider>(D), <team>(R, A, P & I)"
PROBLEM_CODES = (
    "unparseable",
    "no-decider",
    "two-deciders",
    "unknown-role",
    "empty-roles",
    "duplicate-holder",
)

_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")
# A holder is `name (roles)` with blanks around: read in steps, since a lazy name then
# `\s*` rescanned the blanks after every name character when no `(` followed.
_HOLDER_NAME = re.compile(r"@?\w[\w .'/&+-]*")
_HOLDER_ROLES = re.compile(r"\(([^()]*)\)")
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
    start, end = 0, len(plain)
    while width := _emphasis_width(plain, start, end):
        start, end = start + width, end - width
        while start < end and plain[start].isspace():
            start += 1
        while end > start and plain[end - 1].isspace():
            end -= 1
    return plain[start:end]


def _emphasis_width(text: str, start: int, end: int) -> int:
    """How many `*` or `_` (up to 3, widest first) open text[start:end] and close it too;
    0 when none do. Read by index, as the layers come off one by one."""
    for width in (3, 2, 1):
        marks = text[start : start + width]
        if (
            end - start >= 2 * width
            and marks in ("*" * width, "_" * width)
            and text.startswith(marks, end - width, end)
        ):
            return width
    return 0


def _written_holders(source: str) -> list[tuple[str, str]] | RapidProblem:
    """(name, role text) pairs as written, or the problem naming the unreadable part."""
    holders: list[tuple[str, str]] = []
    position = 0
    while position < len(source):
        if holders:
            separator = _HOLDER_SEPARATOR.match(source, position)
            position = separator.end() if separator else position
        holder = _holder_at(source, position)
        if holder is None:
            return _unparseable(source, position)
        name, roles, position = holder
        holders.append((name, roles))
    return holders if holders else _unparseable(source, 0)


def _holder_at(source: str, position: int) -> tuple[str, str, int] | None:
    r"""(name, role text, end) of the holder at `position`, blanks around it included. The
    name is the longest run of name characters without its trailing spaces, as the lazy
    regex `\s*(@?\w[\w .'/&+-]*?)\s*\(([^()]*)\)\s*` read it."""
    name = _HOLDER_NAME.match(source, _blank_end(source, position))
    if name is None:
        return None
    roles = _HOLDER_ROLES.match(source, _blank_end(source, name.end()))
    if roles is None:
        return None
    return name[0].rstrip(" "), roles[1], _blank_end(source, roles.end())


def _blank_end(text: str, position: int) -> int:
    while position < len(text) and text[position].isspace():
        position += 1
    return position


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
        f"{what}: expected HOLDER(ROLES) entries separated by commas: {TEMPLATE}",
    )


def _names(names: list[str]) -> str:
    return ", ".join(names[:-1]) + " and " + names[-1]


def _allowed() -> str:
    return ", ".join(ROLE_ORDER[:-1]) + " or " + ROLE_ORDER[-1]


def _line(text: str, holders: tuple[RapidHolder, ...], problems: list[RapidProblem]) -> RapidLine:
    return RapidLine(text, holders, tuple(p.message for p in problems), tuple(problems))
