"""Billing-period arithmetic. All period math lives here (STYLE §13).

The enums are the shared vocabulary; below them, pure functions over ``date`` (and aware
``datetime`` for hour periods): month arithmetic with month-end clamping, anniversary and calendar
(pro-rata day) periods, exact pro-rata fractions and month splits. Periods are half-open
``[start, end)``: the end of one is the start of the next. Bad input raises
``ValidationError`` with a stable code (``invalid_prorata_day``, ``invalid_interval``,
``unknown_period``, ...).
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import MAXYEAR, MINYEAR, UTC, date, datetime, timedelta
from enum import StrEnum
from fractions import Fraction
from itertools import pairwise
from typing import Any, TypeVar

from billow.core.errors import ValidationError


class Period(StrEnum):
    """A billing period a price is quoted for. Stored as these codes in the database."""

    HOUR = "hour"
    DAY = "day"
    MONTH_1 = "1m"
    MONTH_3 = "3m"
    MONTH_6 = "6m"
    MONTH_12 = "12m"
    MONTH_24 = "24m"
    MONTH_36 = "36m"
    TRIAL = "trial"

    @property
    def months(self) -> int:
        """Length in whole months; 0 for hour, day and trial periods."""
        return _MONTHS.get(self, 0)

    @property
    def is_monthly(self) -> bool:
        return self.months > 0


_MONTHS = {
    Period.MONTH_1: 1,
    Period.MONTH_3: 3,
    Period.MONTH_6: 6,
    Period.MONTH_12: 12,
    Period.MONTH_24: 24,
    Period.MONTH_36: 36,
}

PERIOD_CHOICES = [
    (Period.HOUR.value, "Hour"),
    (Period.DAY.value, "Day"),
    (Period.MONTH_1.value, "1 month"),
    (Period.MONTH_3.value, "3 months"),
    (Period.MONTH_6.value, "6 months"),
    (Period.MONTH_12.value, "1 year"),
    (Period.MONTH_24.value, "2 years"),
    (Period.MONTH_36.value, "3 years"),
    (Period.TRIAL.value, "Trial"),
]


#: Hours in a month when an hourly price is shown per month ("about X per month"): 8760 / 12.
HOURS_PER_MONTH = 730


class BillingMode(StrEnum):
    """Anniversary: periods start on the order day. Calendar: periods align to the 1st."""

    ANNIVERSARY = "anniversary"
    CALENDAR = "calendar"


BILLING_MODE_CHOICES = [
    (BillingMode.ANNIVERSARY.value, "Anniversary (from the order date)"),
    (BillingMode.CALENDAR.value, "Calendar (aligned to the 1st, with a pro-rata day)"),
]


# =============================================================================================
# Arithmetic. Pure functions over ``date`` (and aware ``datetime`` for hour/day periods).
# Intervals are half-open: ``[start, end)``; the end of one period is the start of the next.
# =============================================================================================

D = TypeVar("D", bound=date)


def _invalid(message: str, code: str, **details: Any) -> ValidationError:
    return ValidationError(message, code=code, **details)


def to_period(value: Period | str) -> Period:
    """Coerce a stored code (``"3m"``) to :class:`Period`; raises ``unknown_period``."""
    try:
        return Period(value)
    except ValueError:
        raise _invalid(f"Unknown period {value!r}", "unknown_period", period=str(value)) from None


def days_in_month(year: int, month: int) -> int:
    return calendar.monthrange(year, month)[1]


def first_of_next_month(d: date) -> date:
    """The 1st of the month after ``d`` (a plain date)."""
    return date(d.year + d.month // 12, d.month % 12 + 1, 1)


def _check_anchor_day(anchor_day: int) -> int:
    if isinstance(anchor_day, bool) or not isinstance(anchor_day, int) or not 1 <= anchor_day <= 31:
        raise _invalid("anchor_day must be 1..31", "invalid_anchor_day", anchor_day=anchor_day)
    return anchor_day


def _check_aware(value: date) -> None:
    if isinstance(value, datetime) and value.utcoffset() is None:
        raise _invalid("naive datetimes are refused; use aware UTC", "naive_datetime")


def _utc(value: D) -> D:
    """Aware datetimes are computed (and returned) in UTC; plain dates pass through."""
    _check_aware(value)
    return value.astimezone(UTC) if isinstance(value, datetime) else value


def add_months(d: D, n: int, *, anchor_day: int | None = None) -> D:
    """``d`` moved by ``n`` months, clamped to the month end.

    ``anchor_day`` (default ``d.day``) is the day the series is anchored to: it is restored
    whenever the target month has it, so 31 Jan + 1 -> 28/29 Feb, and
    ``add_months(date(2025, 2, 28), 1, anchor_day=31)`` -> 31 Mar. Aware datetimes are moved in
    UTC, keeping the time of day.
    """
    d = _utc(d)
    day = _check_anchor_day(d.day if anchor_day is None else anchor_day)
    index = d.year * 12 + (d.month - 1) + n
    year, month = divmod(index, 12)
    if not MINYEAR <= year <= MAXYEAR:
        raise _invalid("date out of range", "date_out_of_range", months=n)
    return d.replace(year=year, month=month + 1, day=min(day, days_in_month(year, month + 1)))


def _shift(start: D, delta: timedelta) -> D:
    """``start + delta``; datetimes move by elapsed time in UTC (no DST surprises)."""
    try:
        if isinstance(start, datetime):
            return _utc(start) + delta
        if delta % timedelta(days=1):
            raise _invalid("hour periods need an aware datetime", "datetime_required")
        return start + delta
    except OverflowError:
        raise _invalid("date out of range", "date_out_of_range") from None


def _trial_delta(trial_days: int | None) -> timedelta:
    if isinstance(trial_days, bool) or not isinstance(trial_days, int) or trial_days < 1:
        raise _invalid("trial periods need trial_days >= 1", "invalid_trial_days")
    return timedelta(days=trial_days)


def _fixed_delta(period: Period, trial_days: int | None) -> timedelta:
    if period is Period.HOUR:
        return timedelta(hours=1)
    if period is Period.DAY:
        return timedelta(days=1)
    return _trial_delta(trial_days)


def period_end(
    start: D,
    period: Period | str,
    *,
    anchor_day: int | None = None,
    trial_days: int | None = None,
) -> D:
    """The exclusive end of the period that starts at ``start``.

    Monthly periods clamp to the month end and restore ``anchor_day`` (default ``start.day``);
    hour periods need an aware datetime; trial periods last ``trial_days`` days.
    """
    p = to_period(period)
    _check_aware(start)
    if p.is_monthly:
        return add_months(start, p.months, anchor_day=anchor_day)
    return _shift(start, _fixed_delta(p, trial_days))


def anniversary_boundary(
    start: D, period: Period | str, index: int, *, trial_days: int | None = None
) -> D:
    """The ``index``-th boundary of the series anchored at ``start`` (0 -> ``start``).

    Computed from the anchor, never by chaining clamped results, so a series started on
    31 Jan runs 31 Jan, 28/29 Feb, 31 Mar, 30 Apr, 31 May ...
    """
    p = to_period(period)
    start = _utc(start)
    if p.is_monthly:
        return add_months(start, p.months * index, anchor_day=start.day)
    return _shift(start, _fixed_delta(p, trial_days) * index)


def _check_count(count: int) -> None:
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise _invalid("count must be a positive integer", "invalid_count", count=count)


def anniversary_periods(
    start: D, period: Period | str, count: int, *, trial_days: int | None = None
) -> list[tuple[D, D]]:
    """``count`` consecutive half-open ``(start, end)`` periods anchored at ``start``."""
    _check_count(count)
    bounds = [
        anniversary_boundary(start, period, k, trial_days=trial_days) for k in range(count + 1)
    ]
    return list(pairwise(bounds))


# -- calendar billing (BILLmanager "Calendar-based charges" + "Pro-rata day") -----------------


def check_prorata_day(prorata_day: int) -> int:
    """Refuse a pro-rata day outside 1..28 (``invalid_prorata_day``)."""
    if (
        isinstance(prorata_day, bool)
        or not isinstance(prorata_day, int)
        or not 1 <= prorata_day <= 28
    ):
        raise _invalid("prorata_day must be 1..28", "invalid_prorata_day", prorata_day=prorata_day)
    return prorata_day


def _monthly(period: Period | str) -> Period:
    p = to_period(period)
    if not p.is_monthly:
        raise _invalid(
            "calendar billing applies to monthly periods", "calendar_needs_monthly_period", period=p
        )
    return p


def _plain_date(value: date, field: str) -> date:
    if isinstance(value, datetime) or not isinstance(value, date):
        raise _invalid(f"{field} must be a date", "date_required", field=field)
    return value


def partial_month_fraction(d: date) -> Fraction:
    """Share of ``d``'s month from ``d`` to the month end: (days_in_month - day + 1) / days."""
    n = days_in_month(d.year, d.month)
    return Fraction(n - d.day + 1, n)


