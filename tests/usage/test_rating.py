"""Rating as pure functions: the overage of a period, its rounding, the periods a run rates and
the difference a re-rate charges."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from billow.usage.rating import (
    MeterTerms,
    PeriodUsage,
    amount_due_minor,
    closed_periods,
    overage_key,
    period_of,
    plan_overage,
)

MONTHLY = MeterTerms(1, 10, "Traffic", "GiB", Decimal(100), Decimal("5"), False, "USD")
DAILY = MeterTerms(2, 20, "Requests", "k", Decimal(10), Decimal("0.7"), True, "USD")


def usage(value: str, *, currency: str = "USD") -> PeriodUsage:
    """Service 7's March usage on the monthly meter."""
    return PeriodUsage(7, 3, 1, currency, 1, date(2025, 3, 1), date(2025, 4, 1), Decimal(value))


def test_overage_is_the_units_above_the_included_amount_at_the_overage_price() -> None:
    assert amount_due_minor(Decimal(130), MONTHLY) == 150
    assert amount_due_minor(Decimal(100), MONTHLY) == 0
    assert amount_due_minor(Decimal(40), MONTHLY) == 0


def test_sub_cent_prices_are_rounded_once_half_up() -> None:
    # 12.5 - 10 = 2.5 units x 0.7 = 1.75 -> 2; 11.5 -> 1.05 -> 1; 10.75 -> 0.525 -> 1
    assert amount_due_minor(Decimal("12.5"), DAILY) == 2
    assert amount_due_minor(Decimal("11.5"), DAILY) == 1
    assert amount_due_minor(Decimal("10.75"), DAILY) == 1


def test_periods_are_calendar_months_or_utc_days() -> None:
    assert period_of(date(2025, 2, 14), per_day=False) == (date(2025, 2, 1), date(2025, 3, 1))
    assert period_of(date(2024, 12, 31), per_day=True) == (date(2024, 12, 31), date(2025, 1, 1))


def test_a_run_rates_the_periods_that_closed_within_its_lookback() -> None:
    assert closed_periods(date(2025, 4, 1), per_day=False, lookback_days=9) == [
        (date(2025, 3, 1), date(2025, 4, 1))
    ]
    assert closed_periods(date(2025, 4, 9), per_day=False, lookback_days=9) == [
        (date(2025, 3, 1), date(2025, 4, 1))
    ]
    assert closed_periods(date(2025, 4, 10), per_day=False, lookback_days=9) == []
    assert closed_periods(date(2025, 3, 4), per_day=True, lookback_days=3) == [
        (date(2025, 3, 1), date(2025, 3, 2)),
        (date(2025, 3, 2), date(2025, 3, 3)),
        (date(2025, 3, 3), date(2025, 3, 4)),
    ]


def test_a_rerate_charges_only_what_is_due_beyond_what_was_charged() -> None:
    # given March charged 150 (130 GiB) and a late record bringing it to 140 GiB
    (charge,) = plan_overage([usage("140")], {1: MONTHLY}, {(7, 1, date(2025, 3, 1)): 150})
    # then 50 more is charged, keyed by the new total
    assert (charge.amount_minor, charge.due_minor) == (50, 200)
    assert charge.key == "usage:7:10:2025-03-01:200" == overage_key(7, 10, date(2025, 3, 1), 200)
    assert charge.description == "Traffic: 140 GiB used, 100 GiB included, 40 GiB over"
    # and an unchanged or lower usage charges nothing
    assert plan_overage([usage("140")], {1: MONTHLY}, {(7, 1, date(2025, 3, 1)): 200}) == []
    assert plan_overage([usage("120")], {1: MONTHLY}, {(7, 1, date(2025, 3, 1)): 200}) == []


def test_a_service_billed_in_another_currency_than_the_addon_is_not_rated() -> None:
    assert plan_overage([usage("500", currency="EUR")], {1: MONTHLY}, {}) == []


@given(
    st.lists(st.decimals(min_value=0, max_value=10_000, places=3), min_size=1, max_size=6),
)
def test_charges_of_successive_rerates_add_up_to_the_final_due(values: list[Decimal]) -> None:
    """However usage rises through re-rates, the charges sum to what the final usage costs."""
    charged: dict[tuple[int, int, date], int] = {}
    total = 0
    running = Decimal(0)
    for v in values:
        running += v
        for c in plan_overage([usage(str(running))], {1: MONTHLY}, charged):
            total += c.amount_minor
            charged[(c.service_id, c.meter_id, c.period_from)] = c.due_minor
    assert total == amount_due_minor(running, MONTHLY)
