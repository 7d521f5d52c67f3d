"""Bonus jobs: thin, idempotent (every movement is keyed)."""

from __future__ import annotations

from billow.jobs import job
from billow.marketing.bonus.actions import expire_bonus_points


@job(retries=3, base_delay=60)
def expire_bonus_points_job() -> int:
    """Expire the lots past their date (``bonus.actions.expire_bonus_points``)."""
    return expire_bonus_points()
