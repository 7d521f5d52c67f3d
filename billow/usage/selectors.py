"""Reads of usage: meters of a tariff, daily series, period and month totals (issue 14).

Rating (billing, h4) and the pages (web/api, h5) read usage only through these functions. Values
are ``Decimal`` in the meter's unit; a day or month without records has no row and reads as 0.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from billow.catalog.choices import Aggregation, BillingType
from billow.core.periods import first_of_next_month
from billow.services.models import ModuleInstance, Service
from billow.services.modules.base import ServiceContext
from billow.services.states import ServiceStatus
from billow.usage.models import IngestToken, Meter, RerateMark, UsageDaily, UsageMonthly

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class MeterInfo:
    """A meter with the addon terms rating needs (one row per statistics addon)."""

    meter_id: int
    addon_id: int
    tariff_id: int
    parameters: tuple[str, ...]
    combine: str
    aggregation: str
    unit: str
    limit: Decimal | None
    included: int
    overage_price_minor: Decimal
    currency: str
    statistics_rating: str


def list_meters_for_tariffs(tariff_ids: Iterable[int]) -> dict[int, list[MeterInfo]]:
    """Every meter of the tariffs' active statistics addons, by tariff id (one query)."""
    rows = Meter.objects.filter(
        addon__tariff_id__in=list(tariff_ids),
        addon__billing_type=BillingType.STATISTICS,
        addon__is_active=True,
    ).select_related("addon")
    out: dict[int, list[MeterInfo]] = {}
    for meter in rows.order_by("addon__tariff_id", "addon__sort", "addon_id"):
        addon = meter.addon
        out.setdefault(addon.tariff_id, []).append(
            MeterInfo(
                meter_id=meter.pk,
                addon_id=addon.pk,
                tariff_id=addon.tariff_id,
                parameters=tuple(meter.parameters),
                combine=meter.combine,
                aggregation=addon.aggregation,
                unit=meter.unit or addon.unit,
                limit=meter.limit,
                included=addon.included,
                overage_price_minor=addon.overage_price_minor,
                currency=addon.currency_id,
                statistics_rating=addon.statistics_rating,
            )
        )
    return out


def _id(obj: object) -> int:
    return obj if isinstance(obj, int) else obj.pk  # type: ignore[attr-defined]


def daily_series(
    service: object, meter: object, date_from: date, date_to: date
) -> list[tuple[date, Decimal]]:
    """``(day, value)`` for every day from ``date_from`` to ``date_to`` inclusive (0 when no
    records). ``service`` / ``meter`` are instances or ids."""
    values = dict(
        UsageDaily.objects.filter(
            service_id=_id(service), meter_id=_id(meter), day__gte=date_from, day__lte=date_to
        ).values_list("day", "value")
    )
    out = []
    day = date_from
    while day <= date_to:
        out.append((day, values.get(day, ZERO)))
        day = date.fromordinal(day.toordinal() + 1)
    return out


def aggregate_days(aggregation: str, values: list[Decimal]) -> Decimal:
    """The value of a run of days from their daily values: sum, max, average of the days with
    data, or the last day's value (``values`` ordered by day). No days: 0."""
    if not values:
        return ZERO
    if aggregation == Aggregation.MAX:
        return max(values)
    if aggregation == Aggregation.LAST:
        return values[-1]
    if aggregation == Aggregation.AVERAGE:
        return sum(values, ZERO) / len(values)
    return sum(values, ZERO)


def period_usage(service: object, meter: object, period_start: date, period_end: date) -> Decimal:
    """The meter's usage over ``[period_start, period_end)`` (end exclusive), from the daily
    rollups aggregated by the addon's aggregation; a whole calendar month reads its monthly row."""
    meter_obj = (
        meter
        if isinstance(meter, Meter)
        else Meter.objects.select_related("addon").get(pk=_id(meter))
    )
    if period_start.day == 1 and first_of_next_month(period_start) == period_end:
        return month_total(service, meter_obj, period_start)
    values = list(
        UsageDaily.objects.filter(
            service_id=_id(service),
            meter_id=meter_obj.pk,
            day__gte=period_start,
            day__lt=period_end,
        )
        .order_by("day")
        .values_list("value", flat=True)
    )
    return aggregate_days(meter_obj.addon.aggregation, values)


def month_total(service: object, meter: object, month: date) -> Decimal:
    """The meter's usage over the calendar month containing ``month`` (0 when no records)."""
    value = (
        UsageMonthly.objects.filter(
            service_id=_id(service), meter_id=_id(meter), month=month.replace(day=1)
        )
        .values_list("value", flat=True)
        .first()
    )
    return value if value is not None else ZERO


