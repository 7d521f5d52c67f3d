"""Reads for what people see of usage (client area, staff admin, API, CSV): the statistics
addons of services with their use in the current rating period, and the daily chart of one
addon over a range with its month summaries. Read-only; the pure parts are in ``chart_data``.

Every read is a fixed number of queries: a client's statistics page reads its services'
statistics addons, meters and the rollups of the current month in one query each."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Q, QuerySet

from billow.catalog.choices import BillingType, StatisticsRating
from billow.catalog.models import Addon
from billow.core.periods import first_of_next_month
from billow.services.models import Service
from billow.services.states import ServiceStatus
from billow.usage.chart_data import (
    ZERO,
    ChartPoint,
    DateRange,
    MonthSummary,
    chart_points,
    month_summary,
    months_between,
    percent_used,
)
from billow.usage.models import Meter, UsageDaily
from billow.usage.rating_models import ResourceState, ResourceStatus, UsageCharge
from billow.usage.selectors import day_totals, month_totals
from billow.usage.status import approaching_percent, resource_state

#: Status order, worst last (a service row shows its worst addon).
STATUS_RANK: dict[str, int] = {
    ResourceState.NORMAL: 0,
    ResourceState.APPROACHING: 1,
    ResourceState.EXCEEDED: 2,
}


@dataclass(frozen=True, slots=True)
class AddonUsage:
    """One statistics addon of a service in its current rating period (the month so far, or
    today when rated per day)."""

    addon_id: int
    intname: str
    name: str
    unit: str
    per_day: bool
    period_from: date
    period_to: date
    used: Decimal
    included: Decimal
    limit: Decimal | None
    status: str  # a ResourceState value (usage.status's rule)
    percent: int | None
    currency: str
    overage_price_minor: Decimal


@dataclass(slots=True)
class ServiceUsage:
    service: Service
    addons: list[AddonUsage] = field(default_factory=list)

    @property
    def status(self) -> str:
        """The worst status of its addons."""
        return max((a.status for a in self.addons), key=STATUS_RANK.__getitem__, default="normal")


def statistics_addons(tariff_ids: Iterable[int]) -> dict[int, list[Addon]]:
    """Active statistics addons by tariff, with their meters (None when not metered yet)."""
    rows = (
        Addon.objects.filter(
            tariff_id__in=set(tariff_ids), billing_type=BillingType.STATISTICS, is_active=True
        )
        .select_related("meter")
        .order_by("sort", "id")
    )
    by_tariff: dict[int, list[Addon]] = defaultdict(list)
    for addon in rows:
        by_tariff[addon.tariff_id].append(addon)
    return by_tariff


def meter_of(addon: Addon) -> Meter | None:
    # The reverse one-to-one raises RelatedObjectDoesNotExist, an AttributeError, when unset.
    meter: Meter | None = getattr(addon, "meter", None)
    return meter


def unit_of(addon: Addon) -> str:
    meter = meter_of(addon)
    return (meter.unit if meter and meter.unit else "") or addon.unit


def _daily_values(
    service_ids: Iterable[int], meter_ids: Iterable[int], date_from: date, date_to: date
) -> dict[tuple[int, int], dict[date, Decimal]]:
    rows = UsageDaily.objects.filter(
        service_id__in=set(service_ids),
        meter_id__in=set(meter_ids),
        day__gte=date_from,
        day__lte=date_to,
    ).values_list("service_id", "meter_id", "day", "value")
    out: dict[tuple[int, int], dict[date, Decimal]] = defaultdict(dict)
    for service_id, meter_id, day, value in rows:
        out[(service_id, meter_id)][day] = value
    return out


def addon_usage(addon: Addon, used: Decimal, *, today: date, threshold: int) -> AddonUsage:
    """The addon's use ``used`` in its current rating period: this month, or today when it is
    rated per day."""
    per_day = addon.statistics_rating == StatisticsRating.PER_DAY
    included = Decimal(addon.included)
    if per_day:
        period_from = period_to = today
    else:
        period_from = today.replace(day=1)
        period_to = first_of_next_month(today) - timedelta(days=1)
    meter = meter_of(addon)
    return AddonUsage(
        addon_id=addon.pk,
        intname=addon.intname,
        name=addon.name,
        unit=unit_of(addon),
        per_day=per_day,
        period_from=period_from,
        period_to=period_to,
        used=used,
        included=included,
        limit=meter.limit if meter else None,
        status=resource_state(used, included, threshold),
        percent=percent_used(used, included),
        currency=addon.currency_id,
        overage_price_minor=addon.overage_price_minor,
    )


def list_usage_for_services(services: Iterable[Service], *, today: date) -> list[ServiceUsage]:
    """Services that have statistics addons, each with every such addon's current use (the
    monthly rollup of this month, or today's daily rollup for addons rated per day)."""
    services = list(services)
    addons = statistics_addons(s.tariff_id for s in services)
    ids = [s.pk for s in services if addons.get(s.tariff_id)]
    this_month = month_totals(ids, today) if ids else {}
    this_day = day_totals(ids, today) if ids else {}
    threshold = approaching_percent()
    out = []
    for service in services:
        rows = addons.get(service.tariff_id, [])
        if not rows:
            continue
        usage = ServiceUsage(service)
        for addon in rows:
            meter = meter_of(addon)
            totals = this_day if addon.statistics_rating == StatisticsRating.PER_DAY else this_month
            used = totals.get((service.pk, meter.pk), ZERO) if meter else ZERO
            usage.addons.append(addon_usage(addon, used, today=today, threshold=threshold))
        out.append(usage)
    return out


