"""Usage jobs (thin: call the action)."""

from __future__ import annotations

from datetime import UTC, date, timedelta
from typing import Any

from billow.core import clock
from billow.jobs import job
from billow.usage.actions import maintain_raw_storage
from billow.usage.pull import pull_stats


@job(retries=0)
def pull_stats_job(day: str | None = None, service_ids: list[int] | None = None) -> int:
    """Daily (and on demand): the modules' usage of ``day`` (ISO date; default yesterday)."""
    when = date.fromisoformat(day) if day else clock.now().astimezone(UTC).date() - timedelta(1)
    return pull_stats(day=when, service_ids=service_ids).accepted


@job(retries=0)
def maintain_raw_storage_job() -> int:
    """Daily: partitions for the days ahead, raw records past retention dropped."""
    return len(maintain_raw_storage().dropped)


@job(retries=3, base_delay=60)
def reset_usage_statuses_job() -> dict[str, Any]:
    """Start the statuses of ended periods over and resume services over a limit of the old
    period; idempotent (a second run finds nothing ended)."""
    from billow.usage.status import reset_statuses

    return reset_statuses()
