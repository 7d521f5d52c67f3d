"""The pure reward rules: amounts, moments, frequency, the turnover window, reversals and the
moment a charge counts as paid."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from billow.marketing.referrals.rules import (
    ChargeInfo,
    PlannedAccrual,
    RuleInfo,
    charge_paid_at,
    due_on,
    plan_rule,
    reversal_of,
    reward_of,
)


def at(d: int, m: int = 1) -> datetime:
    return datetime(2025, m, d, 12, tzinfo=UTC)


PERCENT = RuleInfo(1, "percent", percent=Decimal("12.5"))


def test_percent_rounds_half_up_and_fixed_is_the_amount() -> None:
    assert reward_of(PERCENT, 1004) == 126  # 125.5 -> 126
    assert reward_of(PERCENT, 1003) == 125  # 125.375
    assert reward_of(RuleInfo(2, "fixed", amount_minor=700), 1) == 700


def test_moments() -> None:
    assert due_on(RuleInfo(1, "fixed", amount_minor=1), at(31), None) == date(2025, 1, 31)
    later = RuleInfo(1, "fixed", amount_minor=1, moment="days_after", moment_days=3)
    assert due_on(later, at(30), None) == date(2025, 2, 2)
    paid = RuleInfo(1, "fixed", amount_minor=1, moment="on_payment")
    assert due_on(paid, at(3), None) is None
    assert due_on(paid, at(3), at(9)) == date(2025, 1, 9)


def test_first_n_counts_earlier_rewards_and_skips_ineligible_charges() -> None:
    rule = RuleInfo(1, "percent", percent=Decimal(10), frequency="first_n", frequency_count=3)
    charges = [
        ChargeInfo(1, 1000, at(1), eligible=False),
        ChargeInfo(2, 1000, at(2)),
        ChargeInfo(3, 2000, at(3)),
        ChargeInfo(4, 3000, at(4)),
    ]
    assert plan_rule(rule, charges, charges, 1, {}) == [
        PlannedAccrual(2, 100, date(2025, 1, 2)),
        PlannedAccrual(3, 200, date(2025, 1, 3)),
    ]
    once = RuleInfo(1, "fixed", amount_minor=500, frequency="once")
    assert plan_rule(once, charges, charges, 1, {}) == []


def test_turnover_counts_the_window_up_to_the_charge_with_refunds() -> None:
    rule = RuleInfo(
        1, "fixed", amount_minor=100, condition="turnover", turnover_minor=3000, turnover_days=10
    )
    history = [
        ChargeInfo(1, 2000, at(1)),  # drops out of the window of the 12th
        ChargeInfo(2, 1000, at(5)),  # 2000 + 1000 = 3000: reached
        ChargeInfo(3, -500, at(6)),  # a refund lowers the turnover
        ChargeInfo(4, 2000, at(8)),  # 2000 + 1000 - 500 + 2000 = 4500
        ChargeInfo(5, 1000, at(12)),  # window (2nd, 12th]: 1000 - 500 + 2000 + 1000 = 3500
        ChargeInfo(6, 500, at(20)),  # window (10th, 20th]: 1000 + 500 = 1500
    ]
    new = [c for c in history if c.net_minor > 0]
    assert [p.charge_id for p in plan_rule(rule, new, history, 0, {})] == [2, 4, 5]


def test_reversal_is_proportional_and_capped() -> None:
    assert reversal_of(600, 0, 6000, 1500) == 150
    assert reversal_of(600, 500, 6000, 6000) == 100
    assert reversal_of(600, 600, 6000, 1) == 0
    assert reversal_of(0, 0, 0, 10) == 0


def test_a_charge_is_paid_when_the_balance_is_no_longer_negative() -> None:
    balances = [(at(1), -1000), (at(2), -2000), (at(5), -500), (at(9), 0), (at(10), -300)]
    assert charge_paid_at([(1, at(1)), (2, at(2)), (3, at(10))], balances) == {
        1: at(9),
        2: at(9),
    }


@given(
    accrued=st.integers(0, 10**9),
    charge=st.integers(1, 10**9),
    refunds=st.lists(st.integers(1, 10**9), max_size=5),
)
def test_reversals_never_take_back_more_than_was_accrued(
    accrued: int, charge: int, refunds: list[int]
) -> None:
    taken = 0
    for refund in refunds:
        taken += reversal_of(accrued, taken, charge, refund)
    assert 0 <= taken <= accrued
