"""Serializer fields with hand-tightened OpenAPI schemas (money, periods, currencies)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from billow.core.money import MAX_MINOR, exponent
from billow.core.periods import PERIOD_CHOICES

CURRENCY_PATTERN = r"^[A-Z]{3}$"
INT64 = {"type": "integer", "format": "int64", "minimum": -MAX_MINOR, "maximum": MAX_MINOR}
MONEY_SCHEMA = {
    "type": "object",
    "required": ["amount_minor", "currency", "formatted"],
    "additionalProperties": False,
    "properties": {
        "amount_minor": INT64,
        "currency": {"type": "string", "pattern": CURRENCY_PATTERN},
        "formatted": {"type": "string", "pattern": r"^-?\d+(\.\d+)?$"},
    },
}
PERIODS = [code for code, _label in PERIOD_CHOICES]


def format_minor(amount_minor: int, currency: str) -> str:
    """``1250, "USD"`` -> ``"12.50"`` (exact; the currency's exponent)."""
    exp = exponent(currency)
    value = Decimal(amount_minor).scaleb(-exp)
    return f"{value:.{exp}f}"


def money(amount_minor: int, currency: str) -> dict[str, Any]:
    amount = int(amount_minor)
    return {
        "amount_minor": amount,
        "currency": currency,
        "formatted": format_minor(amount, currency),
    }


@extend_schema_field(MONEY_SCHEMA)
class MoneyField(serializers.Field):
    """Read-only money from ``(amount_minor, currency)`` attributes of the instance.

    ``MoneyField(amount="balance_minor", currency="currency")`` reads ``obj.balance_minor``.
    """

    def __init__(self, *, amount: str, currency: str = "currency", **kwargs: Any) -> None:
        self.amount_attr, self.currency_attr = amount, currency
        kwargs["source"] = "*"
        kwargs["read_only"] = True
        super().__init__(**kwargs)

    def to_representation(self, value: Any) -> dict[str, Any]:
        if isinstance(value, dict):
            return money(value[self.amount_attr], value[self.currency_attr])
        return money(getattr(value, self.amount_attr), getattr(value, self.currency_attr))


def amount_field(**kwargs: Any) -> serializers.IntegerField:
    """An input amount in minor units (non-negative, int64)."""
    return serializers.IntegerField(min_value=0, max_value=MAX_MINOR, **kwargs)


def currency_field(**kwargs: Any) -> serializers.RegexField:
    return serializers.RegexField(CURRENCY_PATTERN, max_length=3, min_length=3, **kwargs)


def period_field(**kwargs: Any) -> serializers.ChoiceField:
    return serializers.ChoiceField(choices=PERIODS, **kwargs)


@extend_schema_field(
    {
        "type": "object",
        "additionalProperties": {
            "oneOf": [
                {"type": "integer", "minimum": -(2**31), "maximum": 2**31 - 1},
                {"type": "boolean"},
                {"type": "string", "maxLength": 100},
            ]
        },
        "maxProperties": 50,
    }
)
class AddonValuesField(serializers.DictField):
    """Addon values by internal name: integers, booleans or enum/child names."""

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        values = super().to_internal_value(data)
        for name, value in values.items():
            ok = isinstance(value, bool | str) or (
                isinstance(value, int) and -(2**31) <= value < 2**31
            )
            if not ok or (isinstance(value, str) and len(value) > 100) or len(name) > 50:
                raise serializers.ValidationError({name: "an integer, boolean or name"})
        if len(values) > 50:
            raise serializers.ValidationError("at most 50 addons")
        return dict(values)
