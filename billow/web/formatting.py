"""Money and dates formatted for the active language (babel), never through float."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from babel.dates import format_date, format_datetime
from babel.numbers import format_currency, format_decimal
from django.utils import timezone
from django.utils.translation import gettext

from billow.core.i18n import babel_locale
from billow.core.money import exponent
from billow.core.periods import HOURS_PER_MONTH

__all__ = ["babel_locale", "day", "moment", "money"]


def money(amount_minor: int, currency: str) -> str:
    """``1234, "USD"`` -> ``$12.34`` (en), ``12,34 $`` (ru), ``12,34 US$`` (es)."""
    value = Decimal(int(amount_minor)).scaleb(-exponent(currency))
    return format_currency(value, currency, locale=babel_locale())


def hourly_price(amount_minor: int, currency: str) -> str:
    """An hourly price as clients see it: ``$0.02 per hour, about $14.60 per month`` (730
    hours a month)."""
    return gettext("%(price)s per hour, about %(monthly)s per month") % {
        "price": money(amount_minor, currency),
        "monthly": money(amount_minor * HOURS_PER_MONTH, currency),
    }


def period_price(period: str, amount_minor: int, currency: str) -> str:
    """The price of one ``period``: an hourly one with its monthly estimate."""
    if period == "hour":
        return hourly_price(amount_minor, currency)
    return money(amount_minor, currency)


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


def quantity(value: Decimal | int | None, unit: str = "") -> str:
    """A usage amount for people: ``1234.5, "GiB"`` -> ``1,234.5 GiB`` (en), at most three
    decimals, trailing zeros dropped."""
    if value is None:
        return "—"
    text = format_decimal(Decimal(value), format="#,##0.###", locale=babel_locale())
    return f"{text} {unit}".strip()


def unit_price(price_minor: Decimal | int, currency: str) -> str:
    """A per-unit rate in minor units, which may be a fraction of a cent: ``0.5, "USD"`` ->
    ``$0.005`` (shown with every significant decimal, never rounded to cents)."""
    value = Decimal(price_minor).scaleb(-exponent(currency)).normalize()
    return format_currency(value, currency, locale=babel_locale(), decimal_quantization=False)


def month_name(value: date) -> str:
    """``2026-11-01`` -> ``November 2026`` (en), ``noviembre 2026`` (es)."""
    return format_date(value, format="LLLL y", locale=babel_locale())
