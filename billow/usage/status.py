"""Resource status: each service's usage on each meter in the current rating period (the
calendar month, or the UTC day for per-day addons) against its addon's included amount.

- ``refresh`` (called by ingestion once per batch, after its rollups committed, with every
  (service, meter) whose usage changed): the status becomes normal, approaching (at least
  ``USAGE_APPROACHING_PERCENT`` % of the included amount, default 80) or exceeded (above it);
  the client gets a notice when a service reaches approaching or exceeded (once per period:
  the notice's key names it). A usage that reaches the meter's limit marks the status over
  limit and suspends the service "over limit" (``usage.limits``).
- ``reset_statuses`` (the daily job, ``usage_reset_statuses``): rows of a period that ended
  start over from the new period's usage (so every status is normal again on the 1st, and
  every day for per-day addons), and services over limit for the old period resume.

Set-based: a batch costs a few queries whatever its size; nothing when ``changes`` is empty.
The decisions are the pure ``resource_state`` / ``reached_limit`` below.
It must stay cheap when ``changes`` is empty and must not assume it runs inside a transaction:
on PostgreSQL ingestion may call it on its writer thread (with that thread's connection).
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Q

from billow.core import clock
from billow.usage.charges import setting
from billow.usage.models import Meter, UsageDaily, UsageMonthly
from billow.usage.rating_models import ResourceState, ResourceStatus

logger = logging.getLogger("billow.usage")

ZERO = Decimal(0)
#: Services per IN list (SQLite's bound-parameter cap on older builds, as ``PAYER_BATCH``).
ID_BATCH = 900
_RISING: dict[str, int] = {ResourceState.APPROACHING: 1, ResourceState.EXCEEDED: 2}


def approaching_percent() -> int:
    return setting("USAGE_APPROACHING_PERCENT", 80)


def resource_state(value: Decimal, included: Decimal, percent: int) -> str:
    """Normal, approaching (``value`` at least ``percent`` % of ``included``) or exceeded
    (``value`` above ``included``). Nothing included: any usage is over it."""
    if value > included:
        return ResourceState.EXCEEDED
    if included > 0 and value * 100 >= included * percent:
        return ResourceState.APPROACHING
    return ResourceState.NORMAL


def reached_limit(value: Decimal, limit: Decimal | None) -> bool:
    """The usage reached the meter's limit (no limit: never)."""
    return limit is not None and value >= limit


@dataclass(frozen=True, slots=True)
class MeterRule:
    """What a meter's status depends on."""

    meter_id: int
    name: str
    unit: str
    included: Decimal
    limit: Decimal | None
    per_day: bool


@dataclass(frozen=True, slots=True)
class CurrentUsage:
    """A service's usage on a meter in the period starting ``period_from``, with what the
    notices and the suspension need of the service."""

    service_id: int
    meter_id: int
    period_from: date
    value: Decimal
    client_id: int
    provider_id: int
    status: str
    module_instance_id: int | None


def load_meter_rules(meter_ids: Iterable[int] | None = None) -> dict[int, MeterRule]:
    rows = Meter.objects.all()
    if meter_ids is not None:
        rows = rows.filter(pk__in=sorted(set(meter_ids)))
    return {
        m["id"]: MeterRule(
            meter_id=m["id"],
            name=m["addon__name"],
            unit=m["unit"] or m["addon__unit"],
            included=Decimal(m["addon__included"]),
            limit=m["limit"],
            per_day=m["addon__statistics_rating"] == "per_day",
        )
        for m in rows.values(
            "id",
            "unit",
            "limit",
            "addon__name",
            "addon__unit",
            "addon__included",
            "addon__statistics_rating",
        )
    }


_SERVICE_FIELDS = (
    "service_id",
    "meter_id",
    "service__client_id",
    "service__provider_id",
    "service__status",
    "service__module_instance_id",
)


def load_current_usage(
    rules: Mapping[int, MeterRule], service_ids: Collection[int] | None, day: date
) -> list[CurrentUsage]:
    """The usage of the current period (the month of ``day``, or ``day``) of the services (all
    when ``service_ids`` is None) on the ``rules``' meters; a service without usage in the
    period has no row. Two queries per ``ID_BATCH`` services at most."""
    if service_ids is None:
        return _current_usage(rules, Q(), day)
    ids = sorted(service_ids)
    out: list[CurrentUsage] = []
    for start in range(0, len(ids), ID_BATCH):
        out.extend(_current_usage(rules, Q(service_id__in=ids[start : start + ID_BATCH]), day))
    return out


def _current_usage(rules: Mapping[int, MeterRule], scope: Q, day: date) -> list[CurrentUsage]:
    out: list[CurrentUsage] = []
    monthly = [m for m, r in rules.items() if not r.per_day]
    daily = [m for m, r in rules.items() if r.per_day]
    if monthly:
        month = day.replace(day=1)
        for r in UsageMonthly.objects.filter(scope, meter_id__in=monthly, month=month).values_list(
            *_SERVICE_FIELDS, "value"
        ):
            out.append(CurrentUsage(r[0], r[1], month, r[6], r[2], r[3], r[4], r[5]))
    if daily:
        for r in UsageDaily.objects.filter(scope, meter_id__in=daily, day=day).values_list(
            *_SERVICE_FIELDS, "value"
        ):
            out.append(CurrentUsage(r[0], r[1], day, r[6], r[2], r[3], r[4], r[5]))
    return out