def list_services_with_statistics(client_id: int) -> QuerySet[Service]:
    """The client's services that were opened (so may have usage) and are not deleted, whose
    tariff has an active statistics addon."""
    return (
        Service.objects.filter(
            client_id=client_id,
            opened_at__isnull=False,
            tariff__addons__billing_type=BillingType.STATISTICS,
            tariff__addons__is_active=True,
        )
        .exclude(status=ServiceStatus.DELETED)
        .select_related("tariff")
        .distinct()
        .order_by("-id")
    )


def list_usage_for_client(client_id: int, *, today: date) -> list[ServiceUsage]:
    return list_usage_for_services(list_services_with_statistics(client_id), today=today)


def get_statistics_addon(service: Service, intname: str | None) -> Addon | None:
    """The service's statistics addon ``intname`` (the first one when not given or unknown)."""
    rows = statistics_addons([service.tariff_id]).get(service.tariff_id, [])
    for addon in rows:
        if addon.intname == intname:
            return addon
    return rows[0] if rows else None


@dataclass(frozen=True, slots=True)
class UsageChart:
    """One addon of one service over a range: a point a day, and each month it touches."""

    service_id: int
    addon: Addon
    unit: str
    range: DateRange
    per_day: bool
    included: Decimal
    limit: Decimal | None
    points: list[ChartPoint]
    months: list[MonthSummary]
    #: What the billing run has charged for the overage of each month (its periods that
    #: closed), by the month's first day; a month not charged yet is missing.
    charged: dict[date, int] = field(default_factory=dict)

    @property
    def total(self) -> Decimal:
        return sum((p.value for p in self.points), ZERO)

    @property
    def over_days(self) -> int:
        return sum(1 for p in self.points if p.over)

    @property
    def overage_minor(self) -> int:
        return sum(m.overage_minor for m in self.months)

    @property
    def currency(self) -> str:
        return self.addon.currency_id


