"""Plain data the checker produces: VPMOM blocks and findings. Lines are 1-based."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    NOTICE = "notice"


@dataclass(frozen=True)
class Item:
    """One entry of a section (a list item, a table cell line or a paragraph line)."""

    text: str
    line: int


@dataclass(frozen=True)
class Section:
    """A labelled part of a plan: `name` is canonical (lower case), `label` as written."""

    name: str
    label: str
    line: int
    end_line: int
    items: tuple[Item, ...] = ()


@dataclass(frozen=True)
class MetadataRow:
    """A row of the metadata table; `value_start`/`value_end` are the character offsets
    of the value cell's text inside the source line, so it can be rewritten in place."""

    key: str
    value: str
    line: int
    value_start: int
    value_end: int


@dataclass(frozen=True)
class Block:
    """A VPMOM (or V2MOM, or configured kind) plan found on a page."""

    title: str
    kind: str
    line: int
    end_line: int
    heading_level: int
    metadata: tuple[MetadataRow, ...] = ()
    sections: tuple[Section, ...] = ()
    placeholder: str | None = None
    table_line: int | None = None

    def row(self, key: str) -> MetadataRow | None:
        """The metadata row whose key matches `key` case-insensitively."""
        wanted = key.casefold()
        return next((r for r in self.metadata if r.key.casefold() == wanted), None)

    def section(self, name: str) -> Section | None:
        return next((s for s in self.sections if s.name == name), None)


@dataclass(frozen=True)
class Finding:
    rule: str
    severity: Severity
    message: str
    line: int
    end_line: int | None = None
    fix: str | None = None
    block: str | None = field(default=None, compare=False)