def refresh(*, changes: Collection[tuple[int, int]], now: datetime) -> None:
    """Recompute normal / approaching / exceeded for ``changes`` = ``{(service_id, meter_id)}``
    (usage of a past period changes no status), send the notices of rising statuses and
    suspend the services that reached a meter's limit."""
    if not changes:
        return
    now = clock.now(now)
    rules = load_meter_rules({m for _s, m in changes})
    wanted = set(changes)
    usage = [
        u
        for u in load_current_usage(rules, {s for s, _m in changes}, now.date())
        if (u.service_id, u.meter_id) in wanted
    ]
    apply_usage(usage, rules, now=now)


def apply_usage(
    usage: Sequence[CurrentUsage], rules: Mapping[int, MeterRule], *, now: datetime
) -> list[int]:
    """Write the statuses ``usage`` gives, notify rises, suspend the active services at or over
    a limit (returned)."""
    from billow.usage import limits

    if not usage:
        return []
    percent = approaching_percent()
    ordered = sorted(usage, key=lambda u: u.service_id)
    over: list[CurrentUsage] = []
    for start in range(0, len(ordered), ID_BATCH):  # a batch's services fit in one IN list
        with transaction.atomic():
            rises, at_limit = _write_statuses(
                ordered[start : start + ID_BATCH], rules, percent, now
            )
            limits.notify_rises(rises, rules, percent)
        over.extend(at_limit)
    return limits.suspend_over_limit(over, rules, now=now) if over else []


def _write_statuses(
    usage: Sequence[CurrentUsage], rules: Mapping[int, MeterRule], percent: int, now: datetime
) -> tuple[list[CurrentUsage], list[CurrentUsage]]:
    """Upsert the statuses; return the usage whose state rose in its period, and the usage at
    or over its limit whose service is active (to suspend)."""
    existing = {
        (r.service_id, r.meter_id): r
        for r in ResourceStatus.objects.select_for_update().filter(
            service_id__in=sorted({u.service_id for u in usage}),
            meter_id__in=sorted({u.meter_id for u in usage}),
        )
    }
    new: list[ResourceStatus] = []
    changed: list[ResourceStatus] = []
    rises: list[CurrentUsage] = []
    over: list[CurrentUsage] = []
    for u in usage:
        rule = rules[u.meter_id]
        state = resource_state(u.value, rule.included, percent)
        at_limit = reached_limit(u.value, rule.limit)
        row = existing.get((u.service_id, u.meter_id))
        before: str = ResourceState.NORMAL
        if row is not None and row.period_from == u.period_from:
            before = row.state
        if _RISING.get(state, 0) > _RISING.get(before, 0):
            rises.append(u)
        if at_limit and u.status == "active":
            over.append(u)
        fields = {
            "period_from": u.period_from,
            "value": u.value,
            "included": rule.included,
            "state": state,
            "over_limit": at_limit,
        }
        if row is None:
            new.append(
                ResourceStatus(
                    service_id=u.service_id, meter_id=u.meter_id, updated_at=now, **fields
                )
            )
        elif any(getattr(row, k) != v for k, v in fields.items()):
            for k, v in fields.items():
                setattr(row, k, v)
            row.updated_at = now
            changed.append(row)
    # One upsert for new and changed rows: ``bulk_update`` builds a CASE of every row per
    # column, quadratic in the rows of a batch (the bulk upload's main cost at 2,000 services).
    ResourceStatus.objects.bulk_create(
        [*new, *changed],
        update_conflicts=True,
        unique_fields=["service", "meter"],
        update_fields=[*_UPDATED, "updated_at"],
        batch_size=1000,
    )
    return rises, over


_UPDATED = ["period_from", "value", "included", "state", "over_limit"]


def reset_statuses(*, now: datetime | None = None) -> dict[str, Any]:
    """Start the statuses of ended periods over (the daily job): each row of a period that
    ended takes the new period's usage (none yet: normal, 0); services suspended over limit
    whose meters are all under their limits now resume."""
    from billow.usage import limits

    now = clock.now(now)
    day = now.date()
    rules = load_meter_rules()
    monthly = [m for m, r in rules.items() if not r.per_day]
    daily = [m for m, r in rules.items() if r.per_day]
    ended = [
        (day.replace(day=1), Q(meter_id__in=monthly, period_from__lt=day.replace(day=1))),
        (day, Q(meter_id__in=daily, period_from__lt=day)),
    ]
    service_ids: set[int] = set()
    reset = 0
    with transaction.atomic():
        for period_from, rows in ended:
            stale = ResourceStatus.objects.filter(rows)
            service_ids.update(stale.values_list("service_id", flat=True))
            reset += stale.update(
                period_from=period_from,
                value=ZERO,
                state=ResourceState.NORMAL,
                over_limit=False,
                updated_at=now,
            )
    if service_ids:  # usage already reported in the new period (early records) counts at once
        apply_usage(load_current_usage(rules, service_ids, day), rules, now=now)
    resumed = limits.resume_under_limit(now=now, reason="period_reset")
    return {"reset": reset, "resumed": resumed}