def calendar_first_period(
    order_date: date, period: Period | str, prorata_day: int
) -> tuple[date, date]:
    """The first period of a calendar-billed service ordered on ``order_date``.

    Ordered before the pro-rata day: from the order date to the end of the current month plus
    ``months - 1`` whole months. On or after it: one whole month more. An order on the 1st is
    already aligned, so it never gets the extra month (even with pro-rata day 1). The end is
    exclusive, so it is always the 1st of a month; later periods follow from there.
    """
    p = _monthly(period)
    check_prorata_day(prorata_day)
    start = _plain_date(order_date, "order_date")
    aligned = start.day == 1 or start.day < prorata_day
    extra = p.months - 1 if aligned else p.months
    return start, add_months(first_of_next_month(start), extra)


def calendar_first_fraction(order_date: date, period: Period | str, prorata_day: int) -> Fraction:
    """What the first calendar period costs, as a fraction of the period price.

    (partial month + whole months) / months, e.g. ordered 15 Apr before the pro-rata day for one
    month -> 16/30; on/after it -> 1 + 16/30.
    """
    p = _monthly(period)
    _, end = calendar_first_period(order_date, p, prorata_day)
    whole_months = (end.year * 12 + end.month) - (order_date.year * 12 + order_date.month) - 1
    return (partial_month_fraction(order_date) + whole_months) / p.months


