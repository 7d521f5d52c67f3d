"""Meter rollups: ``UsageDaily`` and ``UsageMonthly`` from the ``ParameterDaily`` rows a batch
touched, plus re-rate marks for days that had already closed.

Only the touched keys are recomputed, from the per-parameter statistics of those days (a few
rows each), never from raw records: a batch costs what it touched, whatever the table holds.
``compute_*`` are pure; ``apply_touched`` loads, computes and writes in three bulk statements.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Q

from billow.catalog.choices import Aggregation
from billow.core import rows
from billow.core.periods import first_of_next_month
from billow.usage import sql
from billow.usage.models import ParameterDaily, RerateMark, UsageDaily, UsageMonthly
from billow.usage.selectors import MeterInfo, aggregate_days

QUANTUM = Decimal("0.000001")


@dataclass(frozen=True, slots=True)
class DayStats:
    total: Decimal
    count: int
    maximum: Decimal
    last_value: Decimal


def parameter_value(aggregation: str, stats: DayStats) -> Decimal:
    """One parameter's value of a day by the addon's aggregation."""
    if aggregation == Aggregation.MAX:
        return stats.maximum
    if aggregation == Aggregation.LAST:
        return stats.last_value
    if aggregation == Aggregation.AVERAGE:
        return (stats.total / stats.count).quantize(QUANTUM, ROUND_HALF_UP)
    return stats.total


def meter_day_value(meter: MeterInfo, day_stats: Mapping[str, DayStats]) -> Decimal | None:
    """The meter's value of a day from its parameters' statistics (None: no records)."""
    values = [
        parameter_value(meter.aggregation, day_stats[p]) for p in meter.parameters if p in day_stats
    ]
    if not values:
        return None
    return max(values) if meter.combine == "max" else sum(values, Decimal(0))


def month_value(aggregation: str, daily: list[Decimal]) -> Decimal:
    return aggregate_days(aggregation, daily).quantize(QUANTUM, ROUND_HALF_UP)


def apply_touched(
    touched: Iterable[tuple[int, str, date]],
    *,
    tariff_of: Mapping[int, int],
    meters_of: Mapping[int, list[MeterInfo]],
    today: date,
    now: datetime,
    mark_late: bool = True,
) -> set[tuple[int, int]]:
    """Recompute the meter rollups of ``touched`` (service, parameter, day) keys; mark closed
    days (before ``today``) for re-rating unless ``mark_late`` is off (a rebuild of unchanged
    data). Returns the changed (service_id, meter_id) pairs."""
    wanted: dict[tuple[int, date], list[MeterInfo]] = {}
    for service_id, parameter, day in touched:
        for meter in meters_of.get(tariff_of.get(service_id, -1), ()):
            if parameter in meter.parameters:
                metered = wanted.setdefault((service_id, day), [])
                if meter not in metered:
                    metered.append(meter)
    if not wanted:
        return set()
    marks_before = today if mark_late else date.min
    if rows.connection_for(UsageDaily).vendor == "postgresql":
        written = write_rollups_in_sql(wanted, now, marks_before)
        return {(service_id, meter_id) for service_id, meter_id, _day in written}
    written = write_rollups_in_python(wanted, now)
    RerateMark.objects.bulk_create(
        [
            RerateMark(service_id=service_id, meter_id=meter_id, day=day, marked_at=now)
            for service_id, meter_id, day in written
            if day < marks_before
        ],
        ignore_conflicts=True,
        batch_size=1000,
    )
    return {(service_id, meter_id) for service_id, meter_id, _day in written}


def write_rollups_in_sql(
    wanted: Mapping[tuple[int, date], list[MeterInfo]], now: datetime, marks_before: date
) -> list[tuple[int, int, date]]:
    """Daily rollups and re-rate marks of days before ``marks_before``, then monthly rollups,
    in two statements (``usage.sql``), the values computed by PostgreSQL from the stored rows
    (the matrix checks they equal the Python path's)."""
    services, meter_ids, days = [], [], []
    meters: dict[int, MeterInfo] = {}
    for (service_id, day), metered in wanted.items():
        for meter in metered:
            services.append(service_id)
            meter_ids.append(meter.meter_id)
            days.append(day)
            meters[meter.meter_id] = meter
    defs: tuple[list[Any], ...] = ([], [], [], [])
    for meter in meters.values():
        for parameter in meter.parameters:
            for column, value in zip(
                defs, (meter.meter_id, parameter, meter.aggregation, meter.combine), strict=True
            ):
                column.append(value)
    conn = rows.connection_for(UsageDaily)
    with conn.cursor() as cursor:
        cursor.execute(
            sql.meter_daily_sql(conn),
            [services, meter_ids, days, *defs, now, now, marks_before],
        )
        written: list[tuple[int, int, date]] = cursor.fetchall()
        months = sorted({(s, m, d.replace(day=1)) for s, m, d in written})
        if months:
            columns = [list(c) for c in zip(*months, strict=True)]
            cursor.execute(
                sql.meter_monthly_sql(conn),
                [
                    *columns,
                    list(meters),
                    [meter.aggregation for meter in meters.values()],
                    now,
                ],
            )
    return written


def write_rollups_in_python(
    wanted: Mapping[tuple[int, date], list[MeterInfo]], now: datetime
) -> list[tuple[int, int, date]]:
    stats = _load_day_stats(wanted)
    daily_rows = []
    for (service_id, day), meters in wanted.items():
        for meter in meters:
            value = meter_day_value(meter, stats.get((service_id, day), {}))
            if value is not None:
                daily_rows.append(
                    UsageDaily(
                        service_id=service_id,
                        meter_id=meter.meter_id,
                        day=day,
                        value=value,
                        updated_at=now,
                    )
                )
    UsageDaily.objects.bulk_create(
        daily_rows,
        update_conflicts=True,
        unique_fields=["service", "meter", "day"],
        update_fields=["value", "updated_at"],
        batch_size=1000,
    )
    months = {(r.service_id, r.meter_id, r.day.replace(day=1)) for r in daily_rows}
    aggregation_of = {m.meter_id: m.aggregation for ms in wanted.values() for m in ms}
    _refresh_months(months, aggregation_of, now)
    return [(r.service_id, r.meter_id, r.day) for r in daily_rows]


def _load_day_stats(
    wanted: Mapping[tuple[int, date], list[MeterInfo]],
) -> dict[tuple[int, date], dict[str, DayStats]]:
    by_day: dict[date, set[int]] = defaultdict(set)
    parameters: set[str] = set()
    for (service_id, day), meters in wanted.items():
        by_day[day].add(service_id)
        for meter in meters:
            parameters.update(meter.parameters)
    condition = Q()
    for day, service_ids in by_day.items():
        condition |= Q(day=day, service_id__in=service_ids)
    out: dict[tuple[int, date], dict[str, DayStats]] = defaultdict(dict)
    for (
        service_id,
        parameter,
        day,
        total,
        count,
        maximum,
        last_value,
    ) in ParameterDaily.objects.filter(condition, parameter__in=parameters).values_list(
        "service_id", "parameter", "day", "total", "count", "maximum", "last_value"
    ):
        out[(service_id, day)][parameter] = DayStats(total, count, maximum, last_value)
    return out


def _refresh_months(
    months: set[tuple[int, int, date]], aggregation_of: Mapping[int, str], now: datetime
) -> None:
    if not months:
        return
    by_month: dict[date, set[int]] = defaultdict(set)
    for service_id, _meter_id, month in months:
        by_month[month].add(service_id)
    condition = Q()
    for month, service_ids in by_month.items():
        condition |= Q(
            service_id__in=service_ids, day__gte=month, day__lt=first_of_next_month(month)
        )
    series: dict[tuple[int, int, date], list[Decimal]] = defaultdict(list)
    meter_ids = {meter_id for _s, meter_id, _m in months}
    for service_id, meter_id, day, value in (
        UsageDaily.objects.filter(condition, meter_id__in=meter_ids)
        .order_by("day")
        .values_list("service_id", "meter_id", "day", "value")
    ):
        key = (service_id, meter_id, day.replace(day=1))
        if key in months:
            series[key].append(value)
    UsageMonthly.objects.bulk_create(
        [
            UsageMonthly(
                service_id=service_id,
                meter_id=meter_id,
                month=month,
                value=month_value(aggregation_of[meter_id], series[(service_id, meter_id, month)]),
                days=len(series[(service_id, meter_id, month)]),
                updated_at=now,
            )
            for service_id, meter_id, month in months
        ],
        update_conflicts=True,
        unique_fields=["service", "meter", "month"],
        update_fields=["value", "days", "updated_at"],
        batch_size=1000,
    )
