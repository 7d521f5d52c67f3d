"""Template filters of the client area: ``{{ amount|money:currency }}``, ``{{ d|day }}``."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django import template

from billow.invoicing.pdf import last_day
from billow.web import formatting

register = template.Library()


@register.filter
def money(amount_minor: int, currency: str) -> str:
    return formatting.money(amount_minor, currency)


@register.filter
def hourly_price(amount_minor: int, currency: str) -> str:
    return formatting.hourly_price(amount_minor, currency)


@register.filter
def day(value: date | datetime | None) -> str:
    return formatting.day(value)


@register.filter
def period_last_day(line: Any) -> date | None:
    """The last day of a document line's service period (its ``period_to`` is exclusive)."""
    return last_day(getattr(line, "period_from", None), getattr(line, "period_to", None))


@register.filter
def moment(value: datetime | None) -> str:
    return formatting.moment(value)


@register.filter
def get_item(mapping: dict[str, Any], key: str) -> Any:
    return mapping.get(key)


@register.filter
def quantity(value: Any, unit: str = "") -> str:
    """``{{ used|quantity:unit }}``: a usage amount with its unit, formatted for the language."""
    return formatting.quantity(value, unit)


@register.filter
def unit_price(price_minor: Any, currency: str) -> str:
    return formatting.unit_price(price_minor, currency)


@register.filter
def month_name(value: date) -> str:
    return formatting.month_name(value)
