"""The store's records: one module owns every scope, and each record's value survives the store
as the type it was put."""

from __future__ import annotations

import ast
from datetime import UTC, datetime

from rapidvet.app.store import records
from rapidvet.app.store.records import (
    ASKED,
    CHECK_RUN,
    CHECK_RUN_INTENT,
    LAST_EVALUATION,
    MEASURE_HISTORY,
    UNVETTED_MERGE,
    Marker,
    Record,
    check_run_key,
    plan_key,
    plan_key_parts,
    plan_key_prefix,
)
from tests.support import ROOT

RAW_ACCESS = {"get_value", "put_value", "claim_value", "values", "drop_values"}


def raw_record_calls(source: str) -> list[int]:
    """Lines calling the store's untyped record methods on anything but a dict's `.values()`."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            name = node.func.attr
            if name in RAW_ACCESS and (name != "values" or node.args):
                found.append(node.lineno)
    return found


def test_only_the_store_package_touches_records_by_scope_name() -> None:
    """Every other module goes through a `Record` of records.py, so that file lists all."""
    outside = {
        str(path.relative_to(ROOT)): lines
        for path in sorted((ROOT / "app").rglob("*.py"))
        if path.parent != ROOT / "app" / "store"
        and (lines := raw_record_calls(path.read_text(encoding="utf-8")))
    }
    assert outside == {}


def test_the_scan_finds_a_raw_call() -> None:
    assert raw_record_calls("store.get_value('asked', key)\nx.values()\n") == [1]
    assert raw_record_calls("store.values('timeline')\n") == [1]


def test_scopes_are_unique() -> None:
    scopes = [value.scope for value in vars(records).values() if isinstance(value, Record | Marker)]
    assert len(scopes) == len(set(scopes)) >= 20


def test_values_come_back_as_their_type(store) -> None:
    key = check_run_key("o/r", "a" * 40, "RAPID review")
    CHECK_RUN.put(store, key, 123)
    assert CHECK_RUN.get(store, key) == 123
    assert store.get_value("check_run", "o/r@" + "a" * 40 + ":RAPID review") == "123"
    started = datetime(2026, 12, 7, 5, 0, tzinfo=UTC)
    LAST_EVALUATION.put(store, "o/r#1", started)
    assert LAST_EVALUATION.get(store, "o/r#1") == started
    MEASURE_HISTORY.put(store, "o/r", [["2026-12-07", "abc", 50.0]])
    assert MEASURE_HISTORY.get(store, "o/r") == [["2026-12-07", "abc", 50.0]]
    assert ASKED.get(store, "o/r#1:@dee:x") is None
    assert ASKED.all(store) == {}


def test_a_marker_is_claimed_once(store) -> None:
    assert CHECK_RUN_INTENT.claim(store, "k")
    assert not CHECK_RUN_INTENT.claim(store, "k")


def test_a_plan_key_names_its_repository_only() -> None:
    key = plan_key("acme/handbook", "plans/ü.md", "FY20 MLT VPMOM", 0)
    assert key == '["acme/handbook", "plans/ü.md", "FY20 MLT VPMOM", 0]'  # as stored before
    assert plan_key_parts(key, "acme/handbook") == ("plans/ü.md", "FY20 MLT VPMOM", 0)
    assert plan_key_parts(key, "acme/hand") is None
    assert plan_key_parts(key, "acme/handbook2") is None


def test_a_value_stored_before_records_existed_still_reads(store) -> None:
    """Values were JSON with json.dumps' default spacing; records write them compact."""
    key = plan_key("acme/handbook", "p.md", "FY20 MLT VPMOM", 0)
    store.put_value("unvetted_merge", key, '{"branch": "main", "number": 3}')
    assert UNVETTED_MERGE.get(store, key) == {"branch": "main", "number": 3}


def test_records_of_a_key_prefix_are_the_only_ones_decoded(store) -> None:
    ours = plan_key("acme/handbook", "p.md", "FY20 MLT VPMOM", 0)
    UNVETTED_MERGE.put(store, ours, {"number": 3})
    # Another repository's record that would not decode: left alone, not read.
    store.put_value("unvetted_merge", plan_key("acme/handbook2", "p.md", "X", 0), "{broken")
    assert UNVETTED_MERGE.all(store, plan_key_prefix("acme/handbook")) == {ours: {"number": 3}}
