"""Metered tariffs and usage rollups for the pages' tests (web, api, admin): a tariff with
"Traffic" (GiB, summed, rated per month, 100 included, 0.5 cents a GiB above, limit 300) and
"Stored data" (GiB, the day's maximum, rated per day, 50 included, 0.02 cents a GiB-day above).

Rollups are written directly, as ingestion leaves them (the daily rows and the month's row
aggregated from them by ``usage.selectors.aggregate_days``): months of history in a few rows,
without the late-record window ingestion applies."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal

from billow.catalog import actions as catalog
from billow.catalog.choices import BillingType, StatisticsRating, ValueType
from billow.catalog.models import Addon, Tariff
from billow.core.actors import Actor
from billow.core.periods import first_of_next_month
from billow.services.models import Service
from billow.usage.actions import set_meter
from billow.usage.models import UsageDaily, UsageMonthly
from billow.usage.selectors import aggregate_days
from tests.billing.world import World

ACTOR = Actor.system("test")


def metered_tariff(world: World, name: str = "S3 Metered") -> Tariff:
    tariff = world.tariff(name, {"1m": 100})
    for intname, label, included, price, rating, aggregation, limit in (
        ("traffic", "Traffic", 100, "0.5", StatisticsRating.PER_MONTH, "sum", Decimal(300)),
        ("storage", "Stored data", 50, "0.02", StatisticsRating.PER_DAY, "max", None),
    ):
        addon = catalog.create_addon(
            tariff=tariff,
            name=label,
            intname=intname,
            value_type=ValueType.INT,
            billing_type=BillingType.STATISTICS,
            currency="USD",
            unit="GiB",
            included=included,
            overage_price_minor=price,
            statistics_rating=rating,
            aggregation=aggregation,
            actor=ACTOR,
        )
        set_meter(addon=addon, parameters=[intname], unit="GiB", limit=limit, actor=ACTOR)
    return tariff


def addon(tariff: Tariff, intname: str) -> Addon:
    return Addon.objects.select_related("meter").get(tariff=tariff, intname=intname)


def put_usage(service: Service, tariff: Tariff, intname: str, days: Mapping[date, int]) -> None:
    """Daily values of one addon, and the monthly rollups of the months they fall in."""
    a = addon(tariff, intname)
    for day, value in days.items():
        UsageDaily.objects.update_or_create(
            service=service, meter=a.meter, day=day, defaults={"value": Decimal(value)}
        )
    for month in {d.replace(day=1) for d in days}:
        values = list(
            UsageDaily.objects.filter(
                service=service, meter=a.meter, day__gte=month, day__lt=first_of_next_month(month)
            )
            .order_by("day")
            .values_list("value", flat=True)
        )
        UsageMonthly.objects.update_or_create(
            service=service,
            meter=a.meter,
            month=month,
            defaults={"value": aggregate_days(a.aggregation, values), "days": len(values)},
        )
