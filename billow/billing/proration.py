"""Pure period and proration arithmetic for billing (no database).

Builds on ``billow.core.periods``. Amounts are integer minor units; a fraction of an amount is
rounded once, half up (``prorate``), so the sum charged for a service never exceeds its days'
worth by more than rounding of one line.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from fractions import Fraction
from functools import lru_cache

from billow.core.periods import (
    BillingMode,
    Period,
    calendar_first_fraction,
    calendar_first_period,
    partial_month_fraction,
    period_end,
    to_period,
    truncate_to_hour,
)


def prorate(amount_minor: int, fraction: Fraction) -> int:
    """``amount_minor x fraction`` rounded half up (amount and fraction non-negative)."""
    num = amount_minor * fraction.numerator
    return (2 * num + fraction.denominator) // (2 * fraction.denominator)


def is_calendar(period: str, billing_mode: str) -> bool:
    return billing_mode == BillingMode.CALENDAR and to_period(period).is_monthly


@lru_cache(maxsize=4096)
def next_period_end(start: date, period: str, billing_mode: str, anchor_day: int) -> date:
    """The exclusive end of the period starting at ``start`` (a renewal). Cached: a run's
    services share few (start, period) pairs."""
    p = to_period(period)
    if p is Period.DAY:
        return start + timedelta(days=1)
    anchor = 1 if is_calendar(period, billing_mode) else anchor_day
    return period_end(start, p, anchor_day=anchor)


def opening_period(
    start: date, period: str, billing_mode: str, prorata_day: int, *, trial_days: int = 0
) -> tuple[date, date, Fraction]:
    """The first period of a service opened on ``start`` and the share of the period price it
    costs: anniversary (and day) periods are whole; calendar periods follow the pro-rata day;
    a trial lasts ``trial_days`` days (``invalid_trial_days`` when the tariff has none)."""
    if to_period(period) is Period.TRIAL:
        return start, period_end(start, Period.TRIAL, trial_days=trial_days), Fraction(1)
    if is_calendar(period, billing_mode):
        first_from, first_to = calendar_first_period(start, period, prorata_day)
        return first_from, first_to, calendar_first_fraction(start, period, prorata_day)
    return start, next_period_end(start, period, billing_mode, start.day), Fraction(1)


def opening_span(
    moment: datetime, period: str, billing_mode: str, prorata_day: int, *, trial_days: int = 0
) -> tuple[date, date, Fraction]:
    """The first period of a service ordered at ``moment``: an hour period is the clock hour
    (UTC) the order falls in, as aware datetimes (charged per started hour); any other period
    is ``opening_period`` of the order's date."""
    if to_period(period) is Period.HOUR:
        start = truncate_to_hour(moment)
        return start, start + timedelta(hours=1), Fraction(1)
    return opening_period(moment.date(), period, billing_mode, prorata_day, trial_days=trial_days)


def period_price_fraction(
    period_from: date, period: str, billing_mode: str, prorata_day: int
) -> Fraction:
    """The share of the full period price that the period starting at ``period_from`` costs:
    less (or more) than 1 only for a calendar first period that does not start on the 1st."""
    if is_calendar(period, billing_mode) and period_from.day != 1:
        return calendar_first_fraction(period_from, period, prorata_day)
    return Fraction(1)


def remaining_fraction(
    today: date, period_from: date, period_to: date, price_fraction: Fraction = Fraction(1)
) -> Fraction:
    """The share of the full period price still unused on ``today``: the days from ``today``
    (inclusive) to ``period_to`` over the period's days, times the period's price fraction."""
    total = (period_to - period_from).days
    left = (period_to - max(today, period_from)).days
    if total <= 0 or left <= 0:
        return Fraction(0)
    return Fraction(min(left, total), total) * price_fraction


def calendar_remaining_fraction(
    today: date, period_from: date, period_to: date, period: str
) -> Fraction:
    """The share of a calendar period's price still unused on ``today``, in month units (the
    unit the calendar first period is priced in): the rest of the month being used as a share of
    that month, plus the whole months after it, over the period's months. ``period_to`` is a
    1st. For a first period of more than a month (ordered on or after the pro-rata day) this is
    what the days of the month being used say, where a spread over the whole span is short."""
    start = max(today, period_from)
    if start >= period_to:
        return Fraction(0)
    whole_months = (period_to.year * 12 + period_to.month) - (start.year * 12 + start.month) - 1
    return (partial_month_fraction(start) + whole_months) / to_period(period).months
