"""What the checker is told from outside: document kinds, rule grading, today's date."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date


@dataclass(frozen=True)
class Kind:
    """A document kind: the title suffix that names it and its sections in order."""

    name: str
    sections: tuple[str, ...]


VPMOM = Kind("VPMOM", ("vision", "priorities", "methods", "obstacles", "measures"))
V2MOM = Kind("V2MOM", ("vision", "values", "methods", "obstacles", "measures"))
DEFAULT_KINDS: tuple[Kind, ...] = (VPMOM, V2MOM)


@dataclass(frozen=True)
class CheckOptions:
    """Everything a rule may depend on. `today` is always given: checks/ never reads the clock.

    rules: rule id -> "off" | "error" | "warning" | "notice" (overrides the default grade).
    aliases: holder names a RAPID line may use; None means unknown, so not checked.
    toc: repository-relative paths listed in the table of contents; None means no TOC known.
    max_page_bytes: a page longer than this (UTF-8) is reported, not parsed: parsing is
    linear but not free, and a stranger's pull request chooses the page.
    """

    today: date
    kinds: tuple[Kind, ...] = DEFAULT_KINDS
    one_page_lines: int = 60
    stale_after_days: int = 365
    rules: Mapping[str, str] = field(default_factory=dict)
    aliases: frozenset[str] | None = None
    toc: frozenset[str] | None = None
    max_page_bytes: int = 1_000_000
