"""The last merge of each plan, vetted or not, kept for the dashboard's "changed since vetted".

A merge past the RAPID review (an administrator's bypass, or checks the repository does not
require) changes a plan without moving its Vetted date; the dashboard marks such a plan until
a later merge vets it. Records: scope "unvetted_merge", key the plan as JSON
[repo, path, normalized title, rank among same titles] (its `BlockKey`), value the plan's
latest merge into a branch. Merges can be handled out of order (a redelivery, a retry after
a crash), so a record only replaces one of an earlier merge.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import datetime

from rapidvet.app.store import Store
from rapidvet.workflows.changes import BlockKey

SCOPE = "unvetted_merge"


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

    def dumps(self) -> str:
        return json.dumps({**asdict(self), "merged_at": self.merged_at.isoformat()})

    @classmethod
    def loads(cls, raw: str) -> PlanMerge:
        data = json.loads(raw)
        return cls(
            data["branch"],
            data["sha"],
            datetime.fromisoformat(data["merged_at"]),
            data["number"],
            tuple(data["missing"]),
        )


def _key(repo: str, plan: BlockKey) -> str:
    return json.dumps([repo, plan.path, plan.title, plan.index], ensure_ascii=False)


def keep(store: Store, repo: str, merges: Iterable[tuple[BlockKey, PlanMerge]]) -> None:
    """Keep each plan's merge unless one merged later is kept already."""
    for plan, merge in merges:
        key = _key(repo, plan)
        before = store.get_value(SCOPE, key)
        if before is None or PlanMerge.loads(before).merged_at <= merge.merged_at:
            store.put_value(SCOPE, key, merge.dumps())


def unvetted(store: Store, repo: str) -> dict[BlockKey, PlanMerge]:
    """The plans of `repo` whose last merge was no vetting, with that merge."""
    prefix = json.dumps([repo], ensure_ascii=False)[:-1] + ","
    found: dict[BlockKey, PlanMerge] = {}
    for key, raw in store.values(SCOPE).items():
        if key.startswith(prefix):
            _, path, title, index = json.loads(key)
            merge = PlanMerge.loads(raw)
            if not merge.vetted:
                found[BlockKey(path, title, index)] = merge
    return found
