"""Property tests: periods tile time, fractions of a split add up to exactly one."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from fractions import Fraction
from itertools import pairwise

from hypothesis import given
from hypothesis import strategies as st

from billow.core.periods import (
    BillingMode,
    Period,
    add_months,
    anniversary_periods,
    billing_periods,
    calendar_first_fraction,
    calendar_periods,
    days_in_month,
    prorata_fraction,
    split_by_month,
)

dates = st.dates(min_value=date(1990, 1, 1), max_value=date(2150, 12, 31))
monthly = st.sampled_from([p for p in Period if p.is_monthly])
fixed_periods = st.sampled_from([Period.DAY, Period.TRIAL])
prorata_days = st.integers(min_value=1, max_value=28)
counts = st.integers(min_value=1, max_value=40)
trial_days = st.integers(min_value=1, max_value=400)


def assert_tiles(periods, start):
    """No gap, no overlap: each period is non-empty and starts where the previous one ended."""
    assert periods[0][0] == start
    for (s, e), (next_s, _) in pairwise(periods):
        assert s < e
        assert e == next_s
    assert periods[-1][0] < periods[-1][1]


@given(dates, monthly, counts)
def test_anniversary_monthly_periods_tile_and_keep_the_anchor_day(start, period, count):
    periods = anniversary_periods(start, period, count)
    assert len(periods) == count
    assert_tiles(periods, start)
    for k, (s, _) in enumerate(periods):
        assert s == add_months(start, period.months * k)  # from the anchor, not chained
        assert s.day == min(start.day, days_in_month(s.year, s.month))


@given(dates, fixed_periods, counts, trial_days)
def test_day_and_trial_periods_tile(start, period, count, days):
    periods = anniversary_periods(start, period, count, trial_days=days)
    assert_tiles(periods, start)
    step = timedelta(days=1 if period is Period.DAY else days)
    assert all(e - s == step for s, e in periods)


@given(
    st.datetimes(
        min_value=datetime(2000, 1, 1),
        max_value=datetime(2100, 1, 1),
        timezones=st.just(UTC),
    ),
    counts,
)
def test_hour_periods_tile(start, count):
    periods = anniversary_periods(start, Period.HOUR, count)
    assert_tiles(periods, start)
    assert all(e - s == timedelta(hours=1) for s, e in periods)


@given(dates, monthly, prorata_days, counts)
def test_calendar_periods_tile_and_align_to_the_first(order_date, period, prorata_day, count):
    periods = calendar_periods(order_date, period, prorata_day, count)
    assert_tiles(periods, order_date)
    assert all(e.day == 1 for _, e in periods)
    first_end = periods[0][1]
    months_in_first = (first_end.year - order_date.year) * 12 + first_end.month - order_date.month
    aligned = order_date.day == 1 or order_date.day < prorata_day
    expected = period.months if aligned else period.months + 1
    assert months_in_first == expected
    for s, e in periods[1:]:
        assert add_months(s, period.months) == e


@given(
    dates, st.sampled_from(list(Period)), st.sampled_from(list(BillingMode)), prorata_days, counts
)
def test_billing_periods_tile_in_both_modes(start, period, mode, prorata_day, count):
    if period is Period.HOUR:
        start = datetime(start.year, start.month, start.day, tzinfo=UTC)
    periods = billing_periods(start, period, mode, count, prorata_day=prorata_day, trial_days=7)
    assert len(periods) == count
    assert_tiles(periods, start)


@given(dates, st.integers(min_value=1, max_value=1200))
def test_split_by_month_fractions_sum_to_one(start, length):
    end = start + timedelta(days=length)
    pieces = split_by_month(start, end)
    assert sum((p.fraction for p in pieces), Fraction(0)) == 1
    assert sum(p.days for p in pieces) == length
    assert pieces[0].start == start and pieces[-1].end == end
    for a, b in pairwise(pieces):
        assert a.end == b.start and b.start.day == 1
    for p in pieces:
        assert (p.start.year, p.start.month) == (
            (p.end - timedelta(days=1)).year,
            (p.end - timedelta(days=1)).month,
        )
        assert 0 < p.month_fraction <= 1


@given(dates, monthly, st.lists(st.integers(min_value=1, max_value=1100), max_size=12))
def test_prorata_fractions_of_a_split_period_add_up_to_one(start, period, cuts):
    ((p_start, p_end),) = anniversary_periods(start, period, 1)
    length = (p_end - p_start).days
    points = sorted({0, length, *(c % length for c in cuts)})
    bounds = [p_start + timedelta(days=d) for d in points]
    fractions = [prorata_fraction(a, b, p_start, p_end) for a, b in pairwise(bounds)]
    assert sum(fractions, Fraction(0)) == 1


@given(dates, monthly, prorata_days)
def test_calendar_first_fraction_matches_days_covered(order_date, period, prorata_day):
    fraction = calendar_first_fraction(order_date, period, prorata_day)
    ((_, end),) = calendar_periods(order_date, period, prorata_day, 1)
    pieces = split_by_month(order_date, end)
    assert fraction == sum((p.month_fraction for p in pieces), Fraction(0)) / period.months
    assert 0 < fraction <= Fraction(period.months + 1, period.months)


def test_every_day_of_two_years_with_every_prorata_day_tiles():
    # Exhaustive companion to the hypothesis tests: 2024 (leap) and 2025, all pro-rata days.
    day = date(2024, 1, 1)
    while day < date(2026, 1, 1):
        monthly_periods = anniversary_periods(day, Period.MONTH_1, 13)
        assert_tiles(monthly_periods, day)
        assert monthly_periods[-1][1] == add_months(day, 13)
        for prorata_day in range(1, 29):
            (first, second) = calendar_periods(day, Period.MONTH_1, prorata_day, 2)
            assert first[0] == day and first[1] == second[0] and second[1].day == 1
            assert (first[1] - day).days <= 62
        day += timedelta(days=1)
