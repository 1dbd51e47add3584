"""The last merge of each plan, vetted or not, kept for the dashboard's "changed since vetted".

A merge past the RAPID review (an administrator's bypass, or checks the repository does not
require) changes a plan without moving its Vetted date; the dashboard marks such a plan until
a later merge vets it. Records: UNVETTED_MERGE, keyed by the plan (its `BlockKey`), holds the
plan's latest merge into a branch. Merges can be handled out of order (a redelivery, a retry after
a crash), so a record only replaces one of an earlier merge.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import datetime

from rapidvet.app.store import Store
from rapidvet.app.store.records import (
    UNVETTED_MERGE,
    JsonObject,
    plan_key,
    plan_key_parts,
    plan_key_prefix,
)
from rapidvet.workflows.changes import BlockKey


@dataclass(frozen=True)
class PlanMerge:
    """A merge that changed a plan: `missing` says why it was no vetting (empty when it was)."""

    branch: str
    sha: str
    merged_at: datetime
    number: int
    missing: tuple[str, ...] = ()

    @property
    def vetted(self) -> bool:
        return not self.missing

    def to_json(self) -> JsonObject:
        return {**asdict(self), "merged_at": self.merged_at.isoformat()}

    @classmethod
    def from_json(cls, data: JsonObject) -> PlanMerge:
        return cls(
            data["branch"],
            data["sha"],
            datetime.fromisoformat(data["merged_at"]),
            data["number"],
            tuple(data["missing"]),
        )


def keep(store: Store, repo: str, merges: Iterable[tuple[BlockKey, PlanMerge]]) -> None:
    """Keep each plan's merge unless one merged later is kept already."""
    for plan, merge in merges:
        key = plan_key(repo, plan.path, plan.title, plan.index)
        before = UNVETTED_MERGE.get(store, key)
        if before is None or PlanMerge.from_json(before).merged_at <= merge.merged_at:
            UNVETTED_MERGE.put(store, key, merge.to_json())


def unvetted(store: Store, repo: str) -> dict[BlockKey, PlanMerge]:
    """The plans of `repo` whose last merge was no vetting, with that merge."""
    found: dict[BlockKey, PlanMerge] = {}
    # Only this repository's records are decoded: an installation keeps every repository's.
    for key, data in UNVETTED_MERGE.all(store, plan_key_prefix(repo)).items():
        parts = plan_key_parts(key, repo)
        if parts is not None and not (merge := PlanMerge.from_json(data)).vetted:
            found[BlockKey(*parts)] = merge
    return found
