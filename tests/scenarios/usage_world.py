"""A service with a metered addon for the usage scenarios: records sent through ingestion (at a
moment of the test's choosing), the billing run called for any date, and readers of what the
scenarios assert (overage expenses, statuses, notices, rollups)."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

from billow.billing.models import Expense, ExpenseReason
from billow.billing.run import run_billing
from billow.catalog import actions as catalog
from billow.notifications.models import Notification
from billow.services.models import Service
from billow.usage.actions import set_meter
from billow.usage.ingest import IngestResult, ingest_records
from billow.usage.models import ParameterDaily, UsageDaily, UsageMonthly
from billow.usage.parsing import RecordIn
from billow.usage.rating_models import ResourceStatus, UsageCharge
from tests.billing.world import World

_line = itertools.count(1)


def at(day: date, hour: int = 12, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=UTC)


class Metered:
    """Traffic VPS at 10.00 a month with "Outgoing traffic" billed by statistics: ``included``
    GiB per period, then ``price`` minor units per GiB."""

    def __init__(
        self,
        capture: Any,
        *,
        included: int = 100,
        price: str = "5",
        rating: str = "per_month",
        parameters: tuple[str, ...] = ("traffic_out",),
        limit: Decimal | None = None,
        balance: int = 100_000,
        opened: date = date(2025, 3, 1),
        world: World | None = None,
        country: str = "",
    ) -> None:
        self.capture = capture
        self.world = world or World()
        self.tariff = self.world.tariff("Traffic VPS", {"1m": 1000})
        self.addon = catalog.create_addon(
            tariff=self.tariff,
            name="Outgoing traffic",
            intname="traffic",
            unit="GiB",
            value_type="int",
            billing_type="statistics",
            currency="USD",
            included=included,
            overage_price_minor=Decimal(price),
            statistics_rating=rating,
        )
        self.meter = set_meter(addon=self.addon, parameters=list(parameters), limit=limit)
        self.client = self.world.client(balance=balance)
        if country:
            self.client.country = country
            self.client.save(update_fields=["country"])
        self.service = self.world.service(self.client, self.tariff, opened)

    def send(
        self, now: datetime, *records: tuple[datetime, str | int], parameter: str = ""
    ) -> IngestResult:
        """Ingest ``(ts, value)`` records of the service at ``now`` (notices sent on commit)."""
        name = parameter or self.meter.parameters[0]
        items = [
            RecordIn(next(_line), self.service.pk, name, ts, Decimal(str(value)), None)
            for ts, value in records
        ]
        with self.capture(execute=True):
            return ingest_records(items, now=now)

    def bill(self, day: date) -> Any:
        with self.capture(execute=True):
            return run_billing(day=day, now=at(day, 0, 5))

    def overage(self) -> list[tuple[date, date, int, int]]:
        """(from, to, amount, tax) of the service's overage charges, oldest first."""
        return [
            (e.period_from, e.period_to, e.amount_minor, e.tax_minor)
            for e in Expense.objects.filter(
                service=self.service, reason=ExpenseReason.USAGE
            ).order_by("id")
        ]

    def expenses(self) -> list[tuple[str, str, date, date, int]]:
        return [
            (e.key, e.reason, e.period_from, e.period_to, e.amount_minor)
            for e in Expense.objects.filter(service=self.service).order_by("id")
        ]

    def status(self) -> tuple[str, Decimal, date, bool]:
        row = ResourceStatus.objects.get(service=self.service, meter=self.meter)
        return row.state, row.value, row.period_from, row.over_limit

    def service_status(self) -> str:
        return Service.objects.values_list("status", flat=True).get(pk=self.service.pk)

    def notices(self, *events: str) -> list[tuple[str, str]]:
        rows = Notification.objects.filter(client=self.client).order_by("id")
        if events:
            rows = rows.filter(event__in=events)
        return list(rows.values_list("event", "dedup_key"))

    def balance(self) -> int:
        return self.world.balance(self.client)

    def rollups(self) -> dict[str, list[tuple[Any, ...]]]:
        """Every rollup of the service, to compare before and after a re-sent batch."""
        return {
            "parameters": list(
                ParameterDaily.objects.filter(service_id=self.service.pk)
                .order_by("parameter", "day")
                .values_list("parameter", "day", "total", "count", "maximum", "last_value")
            ),
            "daily": list(
                UsageDaily.objects.filter(service=self.service)
                .order_by("day")
                .values_list("day", "value")
            ),
            "monthly": list(
                UsageMonthly.objects.filter(service=self.service)
                .order_by("month")
                .values_list("month", "value")
            ),
            "charged": list(
                UsageCharge.objects.filter(service=self.service)
                .order_by("period_from")
                .values_list("period_from", "charged_minor")
            ),
        }
