"""Money and dates formatted for the active language (babel), never through float."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from babel.dates import format_date, format_datetime
from babel.numbers import format_currency
from django.utils import timezone

from billow.core.i18n import babel_locale
from billow.core.money import exponent

__all__ = ["babel_locale", "day", "moment", "money"]


def money(amount_minor: int, currency: str) -> str:
    """``1234, "USD"`` -> ``$12.34`` (en), ``12,34 $`` (ru), ``12,34 US$`` (es)."""
    value = Decimal(int(amount_minor)).scaleb(-exponent(currency))
    return format_currency(value, currency, locale=babel_locale())


def day(value: date | datetime | None) -> str:
    if value is None:
        return "—"
    if isinstance(value, datetime):
        value = timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    return format_date(value, format="medium", locale=babel_locale())


def moment(value: datetime | None) -> str:
    if value is None:
        return "—"
    if timezone.is_aware(value):
        value = timezone.localtime(value)
    return format_datetime(value, format="medium", locale=babel_locale())