def calendar_periods(
    order_date: date, period: Period | str, prorata_day: int, count: int
) -> list[tuple[date, date]]:
    """The first calendar period then ``count - 1`` more, each aligned to the 1st."""
    _check_count(count)
    p = _monthly(period)
    first = calendar_first_period(order_date, p, prorata_day)
    bounds = [first[0], first[1]]
    bounds += [add_months(first[1], p.months * k) for k in range(1, count)]
    return list(pairwise(bounds))


def billing_periods(
    start: date,
    period: Period | str,
    mode: BillingMode | str,
    count: int,
    *,
    prorata_day: int | None = None,
    trial_days: int | None = None,
) -> list[tuple[Any, Any]]:
    """``count`` consecutive periods for a billing mode.

    Calendar mode applies to monthly periods only (needs ``prorata_day``); hour, day and trial
    periods always run from the start (anniversary), as in BILLmanager.
    """
    p = to_period(period)
    try:
        m = BillingMode(mode)
    except ValueError:
        raise _invalid(f"Unknown billing mode {mode!r}", "unknown_billing_mode") from None
    if m is BillingMode.CALENDAR and p.is_monthly:
        if prorata_day is None:
            raise _invalid("calendar billing needs a prorata_day", "invalid_prorata_day")
        return calendar_periods(start, p, prorata_day, count)
    return anniversary_periods(start, p, count, trial_days=trial_days)


# -- fractions --------------------------------------------------------------------------------


def _check_interval(start: date, end: date, what: str) -> None:
    if type(start) is not type(end):
        raise _invalid(f"{what}: start and end must be the same type", "invalid_interval")
    _check_aware(start)
    _check_aware(end)
    if end <= start:
        raise _invalid(f"{what}: end must be after start", "invalid_interval", what=what)


def _ticks(delta: timedelta) -> int:
    return delta // timedelta(microseconds=1)


def prorata_fraction(start: D, end: D, period_start: D, period_end: D) -> Fraction:
    """The exact share of ``[period_start, period_end)`` covered by ``[start, end)``.

    By days for dates (days used / days in the period), by elapsed time for datetimes. The used
    interval must lie inside the period (``outside_period``).
    """
    _check_interval(start, end, "used")
    _check_interval(period_start, period_end, "period")
    if type(start) is not type(period_start):
        raise _invalid("used and period must be the same type", "invalid_interval")
    if start < period_start or end > period_end:
        raise _invalid("the used interval lies outside the period", "outside_period")
    return Fraction(_ticks(end - start), _ticks(period_end - period_start))


@dataclass(frozen=True, slots=True)
class MonthPiece:
    """One calendar-month piece of a period: ``[start, end)`` inside one month.

    ``fraction`` is its share of the whole period (the pieces' fractions sum to exactly 1);
    ``month_fraction`` its share of its calendar month; ``days`` suits ``allocate`` ratios.
    """

    start: date
    end: date
    days: int
    fraction: Fraction
    month_fraction: Fraction


def split_by_month(start: date, end: date) -> list[MonthPiece]:
    """Split ``[start, end)`` (plain dates) at every 1st of a month."""
    _plain_date(start, "start")
    _plain_date(end, "end")
    _check_interval(start, end, "split")
    total = (end - start).days
    pieces: list[MonthPiece] = []
    cur = start
    while cur < end:
        nxt = min(first_of_next_month(cur), end)
        days = (nxt - cur).days
        month_days = days_in_month(cur.year, cur.month)
        pieces.append(MonthPiece(cur, nxt, days, Fraction(days, total), Fraction(days, month_days)))
        cur = nxt
    return pieces


def truncate_to_hour(moment: datetime) -> datetime:
    """The start (UTC) of the hour ``moment`` falls in; hour periods start there."""
    _check_aware(moment)
    if not isinstance(moment, datetime):
        raise _invalid("an aware datetime is required", "datetime_required")
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
