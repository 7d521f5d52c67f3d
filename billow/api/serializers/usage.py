"""Usage statistics in the API: a service's statistics addons in their current period, and the
daily series of one addon over a range with its month summaries (the client area's chart)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from billow.api.fields import MoneyField
from billow.usage.chart_data import MAX_RANGE_DAYS, Range
from billow.usage.rating_models import ResourceState

DECIMAL = {"max_digits": 24, "decimal_places": 6, "coerce_to_string": True}


def _amount(**kwargs: Any) -> serializers.DecimalField:
    return serializers.DecimalField(**DECIMAL, **kwargs)


class AddonUsageOut(serializers.Serializer):
    addon = serializers.CharField(source="intname", help_text="The addon's internal name.")
    name = serializers.CharField()
    unit = serializers.CharField(allow_blank=True)
    rating = serializers.SerializerMethodField()
    period_from = serializers.DateField(help_text="First day of the current rating period.")
    period_to = serializers.DateField(help_text="Last day of the current rating period.")
    used = _amount()
    included = _amount()
    limit = _amount(allow_null=True, help_text="Usage beyond it suspends the service.")
    status = serializers.ChoiceField(choices=ResourceState.values)
    percent = serializers.IntegerField(allow_null=True, help_text="Used, % of included.")

    def get_rating(self, obj: Any) -> str:
        return "per_day" if obj.per_day else "per_month"


class UsageFilter(serializers.Serializer):
    addon = serializers.SlugField(
        required=False, help_text="The addon's internal name (default: the first one)."
    )
    range = serializers.ChoiceField(
        choices=[r.value for r in Range],
        required=False,
        default=Range.MONTH.value,
        help_text="day: today; week: the last 7 days; month: this month so far; year: this "
        "month and the 11 before; custom: date_from to date_to.",
    )
    date_from = serializers.DateField(required=False, help_text="custom: first day (UTC).")
    date_to = serializers.DateField(required=False, help_text="custom: last day (UTC).")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs.get("range") != Range.CUSTOM:
            return attrs
        start, end = attrs.get("date_from"), attrs.get("date_to")
        if not start or not end:
            raise serializers.ValidationError(
                {"date_from": ["A custom range needs date_from and date_to."]},
                code="invalid_date_range",
            )
        if start > end:
            raise serializers.ValidationError(
                {"date_to": ["date_to is before date_from."]}, code="invalid_date_range"
            )
        if (end - start).days >= MAX_RANGE_DAYS:
            raise serializers.ValidationError(
                {"date_to": [f"A range is at most {MAX_RANGE_DAYS} days."]},
                code="invalid_date_range",
            )
        return attrs


class UsagePointOut(serializers.Serializer):
    day = serializers.DateField()
    value = _amount()
    month_to_date = _amount(help_text="The month's usage up to this day, as rated.")
    over = serializers.BooleanField(help_text="Over the included amount on this day.")


class UsageMonthOut(serializers.Serializer):
    month = serializers.DateField(help_text="The month's first day.")
    used = _amount()
    included = _amount()
    overage = _amount()
    over_days = serializers.IntegerField()
    overage_cost = MoneyField(amount="overage_minor")
    charged = MoneyField(
        amount="charged_minor",
        help_text="What the billing run charged for the month's closed periods so far.",
    )


class UsageSeriesOut(serializers.Serializer):
    service_id = serializers.IntegerField()
    addon = serializers.CharField()
    name = serializers.CharField()
    unit = serializers.CharField(allow_blank=True)
    rating = serializers.CharField()
    range = serializers.CharField()
    date_from = serializers.DateField()
    date_to = serializers.DateField()
    included = _amount()
    limit = _amount(allow_null=True)
    overage_price_minor = _amount(help_text="Per unit above the included amount, minor units.")
    currency = serializers.CharField()
    points = UsagePointOut(many=True)
    months = UsageMonthOut(many=True)


def series_data(chart: Any) -> dict[str, Any]:
    """A ``usage.charts.UsageChart`` as ``UsageSeriesOut`` reads it."""
    return {
        "service_id": chart.service_id,
        "addon": chart.addon.intname,
        "name": chart.addon.name,
        "unit": chart.unit,
        "rating": "per_day" if chart.per_day else "per_month",
        "range": chart.range.name,
        "date_from": chart.range.date_from,
        "date_to": chart.range.date_to,
        "included": chart.included,
        "limit": chart.limit,
        "overage_price_minor": chart.addon.overage_price_minor,
        "currency": chart.currency,
        "points": chart.points,
        "months": [
            {
                "month": m.month,
                "used": m.used,
                "included": m.included,
                "overage": m.overage,
                "over_days": m.over_days,
                "overage_minor": m.overage_minor,
                "charged_minor": chart.charged.get(m.month, 0),
                "currency": chart.currency,
            }
            for m in chart.months
        ],
    }
