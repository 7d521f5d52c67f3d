"""Template filters of the client area: ``{{ amount|money:currency }}``, ``{{ d|day }}``."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django import template

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
def moment(value: datetime | None) -> str:
    return formatting.moment(value)


@register.filter
def get_item(mapping: dict[str, Any], key: str) -> Any:
    return mapping.get(key)
