"""The default branch's handbook, kept for the dashboard: every plan, placeholder and unlisted
page of one commit, from which the measures are the numbers `rapidvet report` gives on a
checkout of that commit (both go through `checks.layout` and `checks.measures`). Taken from
GitHub by `reading.refresh`.

Records (app/store/records.py): SNAPSHOT holds the snapshot as compact JSON, MEASURE_HISTORY
the measure after each snapshot, for the chart; both keyed by "owner/repo".
"""

from __future__ import annotations

import functools
import json
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import NamedTuple

from rapidvet.app.handbook.unvetted_merges import PlanMerge
from rapidvet.app.store import Store
from rapidvet.app.store.records import MEASURE_HISTORY, SNAPSHOT
from rapidvet.checks.measures import (
    HandbookMeasures,
    PlaceholderEntry,
    Plan,
    measured,
)
from rapidvet.workflows.changes import BlockKey, normalized_title

HISTORY_LIMIT = 1000  # points kept per repository: years of daily pushes


class PlanRow(NamedTuple):
    """A plan; `vetted` an ISO date, `decider` the D holder(s) the App sees."""

    path: str
    line: int
    end_line: int
    title: str
    kind: str
    period: str | None
    rapid: str | None
    vetted: str | None
    decider: str | None


class PlaceholderRow(NamedTuple):
    path: str
    line: int
    title: str
    marker: str


class ConfigFile(NamedTuple):
    path: str
    blob: str
    text: str


class TocRecord(NamedTuple):
    """`gitbook`: (blob, root, summary) of .gitbook.yaml; `sources`: a digest of where the
    table of contents was read from, to tell when it must be read again."""

    gitbook: tuple[str, str, str] | None
    sources: str
    paths: frozenset[str] | None


class MeasurePoint(NamedTuple):
    """The measure right after a snapshot; `vetted_in`: the pull requests whose merge
    records the push brought (their `Vetted-in:` trailers)."""

    at: datetime
    commit: str
    percent: float | None
    plans: int
    fresh: int
    vetted_in: tuple[int, ...] = ()


@dataclass(frozen=True)
class Snapshot:
    repo: str
    branch: str
    commit: str
    read_at: datetime
    config: ConfigFile | None
    kinds: str  # digest of the document kinds the pages were parsed with
    stale_after_days: int
    toc: TocRecord
    files: dict[str, str]  # every page's blob, in walk order
    plans: tuple[PlanRow, ...]  # in page order, as are the placeholders
    placeholders: tuple[PlaceholderRow, ...]
    unlisted: tuple[str, ...] | None
    truncated: bool  # GitHub cut the tree listing short (over 100 000 entries)
    # The measures by day, worked out once: every view of the dashboard until the next push
    # asks for the same ones (see `load`).
    _measured: dict[date, HandbookMeasures] = field(
        default_factory=dict, init=False, compare=False, repr=False
    )

    def measures(self, today: date) -> HandbookMeasures:
        if today not in self._measured:
            self._measured.clear()  # only today's are asked for again
            self._measured[today] = self._measure(today)
        return self._measured[today]

    def _measure(self, today: date) -> HandbookMeasures:
        plans = [
            Plan(
                row.path,
                row.line,
                row.title,
                row.kind,
                row.period,
                row.rapid,
                date.fromisoformat(row.vetted) if row.vetted else None,
            )
            for row in self.plans
        ]
        placeholders = [PlaceholderEntry(*row) for row in self.placeholders]
        return measured(
            len(self.files), plans, placeholders, self.unlisted, today, self.stale_after_days
        )

    def by_page(self) -> dict[str, tuple[list[PlanRow], list[PlaceholderRow]]]:
        """The plans and placeholders of each page that holds any."""
        pages: dict[str, tuple[list[PlanRow], list[PlaceholderRow]]] = {}
        for plan in self.plans:
            pages.setdefault(plan.path, ([], []))[0].append(plan)
        for placeholder in self.placeholders:
            pages.setdefault(placeholder.path, ([], []))[1].append(placeholder)
        return pages

    def to_json(self) -> str:
        toc = self.toc
        data = {
            "repo": self.repo,
            "branch": self.branch,
            "commit": self.commit,
            "read_at": self.read_at.isoformat(),
            "config": self.config,
            "kinds": self.kinds,
            "stale_after_days": self.stale_after_days,
            "toc": [toc.gitbook, toc.sources, None if toc.paths is None else sorted(toc.paths)],
            "files": self.files,
            "plans": self.plans,
            "placeholders": self.placeholders,
            "unlisted": self.unlisted,
            "truncated": self.truncated,
        }
        return json.dumps(data, separators=(",", ":"), ensure_ascii=False)

    @classmethod
    def from_json(cls, raw: str) -> Snapshot:
        data = json.loads(raw)
        gitbook, sources, paths = data["toc"]
        unlisted = data["unlisted"]
        return cls(
            repo=data["repo"],
            branch=data["branch"],
            commit=data["commit"],
            read_at=datetime.fromisoformat(data["read_at"]),
            config=ConfigFile(*data["config"]) if data["config"] else None,
            kinds=data["kinds"],
            stale_after_days=data["stale_after_days"],
            toc=TocRecord(
                (gitbook[0], gitbook[1], gitbook[2]) if gitbook else None,
                sources,
                None if paths is None else frozenset(paths),
            ),
            files=data["files"],
            plans=tuple(map(PlanRow._make, data["plans"])),
            placeholders=tuple(map(PlaceholderRow._make, data["placeholders"])),
            unlisted=None if unlisted is None else tuple(unlisted),
            truncated=data["truncated"],
        )


