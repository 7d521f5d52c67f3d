"""The referral program's day: referrals through promo codes, rewards, and on the 1st the
payout. Each step is idempotent, so the job may run a day again."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from billow.core import clock
from billow.marketing.referrals.accrual import accrue_referral_rewards
from billow.marketing.referrals.attribution import attribute_promo_code_uses
from billow.marketing.referrals.models import ReferralProgram
from billow.marketing.referrals.payout import pay_out_referral_rewards


def run_referral_day(*, day: date, now: datetime | None = None) -> dict[str, Any]:
    """Link promo-code referrals, accrue the rewards due before ``day``, and on the 1st pay
    out the month before. One cheap query when no program exists."""
    if not ReferralProgram.objects.exists():
        return {"programs": 0}
    moment = clock.now(now)
    out: dict[str, Any] = {"linked_by_code": attribute_promo_code_uses(now=moment)}
    out["accrual"] = accrue_referral_rewards(day=day, now=moment).as_dict()
    if day.day == 1:
        out["payout"] = pay_out_referral_rewards(month=day, now=moment).as_dict()
    return out
