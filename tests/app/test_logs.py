"""Log lines carry the fields bound for the task that writes them, and only that task's."""

from __future__ import annotations

import asyncio
import json
import logging

from rapidvet.app.logs import BoundFields, JsonFormatter, bind


def written(record: logging.LogRecord) -> dict[str, object]:
    BoundFields().filter(record)
    return dict(json.loads(JsonFormatter().format(record)))


def record(message: str, **extra: object) -> logging.LogRecord:
    line = logging.LogRecord("rapidvet.test", logging.INFO, __file__, 1, message, None, None)
    line.__dict__.update(extra)
    return line


def test_bound_fields_reach_the_tasks_lines_and_no_other_tasks():
    async def job(number: int) -> dict[str, object]:
        bind(delivery_id=f"g{number}", installation=7, repo="o/r", pr=number, event=None)
        await asyncio.sleep(0)  # the other job binds its own fields meanwhile
        return written(record("working"))

    async def both() -> list[dict[str, object]]:
        lines = await asyncio.gather(job(1), job(2))
        return [*lines, written(record("between jobs"))]

    first, second, outside = asyncio.run(both())
    assert {k: first[k] for k in ("delivery_id", "installation", "repo", "pr")} == {
        "delivery_id": "g1",
        "installation": 7,
        "repo": "o/r",
        "pr": 1,
    }
    assert (second["delivery_id"], second["pr"]) == ("g2", 2)
    assert "event" not in first  # None is left out
    assert "delivery_id" not in outside


def test_extra_wins_and_a_new_bind_replaces_the_old():
    async def run() -> tuple[dict[str, object], dict[str, object]]:
        bind(delivery_id="g1", pr=1)
        explicit = written(record("explicit", delivery_id="other"))
        bind(delivery_id="g2")
        return explicit, written(record("rebound"))

    explicit, rebound = asyncio.run(run())
    assert (explicit["delivery_id"], explicit["pr"]) == ("other", 1)
    assert rebound["delivery_id"] == "g2" and "pr" not in rebound
