"""Fixed-date examples for billow.core.periods (given/when/then in each test's shape)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from fractions import Fraction
from zoneinfo import ZoneInfo

import pytest

from billow.core.errors import ValidationError
from billow.core.periods import (
    BillingMode,
    MonthPiece,
    Period,
    add_months,
    anniversary_periods,
    billing_periods,
    calendar_first_fraction,
    calendar_first_period,
    calendar_periods,
    partial_month_fraction,
    period_end,
    prorata_fraction,
    split_by_month,
    truncate_to_hour,
)


def code_of(exc_info: pytest.ExceptionInfo[ValidationError]) -> str:
    return exc_info.value.code


# -- add_months -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "months", "anchor", "expected"),
    [
        (date(2025, 1, 31), 1, None, date(2025, 2, 28)),
        (date(2024, 1, 31), 1, None, date(2024, 2, 29)),
        (date(2025, 2, 28), 1, 31, date(2025, 3, 31)),
        (date(2025, 4, 30), 1, 31, date(2025, 5, 31)),
        (date(2025, 3, 31), -1, None, date(2025, 2, 28)),
        (date(2025, 11, 15), 3, None, date(2026, 2, 15)),
        (date(2025, 1, 1), -13, None, date(2023, 12, 1)),
        (date(2025, 6, 5), 0, None, date(2025, 6, 5)),
    ],
)
def test_add_months_clamps_and_restores_anchor(start, months, anchor, expected):
    assert add_months(start, months, anchor_day=anchor) == expected


def test_add_months_keeps_time_of_day_in_utc():
    start = datetime(2025, 1, 31, 13, 45, tzinfo=UTC)
    assert add_months(start, 1) == datetime(2025, 2, 28, 13, 45, tzinfo=UTC)


@pytest.mark.parametrize("anchor", [0, 32, True])
def test_add_months_refuses_bad_anchor(anchor):
    with pytest.raises(ValidationError) as exc:
        add_months(date(2025, 1, 1), 1, anchor_day=anchor)
    assert code_of(exc) == "invalid_anchor_day"


def test_add_months_out_of_range():
    with pytest.raises(ValidationError) as exc:
        add_months(date(9999, 12, 1), 1)
    assert code_of(exc) == "date_out_of_range"


# -- anniversary ------------------------------------------------------------------------------


def test_anniversary_series_from_31_january_restores_the_31st():
    periods = anniversary_periods(date(2025, 1, 31), Period.MONTH_1, 5)
    assert periods == [
        (date(2025, 1, 31), date(2025, 2, 28)),
        (date(2025, 2, 28), date(2025, 3, 31)),
        (date(2025, 3, 31), date(2025, 4, 30)),
        (date(2025, 4, 30), date(2025, 5, 31)),
        (date(2025, 5, 31), date(2025, 6, 30)),
    ]


def test_anniversary_series_from_31_january_in_a_leap_year():
    periods = anniversary_periods(date(2024, 1, 31), "1m", 2)
    assert periods == [
        (date(2024, 1, 31), date(2024, 2, 29)),
        (date(2024, 2, 29), date(2024, 3, 31)),
    ]


def test_yearly_series_from_29_february_returns_on_leap_years():
    ends = [end for _, end in anniversary_periods(date(2024, 2, 29), Period.MONTH_12, 4)]
    assert ends == [date(2025, 2, 28), date(2026, 2, 28), date(2027, 2, 28), date(2028, 2, 29)]


def test_period_end_billmanager_example_5_june_three_months():
    assert period_end(date(2025, 6, 5), Period.MONTH_3) == date(2025, 9, 5)


def test_period_end_with_anchor_after_a_short_month():
    assert period_end(date(2025, 2, 28), "1m", anchor_day=31) == date(2025, 3, 31)


@pytest.mark.parametrize(
    ("period", "expected"),
    [
        (Period.MONTH_6, date(2024, 8, 29)),
        (Period.MONTH_24, date(2026, 2, 28)),
        (Period.MONTH_36, date(2027, 2, 28)),
        (Period.DAY, date(2024, 3, 1)),
    ],
)
def test_period_end_for_each_length(period, expected):
    assert period_end(date(2024, 2, 29), period) == expected


def test_day_period_crosses_leap_day():
    assert period_end(date(2024, 2, 28), Period.DAY) == date(2024, 2, 29)


def test_trial_lasts_the_given_days():
    assert period_end(date(2025, 1, 25), Period.TRIAL, trial_days=14) == date(2025, 2, 8)


@pytest.mark.parametrize("trial_days", [None, 0, -3])
def test_trial_needs_positive_days(trial_days):
    with pytest.raises(ValidationError) as exc:
        period_end(date(2025, 1, 1), Period.TRIAL, trial_days=trial_days)
    assert code_of(exc) == "invalid_trial_days"


def test_hour_period_moves_by_elapsed_time_in_utc():
    # 02:00 Berlin on the DST switch day does not exist on the wall; in UTC it is one hour.
    start = datetime(2025, 3, 30, 1, 30, tzinfo=ZoneInfo("Europe/Berlin"))
    end = period_end(start, Period.HOUR)
    assert end == datetime(2025, 3, 30, 1, 30, tzinfo=UTC)
    assert end.tzinfo is UTC
    assert end - start == timedelta(hours=1)


def test_hour_periods_series():
    start = datetime(2025, 12, 31, 23, 0, tzinfo=UTC)
    assert anniversary_periods(start, "hour", 2) == [
        (start, datetime(2026, 1, 1, 0, 0, tzinfo=UTC)),
        (datetime(2026, 1, 1, 0, 0, tzinfo=UTC), datetime(2026, 1, 1, 1, 0, tzinfo=UTC)),
    ]


def test_hour_period_needs_a_datetime():
    with pytest.raises(ValidationError) as exc:
        period_end(date(2025, 1, 1), Period.HOUR)
    assert code_of(exc) == "datetime_required"


def test_naive_datetimes_are_refused():
    with pytest.raises(ValidationError) as exc:
        period_end(datetime(2025, 1, 1, 10, 0), Period.HOUR)
    assert code_of(exc) == "naive_datetime"


def test_truncate_to_hour():
    moment = datetime(2025, 5, 1, 12, 59, 59, 999, tzinfo=ZoneInfo("Europe/Moscow"))
    assert truncate_to_hour(moment) == datetime(2025, 5, 1, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize("period", ["2m", "", "lifetime", None])
def test_unknown_period(period):
    with pytest.raises(ValidationError) as exc:
        period_end(date(2025, 1, 1), period)
    assert code_of(exc) == "unknown_period"


@pytest.mark.parametrize("count", [0, -1, True])
def test_anniversary_count_must_be_positive(count):
    with pytest.raises(ValidationError) as exc:
        anniversary_periods(date(2025, 1, 1), "1m", count)
    assert code_of(exc) == "invalid_count"


# -- calendar ---------------------------------------------------------------------------------


def test_calendar_ordered_before_prorata_day_ends_with_the_month():
    assert calendar_first_period(date(2025, 4, 15), Period.MONTH_1, 20) == (
        date(2025, 4, 15),
        date(2025, 5, 1),
    )
    assert calendar_first_fraction(date(2025, 4, 15), Period.MONTH_1, 20) == Fraction(16, 30)


def test_calendar_ordered_on_prorata_day_runs_to_the_end_of_next_month():
    assert calendar_first_period(date(2025, 4, 20), Period.MONTH_1, 20) == (
        date(2025, 4, 20),
        date(2025, 6, 1),
    )
    assert calendar_first_fraction(date(2025, 4, 20), Period.MONTH_1, 20) == Fraction(41, 30)


def test_calendar_three_months_before_and_after_prorata_day():
    assert calendar_first_period(date(2025, 4, 15), "3m", 20)[1] == date(2025, 7, 1)
    assert calendar_first_fraction(date(2025, 4, 15), "3m", 20) == Fraction(38, 45)
    assert calendar_first_period(date(2025, 4, 25), "3m", 20)[1] == date(2025, 8, 1)
    assert calendar_first_fraction(date(2025, 4, 25), "3m", 20) == Fraction(6 + 90, 90)


def test_calendar_ordered_on_the_first_before_prorata_day_is_a_whole_period():
    assert calendar_first_period(date(2025, 2, 1), "1m", 10) == (date(2025, 2, 1), date(2025, 3, 1))
    assert calendar_first_fraction(date(2025, 2, 1), "1m", 10) == 1


def test_calendar_in_a_leap_february():
    assert calendar_first_period(date(2024, 2, 10), "1m", 15) == (
        date(2024, 2, 10),
        date(2024, 3, 1),
    )
    assert calendar_first_fraction(date(2024, 2, 10), "1m", 15) == Fraction(20, 29)


def test_calendar_december_order_crosses_the_year():
    assert calendar_first_period(date(2025, 12, 28), "12m", 28) == (
        date(2025, 12, 28),
        date(2027, 1, 1),
    )


def test_calendar_later_periods_align_to_the_first():
    assert calendar_periods(date(2025, 4, 15), "1m", 20, 3) == [
        (date(2025, 4, 15), date(2025, 5, 1)),
        (date(2025, 5, 1), date(2025, 6, 1)),
        (date(2025, 6, 1), date(2025, 7, 1)),
    ]


def test_partial_month_fraction_formula():
    assert partial_month_fraction(date(2024, 2, 10)) == Fraction(20, 29)
    assert partial_month_fraction(date(2025, 1, 31)) == Fraction(1, 31)
    assert partial_month_fraction(date(2025, 1, 1)) == 1


@pytest.mark.parametrize("prorata_day", [0, 29, 31, -1, True, "5"])
def test_prorata_day_out_of_range(prorata_day):
    with pytest.raises(ValidationError) as exc:
        calendar_first_period(date(2025, 4, 15), "1m", prorata_day)
    assert code_of(exc) == "invalid_prorata_day"


@pytest.mark.parametrize("period", [Period.DAY, Period.HOUR, Period.TRIAL])
def test_calendar_needs_a_monthly_period(period):
    with pytest.raises(ValidationError) as exc:
        calendar_first_period(date(2025, 4, 15), period, 10)
    assert code_of(exc) == "calendar_needs_monthly_period"


def test_billing_periods_dispatches_by_mode():
    assert billing_periods(date(2025, 4, 15), "1m", BillingMode.CALENDAR, 1, prorata_day=20) == [
        (date(2025, 4, 15), date(2025, 5, 1))
    ]
    assert billing_periods(date(2025, 4, 15), "1m", "anniversary", 1) == [
        (date(2025, 4, 15), date(2025, 5, 15))
    ]
    # Day periods are never calendar-aligned.
    assert billing_periods(date(2025, 4, 15), "day", "calendar", 1, prorata_day=20) == [
        (date(2025, 4, 15), date(2025, 4, 16))
    ]


def test_billing_periods_refuses_unknown_mode_and_missing_prorata_day():
    with pytest.raises(ValidationError) as exc:
        billing_periods(date(2025, 4, 15), "1m", "weekly", 1)
    assert code_of(exc) == "unknown_billing_mode"
    with pytest.raises(ValidationError) as exc:
        billing_periods(date(2025, 4, 15), "1m", "calendar", 1)
    assert code_of(exc) == "invalid_prorata_day"


# -- fractions --------------------------------------------------------------------------------


def test_prorata_fraction_by_days():
    assert prorata_fraction(
        date(2025, 4, 15), date(2025, 5, 1), date(2025, 4, 1), date(2025, 5, 1)
    ) == Fraction(16, 30)


def test_prorata_fraction_by_elapsed_time_for_datetimes():
    p0 = datetime(2025, 4, 1, tzinfo=UTC)
    assert prorata_fraction(p0, p0 + timedelta(hours=6), p0, p0 + timedelta(days=1)) == Fraction(
        1, 4
    )


@pytest.mark.parametrize(
    ("used", "period", "code"),
    [
        (
            (date(2025, 4, 15), date(2025, 4, 15)),
            (date(2025, 4, 1), date(2025, 5, 1)),
            "invalid_interval",
        ),
        (
            (date(2025, 4, 16), date(2025, 4, 15)),
            (date(2025, 4, 1), date(2025, 5, 1)),
            "invalid_interval",
        ),
        (
            (date(2025, 4, 2), date(2025, 4, 3)),
            (date(2025, 5, 1), date(2025, 4, 1)),
            "invalid_interval",
        ),
        (
            (date(2025, 3, 31), date(2025, 4, 3)),
            (date(2025, 4, 1), date(2025, 5, 1)),
            "outside_period",
        ),
        (
            (date(2025, 4, 30), date(2025, 5, 2)),
            (date(2025, 4, 1), date(2025, 5, 1)),
            "outside_period",
        ),
    ],
)
def test_prorata_fraction_refuses_bad_intervals(used, period, code):
    with pytest.raises(ValidationError) as exc:
        prorata_fraction(*used, *period)
    assert code_of(exc) == code


def test_split_by_month_pieces_and_fractions():
    pieces = split_by_month(date(2025, 1, 15), date(2025, 3, 10))
    assert pieces == [
        MonthPiece(date(2025, 1, 15), date(2025, 2, 1), 17, Fraction(17, 54), Fraction(17, 31)),
        MonthPiece(date(2025, 2, 1), date(2025, 3, 1), 28, Fraction(28, 54), Fraction(1)),
        MonthPiece(date(2025, 3, 1), date(2025, 3, 10), 9, Fraction(9, 54), Fraction(9, 31)),
    ]
    assert sum(p.fraction for p in pieces) == 1


def test_split_by_month_of_a_yearly_period_has_twelve_pieces():
    pieces = split_by_month(date(2024, 1, 31), date(2025, 1, 31))
    assert len(pieces) == 13
    assert [p.days for p in pieces][:2] == [1, 29]
    assert sum(p.days for p in pieces) == 366


def test_split_by_month_refuses_empty_and_datetimes():
    with pytest.raises(ValidationError) as exc:
        split_by_month(date(2025, 1, 15), date(2025, 1, 15))
    assert code_of(exc) == "invalid_interval"
    with pytest.raises(ValidationError) as exc:
        split_by_month(datetime(2025, 1, 1, tzinfo=UTC), datetime(2025, 2, 1, tzinfo=UTC))
    assert code_of(exc) == "date_required"


def test_calendar_order_on_the_first_is_one_aligned_month_even_with_prorata_day_1():
    # Given pro-rata day 1, when ordered exactly on the 1st, the month is already aligned
    start, end = calendar_first_period(date(2027, 3, 1), Period.MONTH_1, 1)
    assert (start, end) == (date(2027, 3, 1), date(2027, 4, 1))
    assert calendar_first_fraction(date(2027, 3, 1), Period.MONTH_1, 1) == 1
    # and on the 2nd it runs to the end of the next month.
    assert calendar_first_period(date(2027, 3, 2), Period.MONTH_1, 1)[1] == date(2027, 5, 1)
