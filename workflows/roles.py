"""Who holds which RAPID role for a block, and where that was written
(docs/architecture.md#policy).

The last `paths:` entry that matches the file wins, as in CODEOWNERS; an entry with a
`block:` only counts for blocks whose title matches it, so an earlier entry can apply to
the others. Without a matching entry the document's own RAPID line, resolved through
`aliases`, names the holders; with neither the block is unowned.

`block:` matching: case-insensitive, against the normalized title (markup, "(TBA)" and
extra spaces removed). Plain text matches anywhere in the title ("Sales VPMOM" matches
"FY21 Sales VPMOM"); a pattern with `*` or `?` must match the whole title, `*` standing
for any text and `?` for one character ("FY2? Sales VPMOM").
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from rapidvet.checks.glob import Glob, Step, any_char, literal
from rapidvet.checks.model import Block
from rapidvet.checks.rapid_line import parse_rapid_line
from rapidvet.workflows.changes import normalized_title
from rapidvet.workflows.codeowners import last_match
from rapidvet.workflows.rapid_config import RapidConfig

# Table order: the roles that decide first, then the ones that only inform.
ROLE_ORDER = ("D", "A", "R", "P", "I")


class Origin(StrEnum):
    CONFIG = "config"
    DOCUMENT = "document"


@dataclass(frozen=True)
class RoleSource:
    """The config `paths:` entry or the document RAPID row that named a block's holders."""

    origin: Origin
    path: str
    line: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line}"


@dataclass(frozen=True)
class Holder:
    """A role holder as written (`IJT`, `@jane`, `@org/team`) and the handle it stands
    for; `handle` is None for a name that is neither a handle nor a known alias."""

    name: str
    handle: str | None

    @property
    def is_team(self) -> bool:
        return self.handle is not None and "/" in self.handle

    @property
    def login(self) -> str | None:
        return None if self.handle is None or self.is_team else self.handle[1:]

    @property
    def team(self) -> str | None:
        """The team slug (what GitHub's review requests take), without the org."""
        return self.handle.rsplit("/", 1)[1] if self.handle and self.is_team else None

    def outside(self, org: str | None) -> bool:
        """Whether this is a team of another organization than `org` (None: any goes)."""
        owner = self.handle[1:].split("/", 1)[0] if self.handle and self.is_team else None
        return org is not None and owner is not None and owner.casefold() != org.casefold()

    @property
    def key(self) -> str:
        """Identity for comparisons: logins and team slugs are case-insensitive."""
        return (self.handle or self.name).casefold()

    def __str__(self) -> str:
        if self.handle is None or self.handle == self.name:
            return self.handle or self.name
        return f"{self.name} ({self.handle})"


@dataclass(frozen=True)
class BlockRoles:
    """Holders per role letter; `source` None means the block is unowned."""

    source: RoleSource | None = None
    holders: Mapping[str, tuple[Holder, ...]] = field(default_factory=dict)

    @property
    def owned(self) -> bool:
        return self.source is not None

    def of(self, role: str) -> tuple[Holder, ...]:
        return self.holders.get(role, ())

    def keys(self, role: str) -> frozenset[str]:
        return frozenset(holder.key for holder in self.of(role))


UNOWNED = BlockRoles()


def resolve_holder(name: str, aliases: Mapping[str, str]) -> Holder:
    name = name.strip()
    if name.startswith("@"):
        return Holder(name, name)
    handle = aliases.get(name)
    if handle is None:
        return Holder(name, None)
    return Holder(name, handle if handle.startswith("@") else f"@{handle}")


def title_matches(pattern: str, title: str) -> bool:
    wanted, text = normalized_title(pattern), normalized_title(title)
    if not any(char in wanted for char in "*?"):
        return wanted in text
    steps = (
        Step(any_char, star=True)
        if char == "*"
        else Step(any_char)
        if char == "?"
        else literal(char)
        for char in wanted
    )
    return Glob(tuple(steps)).fullmatch(text)


def config_roles(config: RapidConfig, path: str, block: Block) -> BlockRoles | None:
    """Holders from the last `paths:` entry matching the file and the block's title."""
    rules = [r for r in config.paths if r.block is None or title_matches(r.block, block.title)]
    rule = last_match(rules, path)
    if rule is None:
        return None
    return BlockRoles(
        RoleSource(Origin.CONFIG, config.source, rule.line),
        _resolved(((role, names) for role, names in rule.roles.items()), config),
    )


def document_roles(config: RapidConfig, path: str, block: Block) -> BlockRoles | None:
    """Holders from the block's RAPID row; None without a row or a readable holder."""
    row = block.row("RAPID")
    if row is None:
        return None
    line = parse_rapid_line(row.value)
    if not line.holders:
        return None
    named = ((role, line.holders_with(role)) for role in ROLE_ORDER)
    return BlockRoles(RoleSource(Origin.DOCUMENT, path, row.line), _resolved(named, config))


def block_roles(config: RapidConfig, path: str, block: Block) -> BlockRoles:
    return config_roles(config, path, block) or document_roles(config, path, block) or UNOWNED


def mismatched_roles(first: BlockRoles, second: BlockRoles, roles: Iterable[str]) -> list[str]:
    """The roles among `roles` whose holders differ between the two assignments."""
    return [role for role in _ordered(roles) if first.keys(role) != second.keys(role)]


def differs(first: BlockRoles | None, second: BlockRoles | None) -> bool:
    """Whether two assignments name different holders for any role (sources aside)."""
    first, second = first or UNOWNED, second or UNOWNED
    return bool(mismatched_roles(first, second, [*first.holders, *second.holders]))


def _resolved(
    named: Iterable[tuple[str, Iterable[str]]], config: RapidConfig
) -> dict[str, tuple[Holder, ...]]:
    aliases = config.aliases
    holders = {role: tuple(resolve_holder(n, aliases) for n in names) for role, names in named}
    return {role: holders[role] for role in _ordered(holders) if holders[role]}


def _ordered(roles: Iterable[str]) -> list[str]:
    wanted = set(roles)
    return [role for role in ROLE_ORDER if role in wanted]
