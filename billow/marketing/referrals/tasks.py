"""The referral job: thin, rerun-safe (``daily.run_referral_day``)."""

from __future__ import annotations

from datetime import date
from typing import Any

from billow.core import clock
from billow.jobs import job
from billow.marketing.referrals.daily import run_referral_day


@job(retries=3, base_delay=300)
def run_referral_day_job(day: date | None = None) -> dict[str, Any]:
    """Rewards due before ``day`` (default today); on the 1st, the payout."""
    return run_referral_day(day=day or clock.today())
