"""The pure part of what people see of usage: date ranges, the daily points of a chart with the
running month total and the overage days, month summaries. No
database: ``usage.charts`` loads the rollups and calls these (tested without a DB); days are
aggregated by ``usage.selectors.aggregate_days``, the rollups' own rule."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum

from billow.core.money import round_minor
from billow.core.periods import add_months, first_of_next_month
from billow.usage.rating import overage_of
from billow.usage.selectors import aggregate_days

ZERO = Decimal(0)
#: A custom range longer than this is refused by the forms (two years and a day).
MAX_RANGE_DAYS = 732


class Range(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    YEAR = "year"
    CUSTOM = "custom"


@dataclass(frozen=True, slots=True)
class DateRange:
    name: str
    date_from: date
    date_to: date

    @property
    def days(self) -> int:
        return (self.date_to - self.date_from).days + 1


def resolve_range(
    name: str, *, today: date, date_from: date | None = None, date_to: date | None = None
) -> DateRange:
    """The inclusive days a range name means on ``today``: day = today; week = the last 7 days;
    month = this calendar month so far (the period per-month rating resets on the 1st); year =
    this month and the 11 before it, whole months; custom = the given days."""
    if name == Range.DAY:
        return DateRange(name, today, today)
    if name == Range.WEEK:
        return DateRange(name, today - timedelta(days=6), today)
    if name == Range.YEAR:
        return DateRange(name, add_months(today.replace(day=1), -11), today)
    if name == Range.CUSTOM and date_from is not None and date_to is not None:
        return DateRange(name, min(date_from, date_to), max(date_from, date_to))
    return DateRange(Range.MONTH.value, today.replace(day=1), today)


def days_between(date_from: date, date_to: date) -> list[date]:
    return [date_from + timedelta(days=n) for n in range((date_to - date_from).days + 1)]


def months_between(date_from: date, date_to: date) -> list[date]:
    """The first days of the calendar months the range touches."""
    months, month = [], date_from.replace(day=1)
    while month <= date_to:
        months.append(month)
        month = first_of_next_month(month)
    return months


@dataclass(frozen=True, slots=True)
class ChartPoint:
    """One day: its value, the month's running total up to it (as rated), whether it is over
    the included amount (the day itself when rated per day; per month, a day with data whose
    running total is beyond it)."""

    day: date
    value: Decimal
    month_to_date: Decimal
    over: bool


def chart_points(
    daily: Mapping[date, Decimal],
    *,
    date_from: date,
    date_to: date,
    included: Decimal,
    per_day: bool,
    aggregation: str,
) -> list[ChartPoint]:
    """A point for every day of the range (a day without records shows 0). ``daily`` must also
    hold the days from the 1st of ``date_from``'s month, so the running total is the month's.
    Months combine the days with data, like the monthly rollup (``UsageMonthly``)."""
    points: list[ChartPoint] = []
    month_values: list[Decimal] = []
    for day in days_between(date_from.replace(day=1), date_to):
        if day.day == 1:
            month_values = []
        value = daily.get(day, ZERO)
        if day in daily:  # a day without records counts for sum and max, not for last / avg
            month_values.append(value)
        if day < date_from:
            continue
        running = aggregate_days(aggregation, month_values)
        over = value > included if per_day else (day in daily and running > included)
        points.append(ChartPoint(day, value, running, over))
    return points


@dataclass(frozen=True, slots=True)
class MonthSummary:
    """A calendar month of one addon: used (as rated), included, the overage units and what
    they cost at the addon's overage price, rounded as rating rounds (once per rating period:
    the month, or each day)."""

    month: date
    used: Decimal
    included: Decimal
    overage: Decimal
    overage_minor: int
    over_days: int


def month_summary(
    month: date,
    daily: Mapping[date, Decimal],
    *,
    included: Decimal,
    per_day: bool,
    aggregation: str,
    overage_price_minor: Decimal,
) -> MonthSummary:
    days = days_between(month, first_of_next_month(month) - timedelta(days=1))
    values = [daily[d] for d in days if d in daily]  # the days with data, as the rollup does
    used = aggregate_days(aggregation, values)
    if per_day:  # each day is its own period, rated (and rounded) on its own
        over = [overage_of(v, included) for v in values if v > included]
        overage = sum(over, ZERO)
        overage_minor = sum(round_minor(o * overage_price_minor) for o in over)
        over_days = len(over)
    else:
        overage = overage_of(used, included)
        overage_minor = round_minor(overage * overage_price_minor)
        over_days = _days_over_running(values, included, aggregation)
    return MonthSummary(month, used, included, overage, overage_minor, over_days)


def _days_over_running(values: list[Decimal], included: Decimal, aggregation: str) -> int:
    return sum(
        1 for n in range(len(values)) if aggregate_days(aggregation, values[: n + 1]) > included
    )


def percent_used(used: Decimal, included: Decimal) -> int | None:
    """Used as a whole percentage of the included amount (None when nothing is included)."""
    if included <= 0:
        return None
    return int(used * 100 / included)
