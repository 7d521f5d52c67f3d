"""Order jobs (thin: call the action)."""

from __future__ import annotations

from billow.jobs import job
from billow.orders.expiry import expire_unconfigured_services


@job(retries=0)
def expire_unconfigured() -> int:
    """Daily: delete and refund quick-ordered services left unconfigured too long."""
    return len(expire_unconfigured_services())
