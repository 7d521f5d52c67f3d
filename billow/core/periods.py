"""Billing-period arithmetic. All period math lives here (STYLE §13).

(The core helper fills in the arithmetic; the enums below are the shared vocabulary.)
"""

from __future__ import annotations

from enum import StrEnum


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


class BillingMode(StrEnum):
    """Anniversary: periods start on the order day. Calendar: periods align to the 1st."""

    ANNIVERSARY = "anniversary"
    CALENDAR = "calendar"


BILLING_MODE_CHOICES = [
    (BillingMode.ANNIVERSARY.value, "Anniversary (from the order date)"),
    (BillingMode.CALENDAR.value, "Calendar (aligned to the 1st, with a pro-rata day)"),
]
