"""Every record the store keeps besides deliveries and jobs, in one place: its scope, how its key
is made and what its value holds (docs/architecture.md#store-records has who writes and reads
each, and what prunes it).

A record is a small value that makes a side effect happen once or remembers what a page shows.
Modules read and write them only through the `Record`s below, so what the database holds is
this file; a new kind of record starts here.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from rapidvet.app.store import Store

T = TypeVar("T")
JsonObject = dict[str, Any]


def _text(value: str) -> str:
    return value


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


@dataclass(frozen=True)
class Record(Generic[T]):
    """One scope of records: `encode` and `decode` turn its values into the stored text."""

    scope: str
    encode: Callable[[T], str]
    decode: Callable[[str], T]

    def get(self, store: Store, key: str) -> T | None:
        raw = store.get_value(self.scope, key)
        return None if raw is None else self.decode(raw)

    def put(self, store: Store, key: str, value: T) -> None:
        store.put_value(self.scope, key, self.encode(value))

    def claim(self, store: Store, key: str, value: T) -> bool:
        """Set the record only when it is absent; True when this call set it (one writer wins)."""
        return store.claim_value(self.scope, key, self.encode(value))

    def all(self, store: Store, key_prefix: str = "") -> dict[str, T]:
        """The records whose keys start with `key_prefix`, decoded; the others are not."""
        return {
            key: self.decode(raw)
            for key, raw in store.values(self.scope).items()
            if key.startswith(key_prefix)
        }

    def drop(self, store: Store, older_than_days: float) -> int:
        """Delete the records last set before the retention; the count removed."""
        return store.drop_values(self.scope, older_than_days)


@dataclass(frozen=True)
class Marker:
    """A scope whose records only exist or not: an intent claimed before a side effect, so a
    retry knows an earlier try may have done it."""

    scope: str

    def claim(self, store: Store, key: str) -> bool:
        return store.claim_value(self.scope, key, "1")

    def drop(self, store: Store, older_than_days: float) -> int:
        return store.drop_values(self.scope, older_than_days)


def text(scope: str) -> Record[str]:
    return Record(scope, _text, _text)


def moment(scope: str) -> Record[datetime]:
    return Record(scope, datetime.isoformat, datetime.fromisoformat)


def json_object(scope: str) -> Record[JsonObject]:
    return Record(scope, _json, lambda raw: dict(json.loads(raw)))


def json_list(scope: str) -> Record[list[Any]]:
    return Record(scope, _json, lambda raw: list(json.loads(raw)))


# -- keys


def pull_key(repo: str, number: int) -> str:
    """A pull request: "owner/repo#12" (also its job key)."""
    return f"{repo}#{number}"


def commit_key(repo: str, sha: str) -> str:
    """A commit, whose timeline holds its check runs' events: "owner/repo@sha"."""
    return f"{repo}@{sha}"


def check_run_key(repo: str, sha: str, name: str) -> str:
    """A named check run on a commit: "owner/repo@sha:Name"."""
    return f"{commit_key(repo, sha)}:{name}"


def merge_key(repo: str, number: int, merge_sha: str) -> str:
    """One merge of a pull request: "owner/repo#12@merge-sha"."""
    return f"{pull_key(repo, number)}@{merge_sha}"


def asked_key(repo: str, number: int, reviewer: str, content: str) -> str:
    """A reviewer ("@login" or a team's slug) asked for one content of a pull request's plans."""
    return f"{pull_key(repo, number)}:{reviewer}:{content}"


def plan_key(repo: str, path: str, title: str, rank: int) -> str:
    """A plan, whichever its line: JSON [repo, path, normalized title, rank among same titles],
    spaced as json.dumps spaces it by default, as the keys already stored are."""
    return json.dumps([repo, path, title, rank], ensure_ascii=False)


def plan_key_prefix(repo: str) -> str:
    """What every plan_key of `repo`, and no other repository's, starts with."""
    return json.dumps([repo], ensure_ascii=False)[:-1] + ","


def plan_key_parts(key: str, repo: str) -> tuple[str, str, int] | None:
    """The path, title and rank a plan_key of `repo` names; None for another repository's."""
    if not key.startswith(plan_key_prefix(repo)):
        return None
    _, path, title, rank = json.loads(key)
    return path, title, rank


def entry_key(subject: str, index: int) -> str:
    """The index-th entry of a timeline; the subject is a pull_key or a commit_key."""
    return f"{subject}:{index}"


# -- pull requests (app/pulls/)

CHECK_RUN = Record("check_run", str, int)  # check_run_key -> the check run's id
CHECK_RUN_INTENT = Marker("check_run_intent")  # check_run_key, claimed before creating it
ASKED = text("asked")  # asked_key -> "1", or why GitHub refused the request
EVALUATION = json_object("evaluation")  # pull_key -> the last evaluation's summary
MERGE_RECORD = json_object("merge_record")  # merge_key -> the record's progress
MERGE_COMMENT_INTENT = Marker("merge_comment_intent")  # merge_key, before the comment
TIMELINE = json_object("timeline")  # entry_key -> the event
TIMELINE_SIZE = Record("timeline_size", str, int)  # subject -> a lower bound of its entries
TIMELINE_DELIVERY = Marker("timeline_delivery")  # delivery id: its arrival is in its timeline

# -- catching up (app/jobs/reconcile.py)

LAST_EVENT = json_object("last_event")  # pull_key -> {"at": ISO time, "installation": id}
LAST_EVALUATION = moment("last_evaluation")  # pull_key -> when the evaluation began reading
SWEPT = text("swept")  # pull_key -> the LAST_EVENT time the sweep last looked at
RECONCILE = moment("reconcile")  # LAST_RUN -> when the scheduled run last succeeded
LAST_RUN = "last_run"

# -- the default branch (app/handbook/)

# "owner/repo" -> the default branch's plans and pages, as JSON text: app/handbook/snapshots.py
# decodes it and keeps the last few decoded by their text, which every dashboard view reads.
SNAPSHOT = text("snapshot")
MEASURE_HISTORY = json_list("measure_history")  # "owner/repo" -> the measure's points
UNVETTED_MERGE = json_object("unvetted_merge")  # plan_key -> the plan's last merge

# -- the App and its users

INSTALLATION = json_object("installation")  # installation id -> account and repositories
APP = json_object("app")  # CREDENTIALS -> the App's ids and its sealed secrets
CREDENTIALS = "credentials"
SETUP = text("setup")  # SETUP_CODE -> the one-time set-up code
SETUP_CODE = "code"
SIGNIN = text("signin")  # digest of a session id -> the sealed sign-in, "" once signed out
