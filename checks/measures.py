"""The handbook measures of the SOP plan: how many plans, how fresh, what is missing.

Pure: the caller supplies every page's blocks, the TOC and today's date, so the CLI report
and the dashboard compute the same numbers from the same function.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from rapidvet.checks.dates import parse_date
from rapidvet.checks.model import Block
from rapidvet.checks.toc import listed

FRESH_DAYS = 365  # the SOP measure: "vetted within the last 12 months"


@dataclass(frozen=True)
class PlanEntry:
    path: str
    line: int
    title: str
    kind: str
    period: str | None
    rapid: str | None
    vetted: date | None
    age_days: int | None


@dataclass(frozen=True)
class PlaceholderEntry:
    path: str
    line: int
    title: str
    marker: str


@dataclass(frozen=True)
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


def _entry(path: str, block: Block, today: date) -> PlanEntry:
    vetted_row, period, rapid = block.row("vetted date"), block.row("period"), block.row("rapid")
    parsed = parse_date(vetted_row.value) if vetted_row else None
    vetted = parsed.value if parsed else None
    return PlanEntry(
        path=path,
        line=block.line,
        title=block.title,
        kind=block.kind,
        period=period.value if period else None,
        rapid=rapid.value if rapid else None,
        vetted=vetted,
        age_days=(today - vetted).days if vetted else None,
    )


def handbook_measures(
    pages: Iterable[tuple[str, tuple[Block, ...]]],
    today: date,
    toc: frozenset[str] | None,
    stale_after_days: int = FRESH_DAYS,
) -> HandbookMeasures:
    """Measures over (repository path, blocks) for every markdown page of a handbook."""
    plans: list[PlanEntry] = []
    placeholders: list[PlaceholderEntry] = []
    paths: list[str] = []
    for path, blocks in pages:
        paths.append(path)
        for block in blocks:
            if block.placeholder is None:
                plans.append(_entry(path, block, today))
            else:
                placeholders.append(
                    PlaceholderEntry(path, block.line, block.title, block.placeholder)
                )
    unlisted = None
    if toc is not None:
        unlisted = tuple(
            p for p in paths if not listed(p, toc) and p.rsplit("/", 1)[-1] != "SUMMARY.md"
        )
    return HandbookMeasures(
        today=today,
        pages=len(paths),
        plans=tuple(plans),
        placeholders=tuple(placeholders),
        stale=tuple(p for p in plans if p.age_days is not None and p.age_days > stale_after_days),
        unvetted=tuple(p for p in plans if p.vetted is None),
        unlisted=unlisted,
    )