def load(store: Store, repo: str) -> Snapshot | None:
    raw = SNAPSHOT.get(store, repo)
    return _decoded(raw) if raw else None


@functools.lru_cache(maxsize=8)
def _decoded(raw: str) -> Snapshot:
    """The stored record, decoded once for the repositories viewed last: the pages read the
    same record on every view until the next push (nothing changes a Snapshot once made)."""
    return Snapshot.from_json(raw)


def keep(store: Store, snapshot: Snapshot) -> None:
    SNAPSHOT.put(store, snapshot.repo, snapshot.to_json())


def history(store: Store, repo: str) -> list[MeasurePoint]:
    return [
        MeasurePoint(datetime.fromisoformat(at), commit, percent, plans, fresh, tuple(vetted_in))
        for at, commit, percent, plans, fresh, vetted_in in MEASURE_HISTORY.get(store, repo) or []
    ]


def changed_since_vetted(
    snapshot: Snapshot, unvetted: Mapping[BlockKey, PlanMerge]
) -> list[PlanMerge | None]:
    """For each plan, the merge into the snapshot's branch that changed it without vetting
    on or after its Vetted date, if one did (`unvetted`: each plan's last merge, when it was
    no vetting). A later vetting clears it: its merge is the plan's last, or its Vetted date
    moved past the unvetted one."""
    if not unvetted:
        return [None] * len(snapshot.plans)
    keys = _plan_keys(snapshot, {key.path for key in unvetted})
    marks: list[PlanMerge | None] = []
    for plan in snapshot.plans:
        key = keys.get((plan.path, plan.line))
        merge = None if key is None else unvetted.get(key)
        marks.append(
            merge
            if merge is not None
            and merge.branch == snapshot.branch
            and plan.vetted is not None
            and merge.merged_at.astimezone(UTC).date() >= date.fromisoformat(plan.vetted)
            else None
        )
    return marks


def _plan_keys(snapshot: Snapshot, paths: set[str]) -> dict[tuple[str, int], BlockKey]:
    """The keys of the plans on `paths` by (path, line), as a merge keys the blocks it
    changed: normalized title and rank among the page's blocks of that title, placeholders
    included. Only the pages merges touched: normalizing 10 000 titles takes 0.1 s."""
    keys: dict[tuple[str, int], BlockKey] = {}
    for path, (plans, placeholders) in snapshot.by_page().items():
        if path not in paths:
            continue
        ranks: Counter[str] = Counter()
        blocks = [(p.line, p.title) for p in plans] + [(p.line, p.title) for p in placeholders]
        for line, title in sorted(blocks):
            normalized = normalized_title(title)
            keys[path, line] = BlockKey(path, normalized, ranks[normalized])
            ranks[normalized] += 1
    return keys


def add_point(store: Store, repo: str, point: MeasurePoint) -> None:
    """Append to the measure history, keeping the latest HISTORY_LIMIT points."""
    points = MEASURE_HISTORY.get(store, repo) or []
    points.append([point.at.isoformat(), *point[1:]])
    MEASURE_HISTORY.put(store, repo, points[-HISTORY_LIMIT:])
