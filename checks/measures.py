"""The handbook measures of the SOP plan: how many plans, how fresh, what is missing.

Pure: the caller supplies every page's blocks (or the plans a stored snapshot kept of them),
the TOC and today's date, so the CLI report and the dashboard compute the same numbers with
the same function, `measured`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

from rapidvet.checks.dates import parse_date
from rapidvet.checks.model import Block
from rapidvet.checks.toc import listed

FRESH_DAYS = 365  # the SOP measure: "vetted within the last 12 months"
# The rows a merge record writes: changing them records a vetting, it changes no plan.
RECORD_ROWS = ("vetted date", "previous versions")


# Plans and their entries are plain slotted records, not frozen ones: a frozen dataclass's
# __init__ costs about four times as much, and a 10 000-page dashboard makes 20 000 of them.
@dataclass(slots=True)
class Plan:
    """A plan as the measures count it, whatever the date."""

    path: str
    line: int
    title: str
    kind: str
    period: str | None
    rapid: str | None
    vetted: date | None


@dataclass(slots=True)
class PlanEntry(Plan):
    """A plan measured on a day."""

    age_days: int | None


@dataclass(frozen=True, slots=True)
class PlaceholderEntry:
    path: str
    line: int
    title: str
    marker: str


@dataclass(frozen=True, slots=True)
class HandbookMeasures:
    today: date
    pages: int
    plans: tuple[PlanEntry, ...]
    placeholders: tuple[PlaceholderEntry, ...]
    stale: tuple[PlanEntry, ...]
    unvetted: tuple[PlanEntry, ...]
    unlisted: tuple[str, ...] | None  # None when the handbook has no table of contents

    @property
    def fresh(self) -> int:
        return sum(1 for p in self.plans if p.age_days is not None and p.age_days <= FRESH_DAYS)

    @property
    def fresh_percent(self) -> float | None:
        return round(100 * self.fresh / len(self.plans), 1) if self.plans else None


def block_entry(path: str, block: Block) -> Plan | PlaceholderEntry:
    """What one block of a page adds to the measures."""
    if block.placeholder is not None:
        return PlaceholderEntry(path, block.line, block.title, block.placeholder)
    vetted_row, period, rapid = block.row("vetted date"), block.row("period"), block.row("rapid")
    parsed = parse_date(vetted_row.value) if vetted_row else None
    return Plan(
        path=path,
        line=block.line,
        title=block.title,
        kind=block.kind,
        period=period.value if period else None,
        rapid=rapid.value if rapid else None,
        vetted=parsed.value if parsed else None,
    )


def unlisted_pages(paths: Iterable[str], toc: frozenset[str] | None) -> tuple[str, ...] | None:
    """The pages the table of contents leaves out (a SUMMARY.md is the TOC itself); None
    when the handbook has no table of contents."""
    if toc is None:
        return None
    return tuple(p for p in paths if not listed(p, toc) and p.rsplit("/", 1)[-1] != "SUMMARY.md")


def measured(
    pages: int,
    plans: Iterable[Plan],
    placeholders: Iterable[PlaceholderEntry],
    unlisted: tuple[str, ...] | None,
    today: date,
    stale_after_days: int = FRESH_DAYS,
) -> HandbookMeasures:
    """The measures on `today` of a handbook of `pages` pages holding these plans."""
    entries = tuple(
        PlanEntry(
            p.path,
            p.line,
            p.title,
            p.kind,
            p.period,
            p.rapid,
            p.vetted,
            (today - p.vetted).days if p.vetted else None,
        )
        for p in plans
    )
    return HandbookMeasures(
        today=today,
        pages=pages,
        plans=entries,
        placeholders=tuple(placeholders),
        stale=tuple(p for p in entries if p.age_days is not None and p.age_days > stale_after_days),
        unvetted=tuple(p for p in entries if p.vetted is None),
        unlisted=unlisted,
    )


def handbook_measures(
    pages: Iterable[tuple[str, tuple[Block, ...]]],
    today: date,
    toc: frozenset[str] | None,
    stale_after_days: int = FRESH_DAYS,
) -> HandbookMeasures:
    """Measures over (repository path, blocks) for every markdown page of a handbook."""
    plans: list[Plan] = []
    placeholders: list[PlaceholderEntry] = []
    paths: list[str] = []
    for path, blocks in pages:
        paths.append(path)
        for block in blocks:
            entry = block_entry(path, block)
            if isinstance(entry, PlaceholderEntry):
                placeholders.append(entry)
            else:
                plans.append(entry)
    unlisted = unlisted_pages(paths, toc)
    return measured(len(paths), plans, placeholders, unlisted, today, stale_after_days)


def content_spans(block: Block) -> list[tuple[int, int]]:
    """The plan's lines as (first, last) spans, leaving out its record rows."""
    record = sorted(r.line for r in block.metadata if r.key.casefold() in RECORD_ROWS)
    spans: list[tuple[int, int]] = []
    start = block.line
    for line in record:
        if start < line:
            spans.append((start, line - 1))
        start = line + 1
    if start <= block.end_line:
        spans.append((start, block.end_line))
    return spans


def changed_since_vetted(
    plans: Iterable[PlanEntry], changed_on: Mapping[tuple[str, int], date]
) -> tuple[PlanEntry, ...]:
    """The vetted plans changed after their Vetted date; `changed_on`: the date of the last
    change to each plan's content, by (path, line)."""
    return tuple(
        p
        for p in plans
        if p.vetted is not None
        and (on := changed_on.get((p.path, p.line))) is not None
        and on > p.vetted
    )
