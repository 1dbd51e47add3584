"""A worker's job for a delivery, for tests of what runs as a job begins."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from rapidvet.app.store import Delivery, Job


def job_of(delivery: Delivery, received: datetime | None = None, attempts: int = 1) -> Job:
    return Job(
        id=1,
        delivery_id=delivery.id,
        event=delivery.event,
        action=delivery.action,
        installation=delivery.installation,
        key=delivery.key,
        payload=json.loads(delivery.payload or b"{}"),
        attempts=attempts,
        received=received or datetime.now(UTC),
    )