def get_usage_chart(service: Service, addon: Addon, rng: DateRange) -> UsageChart:
    """Daily values of ``addon`` for ``service`` over ``rng``, read from the first day of its
    first month to the last day of its last month so running totals and month summaries are
    whole (one query)."""
    meter = meter_of(addon)
    start = rng.date_from.replace(day=1)
    end = first_of_next_month(rng.date_to) - timedelta(days=1)
    daily = _daily_values([service.pk], [meter.pk], start, end) if meter else {}
    values = daily.get((service.pk, meter.pk), {}) if meter else {}
    included = Decimal(addon.included)
    per_day = addon.statistics_rating == StatisticsRating.PER_DAY
    points = chart_points(
        values,
        date_from=rng.date_from,
        date_to=rng.date_to,
        included=included,
        per_day=per_day,
        aggregation=addon.aggregation,
    )
    months = [
        month_summary(
            month,
            values,
            included=included,
            per_day=per_day,
            aggregation=addon.aggregation,
            overage_price_minor=addon.overage_price_minor,
        )
        for month in months_between(rng.date_from, rng.date_to)
    ]
    return UsageChart(
        charged=_charged_by_month(service.pk, meter.pk, start, end) if meter else {},
        service_id=service.pk,
        addon=addon,
        unit=unit_of(addon),
        range=rng,
        per_day=per_day,
        included=included,
        limit=meter.limit if meter else None,
        points=points,
        months=months,
    )


def _charged_by_month(service_id: int, meter_id: int, start: date, end: date) -> dict[date, int]:
    rows = UsageCharge.objects.filter(
        service_id=service_id, meter_id=meter_id, period_from__gte=start, period_from__lte=end
    ).values_list("period_from", "charged_minor")
    out: dict[date, int] = defaultdict(int)
    for period_from, charged_minor in rows:
        out[period_from.replace(day=1)] += charged_minor
    return dict(out)


def list_resource_statuses(
    *,
    state: str = "",
    over_limit: bool = False,
    provider_id: int | None = None,
    addon: str = "",
    search: str = "",
) -> QuerySet[ResourceStatus]:
    """The staff list: approaching and exceeded rows (one per service and addon), worst and
    fullest first. ``state`` narrows to one of them; ``over_limit`` to services held at their
    meter's limit; ``addon`` matches the addon's name or internal name; ``search`` a client's
    email or name, a service's name, or ``#<service id>``."""
    rows = ResourceStatus.objects.exclude(state=ResourceState.NORMAL).select_related(
        "service__client", "service__tariff", "meter__addon"
    )
    if state in (ResourceState.APPROACHING, ResourceState.EXCEEDED):
        rows = rows.filter(state=state)
    if over_limit:
        rows = rows.filter(over_limit=True)
    if provider_id is not None:
        rows = rows.filter(service__tariff__provider_id=provider_id)
    if addon:
        rows = rows.filter(Q(meter__addon__name__icontains=addon) | Q(meter__addon__intname=addon))
    if search:
        text = search.strip()
        if text.startswith("#") and text[1:].isdigit():
            rows = rows.filter(service_id=int(text[1:]))
        else:
            rows = rows.filter(
                Q(service__client__email__icontains=text)
                | Q(service__client__name__icontains=text)
                | Q(service__name__icontains=text)
            )
    return rows.order_by("-state", "-over_limit", "-value", "service_id", "meter_id")


@dataclass(frozen=True, slots=True)
class UsageAlerts:
    """The staff dashboard's widget: services over the included amount of an addon in its
    current period, services held at a meter's limit, and services approaching."""

    exceeded: int
    over_limit: int
    approaching: int


def get_usage_alerts() -> UsageAlerts:
    """Three counts over the (partially indexed) rows that are not normal."""
    statuses = ResourceStatus.objects.exclude(state=ResourceState.NORMAL)
    exceeded = statuses.filter(state=ResourceState.EXCEEDED).values("service_id")
    return UsageAlerts(
        exceeded=exceeded.distinct().count(),
        over_limit=statuses.filter(over_limit=True).values("service_id").distinct().count(),
        approaching=statuses.filter(state=ResourceState.APPROACHING)
        .exclude(service_id__in=exceeded)
        .values("service_id")
        .distinct()
        .count(),
    )
