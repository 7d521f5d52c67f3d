"""Payment jobs (thin: call one action)."""

from __future__ import annotations

from billow.jobs import job
from billow.payments.actions import resolve_open_payments


@job(retries=0)
def resolve_payments() -> dict[str, int]:
    """The janitor: resolve unknown and stale pending payments (every 5 minutes)."""
    return resolve_open_payments()
