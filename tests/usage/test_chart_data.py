"""The pure chart rules: ranges, a point a day with the month's running total and the overage
days, month summaries with the overage cost, the resource status."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from billow.usage.chart_data import (
    chart_points,
    month_summary,
    months_between,
    percent_used,
    resolve_range,
)

D = Decimal
TODAY = date(2026, 12, 7)


def test_ranges_on_a_day() -> None:
    def days(name: str) -> tuple[date, date]:
        rng = resolve_range(name, today=TODAY)
        return rng.date_from, rng.date_to

    assert days("day") == (TODAY, TODAY)
    assert days("week") == (date(2026, 12, 1), TODAY)
    assert days("month") == (date(2026, 12, 1), TODAY)
    assert days("year") == (date(2026, 1, 1), TODAY)
    custom = resolve_range(
        "custom", today=TODAY, date_from=date(2026, 11, 20), date_to=date(2026, 10, 30)
    )
    assert (custom.name, custom.date_from, custom.date_to, custom.days) == (
        "custom",
        date(2026, 10, 30),
        date(2026, 11, 20),
        22,
    )
    # an unknown name, or custom without its days, is this month
    assert resolve_range("decade", today=TODAY).name == "month"
    assert resolve_range("custom", today=TODAY, date_from=TODAY).name == "month"


def test_months_between_crosses_the_year() -> None:
    assert months_between(date(2025, 11, 30), date(2026, 1, 1)) == [
        date(2025, 11, 1),
        date(2025, 12, 1),
        date(2026, 1, 1),
    ]


def test_per_month_running_total_marks_the_days_after_the_included_amount() -> None:
    # given 40 GiB a day from 1 November with 100 included: the third day crosses it
    daily = {date(2026, 11, d): D(40) for d in range(1, 6)}
    # when the range starts on the 2nd (the running total still counts the 1st)
    points = chart_points(
        daily,
        date_from=date(2026, 11, 2),
        date_to=date(2026, 11, 6),
        included=D(100),
        per_day=False,
        aggregation="sum",
    )
    # then
    assert [(p.day.day, p.value, p.month_to_date, p.over) for p in points] == [
        (2, D(40), D(80), False),
        (3, D(40), D(120), True),
        (4, D(40), D(160), True),
        (5, D(40), D(200), True),
        (6, D(0), D(200), False),  # no data: nothing used over the amount that day
    ]


def test_running_total_resets_on_the_first() -> None:
    daily = {date(2026, 10, 31): D(150), date(2026, 11, 1): D(10)}
    points = chart_points(
        daily,
        date_from=date(2026, 10, 31),
        date_to=date(2026, 11, 1),
        included=D(100),
        per_day=False,
        aggregation="sum",
    )
    assert [(p.month_to_date, p.over) for p in points] == [(D(150), True), (D(10), False)]


def test_per_day_rating_compares_each_day() -> None:
    daily = {date(2026, 11, 1): D(60), date(2026, 11, 2): D(50), date(2026, 11, 3): D(70)}
    points = chart_points(
        daily,
        date_from=date(2026, 11, 1),
        date_to=date(2026, 11, 3),
        included=D(50),
        per_day=True,
        aggregation="max",
    )
    assert [(p.over, p.month_to_date) for p in points] == [
        (True, D(60)),
        (False, D(60)),
        (True, D(70)),
    ]


def test_month_summary_per_month_prices_the_overage_once() -> None:
    # 30 days of 7.25 GiB = 217.5 GiB; 100 included; 117.5 GiB at 0.5 cents = 58.75 -> 59 cents
    daily = {date(2026, 11, d): D("7.25") for d in range(1, 31)}
    m = month_summary(
        date(2026, 11, 1),
        daily,
        included=D(100),
        per_day=False,
        aggregation="sum",
        overage_price_minor=D("0.5"),
    )
    assert (m.used, m.overage, m.overage_minor, m.over_days) == (D("217.5"), D("117.5"), 59, 17)


def test_month_summary_per_day_adds_each_days_overage() -> None:
    # stored data 60, 40, 80 GiB on three days, 50 included a day: 10 + 30 = 40 GiB-days over
    daily = {date(2026, 11, 1): D(60), date(2026, 11, 2): D(40), date(2026, 11, 3): D(80)}
    m = month_summary(
        date(2026, 11, 1),
        daily,
        included=D(50),
        per_day=True,
        aggregation="max",
        overage_price_minor=D(25),
    )
    assert (m.used, m.overage, m.overage_minor, m.over_days) == (D(80), D(40), 1000, 2)


def test_month_summary_per_day_rounds_each_day_like_rating() -> None:
    # 51 GiB on two days, 50 included, 0.5 cents a GiB-day: 0.5 -> 1 cent each day, 2 in all
    daily = {date(2026, 11, 1): D(51), date(2026, 11, 2): D(51)}
    m = month_summary(
        date(2026, 11, 1),
        daily,
        included=D(50),
        per_day=True,
        aggregation="max",
        overage_price_minor=D("0.5"),
    )
    assert (m.overage, m.overage_minor) == (D(2), 2)


def test_month_summary_without_data() -> None:
    m = month_summary(
        date(2026, 2, 1),
        {},
        included=D(10),
        per_day=False,
        aggregation="avg",
        overage_price_minor=D(1),
    )
    assert (m.used, m.overage, m.overage_minor, m.over_days) == (D(0), D(0), 0, 0)


def test_percent_used() -> None:
    assert percent_used(D(150), D(100)) == 150
    assert percent_used(D("79.9"), D(100)) == 79
    assert percent_used(D(1), D(0)) is None