def month_totals(service_ids: Iterable[int], month: date) -> dict[tuple[int, int], Decimal]:
    """``{(service_id, meter_id): value}`` of one calendar month for many services (one query;
    the month-end rating reads this)."""
    return {
        (service_id, meter_id): value
        for service_id, meter_id, value in UsageMonthly.objects.filter(
            service_id__in=list(service_ids), month=month.replace(day=1)
        ).values_list("service_id", "meter_id", "value")
    }


def day_totals(service_ids: Iterable[int], day: date) -> dict[tuple[int, int], Decimal]:
    """``{(service_id, meter_id): value}`` of one day for many services (per-day rating)."""
    return {
        (service_id, meter_id): value
        for service_id, meter_id, value in UsageDaily.objects.filter(
            service_id__in=list(service_ids), day=day
        ).values_list("service_id", "meter_id", "value")
    }


def list_rerate_marks(*, before: date | None = None) -> list[RerateMark]:
    """Days whose usage changed after they closed (late records), oldest first."""
    marks = RerateMark.objects.all()
    if before is not None:
        marks = marks.filter(day__lt=before)
    return list(marks.order_by("day", "service_id", "meter_id"))


@dataclass(frozen=True, slots=True)
class ServiceRef:
    """What ingestion checks of a service: its tariff (meters), deleted or not, its module."""

    tariff_id: int
    deleted: bool
    module_instance_id: int | None


def services_for_ingest(service_ids: Iterable[int]) -> dict[int, ServiceRef]:
    """The existing services among ``service_ids`` (one query)."""
    return {
        pk: ServiceRef(tariff_id, status == ServiceStatus.DELETED, module_instance_id)
        for pk, tariff_id, status, module_instance_id in Service.objects.filter(
            pk__in=list(service_ids)
        ).values_list("pk", "tariff_id", "status", "module_instance_id")
    }


def get_active_ingest_token(raw: str) -> IngestToken | None:
    """The unrevoked ingest token ``bmi_<prefix>_<secret>`` (constant-time secret check)."""
    parts = raw.split("_")
    if len(parts) != 3 or parts[0] != "bmi":
        return None
    token = (
        IngestToken.objects.filter(prefix=parts[1], revoked_at__isnull=True)
        .select_related("module_instance")
        .first()
    )
    if token is None:
        return None
    digest = hashlib.sha256(raw.encode()).hexdigest()
    return token if hmac.compare_digest(digest, token.token_hash) else None


#: Services whose modules report usage: opened and not deleted.
_NOT_PULLED = (ServiceStatus.ORDERED, ServiceStatus.DELETED)


@dataclass(frozen=True, slots=True)
class PullTarget:
    """A service whose module is asked for its usage: the module instance and what the module
    sees of the service (``operation`` ``stat``)."""

    service_id: int
    module_instance: ModuleInstance
    context: ServiceContext


def list_services_to_pull(
    *, day: date, after_id: int = 0, limit: int = 500, service_ids: Iterable[int] | None = None
) -> list[PullTarget]:
    """Services on a module instance whose tariff has a meter, by id after ``after_id``."""
    metered_tariffs = Meter.objects.filter(
        addon__billing_type=BillingType.STATISTICS, addon__is_active=True
    ).values("addon__tariff_id")
    services = (
        Service.objects.filter(
            pk__gt=after_id,
            module_instance__isnull=False,
            tariff_id__in=metered_tariffs,
        )
        .exclude(status__in=_NOT_PULLED)
        .select_related("module_instance", "tariff__product_type")
        .order_by("pk")
    )
    if service_ids is not None:
        services = services.filter(pk__in=list(service_ids))
    targets = []
    for svc in services[:limit]:
        assert svc.module_instance is not None  # filtered above
        context = ServiceContext(
            service_id=svc.pk,
            operation="stat",
            idempotency_key=f"stat:{svc.pk}:{day.isoformat()}",
            module_instance_id=svc.module_instance_id,
            tariff_id=svc.tariff_id,
            tariff_name=svc.tariff.name,
            product_type=svc.tariff.product_type.intname,
            addon_values=dict(svc.addon_values),
            parameters=dict(svc.parameters),
            external_id=svc.external_id,
        )
        targets.append(PullTarget(svc.pk, svc.module_instance, context))
    return targets
