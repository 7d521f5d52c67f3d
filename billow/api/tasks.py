"""API jobs (thin: call the action)."""

from __future__ import annotations

from billow.api.actions import purge_idempotency_records
from billow.jobs import job


@job(retries=0)
def purge_idempotency() -> int:
    """Hourly: delete idempotency records older than the retention period."""
    return purge_idempotency_records()
