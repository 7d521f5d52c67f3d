"""Usage jobs: the daily reset of resource statuses whose period ended (``usage.status``)."""

from __future__ import annotations

from typing import Any

from billow.jobs import job


@job(retries=3, base_delay=60)
def reset_usage_statuses_job() -> dict[str, Any]:
    """Start the statuses of ended periods over and resume services over a limit of the old
    period; idempotent (a second run finds nothing ended)."""
    from billow.usage.status import reset_statuses

    return reset_statuses()
