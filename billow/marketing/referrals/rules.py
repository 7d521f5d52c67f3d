"""Pure referral reward rules: what one rule earns on a referral's charges. No database here.

A rule (reference §2.2, the 6.135 program) has an accrual type (a fixed amount per charge or a
percent of the charge's net amount), an accrual moment (on charge, on payment, N days after the
charge), a frequency (every charge, the first N charges, once) and a condition ("always", or
"by turnover of an individual referral": the referral's net charges over the last
``turnover_days`` days, this charge included, reach ``turnover_minor``).

``plan_rule`` decides, for one referral and one rule, which of the new charges earn and how
much; the daily job loads the rows around it and writes what it returns.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from billow.core.money import round_minor


class AccrualType(StrEnum):
    FIXED = "fixed"  # ``amount_minor`` per rewarded charge
    PERCENT = "percent"  # ``percent`` of the charge's net amount


class AccrualMoment(StrEnum):
    ON_CHARGE = "on_charge"  # the day the referral is charged
    ON_PAYMENT = "on_payment"  # the day the charge is paid (the balance is out of debt again)
    DAYS_AFTER = "days_after"  # ``moment_days`` days after the charge


class Frequency(StrEnum):
    EVERY = "every"  # every charge
    FIRST_N = "first_n"  # the referral's first ``frequency_count`` rewarded charges
    ONCE = "once"  # the referral's first rewarded charge only


class Condition(StrEnum):
    ALWAYS = "always"
    TURNOVER = "turnover"  # the referral's turnover over ``turnover_days`` reaches the amount


@dataclass(frozen=True, slots=True)
class RuleInfo:
    id: int
    accrual_type: str
    percent: Decimal = Decimal(0)
    amount_minor: int = 0
    moment: str = AccrualMoment.ON_CHARGE
    moment_days: int = 0
    frequency: str = Frequency.EVERY
    frequency_count: int = 0
    condition: str = Condition.ALWAYS
    turnover_minor: int = 0
    turnover_days: int = 30


@dataclass(frozen=True, slots=True)
class ChargeInfo:
    """One charge (positive ``net_minor``) or refund (negative) of a referral."""

    id: int
    net_minor: int
    charged_at: datetime
    eligible: bool = True  # inside the program's dates and the referral period


@dataclass(frozen=True, slots=True)
class PlannedAccrual:
    charge_id: int
    amount_minor: int
    due_on: date | None  # None: on payment, not paid yet


def reward_of(rule: RuleInfo, net_minor: int) -> int:
    """What one rewarded charge earns under ``rule`` (never negative)."""
    if rule.accrual_type == AccrualType.FIXED:
        return max(0, rule.amount_minor)
    return max(0, round_minor(Decimal(net_minor) * rule.percent / 100))


def due_on(rule: RuleInfo, charged_at: datetime, paid_at: datetime | None) -> date | None:
    """The day the reward of a charge accrues (None: on payment and not yet paid)."""
    if rule.moment == AccrualMoment.ON_PAYMENT:
        return paid_at.date() if paid_at is not None else None
    if rule.moment == AccrualMoment.DAYS_AFTER:
        return charged_at.date() + timedelta(days=rule.moment_days)
    return charged_at.date()


def turnover_reached(rule: RuleInfo, charge: ChargeInfo, history: Sequence[ChargeInfo]) -> bool:
    """The condition of ``rule`` for ``charge``: always, or the referral's net turnover in the
    ``turnover_days`` days up to and including the charge reaches the threshold."""
    if rule.condition != Condition.TURNOVER:
        return True
    since = charge.charged_at - timedelta(days=rule.turnover_days)
    total = sum(c.net_minor for c in history if since < c.charged_at <= charge.charged_at)
    return total >= rule.turnover_minor


def _room(rule: RuleInfo, already: int) -> int | None:
    """How many more charges the frequency lets earn (None: no limit)."""
    if rule.frequency == Frequency.ONCE:
        return max(0, 1 - already)
    if rule.frequency == Frequency.FIRST_N:
        return max(0, rule.frequency_count - already)
    return None


def plan_rule(
    rule: RuleInfo,
    new: Sequence[ChargeInfo],
    history: Sequence[ChargeInfo],
    already_rewarded: int,
    paid_at: dict[int, datetime | None],
) -> list[PlannedAccrual]:
    """The accruals ``rule`` makes on the referral's ``new`` charges (oldest first).

    ``history``: every charge and refund of the referral so far, the new ones included (for the
    turnover condition); ``already_rewarded``: charges this rule rewarded before (frequency);
    ``paid_at``: when each new charge was paid (on-payment rules). A charge that is not
    eligible, fails the condition or comes after the frequency is used up earns nothing, and
    a zero reward is not an accrual.
    """
    room = _room(rule, already_rewarded)
    out: list[PlannedAccrual] = []
    for charge in sorted(new, key=lambda c: (c.charged_at, c.id)):
        if room is not None and room <= 0:
            break
        if not charge.eligible or charge.net_minor <= 0:
            continue
        if not turnover_reached(rule, charge, history):
            continue
        amount = reward_of(rule, charge.net_minor)
        if amount <= 0:
            continue
        out.append(
            PlannedAccrual(
                charge.id, amount, due_on(rule, charge.charged_at, paid_at.get(charge.id))
            )
        )
        if room is not None:
            room -= 1
    return out


def reversal_of(accrued_minor: int, reversed_minor: int, charge_net: int, refund_net: int) -> int:
    """The part of an accrual a refund of ``refund_net`` (positive) out of a ``charge_net``
    charge takes back: in proportion, never more than what is left."""
    if charge_net <= 0 or accrued_minor <= reversed_minor:
        return 0
    share = round_minor(Decimal(accrued_minor) * Decimal(refund_net) / Decimal(charge_net))
    return max(0, min(share, accrued_minor - reversed_minor))


def charge_paid_at(
    charges: Sequence[tuple[int, datetime]], balances: Sequence[tuple[datetime, int]]
) -> dict[int, datetime]:
    """When each charge ``(id, charged_at)`` counts as paid: the first moment at or after the
    charge when the wallet's running balance (``balances``: time, balance after it, in order)
    is no longer negative. Charges not paid yet are left out."""
    out: dict[int, datetime] = {}
    for charge_id, charged_at in charges:
        for moment, balance in balances:
            if moment >= charged_at and balance >= 0:
                out[charge_id] = moment
                break
    return out
