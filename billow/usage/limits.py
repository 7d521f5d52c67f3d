"""Usage limits and the notices of the resource status (issue 14, item 4).

A meter's ``limit`` is the usage of a rating period (the month, or the day for per-day addons)
at which the service stops: ``suspend_over_limit`` moves active services that reached it to
"suspended: over the resource limit" through the services app (``apply_transitions``: the
module's ``suspend`` runs, the event's reason is ``over_limit``) and tells the client why.
``resume_under_limit`` resumes every service suspended over limit whose meters are all under
their limits again: after staff raise a limit (``set_meter_limit``) or when a new period
starts (``usage.status.reset_statuses``).

Notices go out after the writes committed (``notify_clients_bulk``: keyed, so each rise is
told once per period); a notice that fails is logged and never undoes the writes.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import transaction

from billow.core import clock
from billow.core.actors import Actor
from billow.services.actions import Transition, apply_transitions
from billow.services.errors import ServiceConflictError
from billow.services.states import ServiceStatus
from billow.usage.errors import MeterError
from billow.usage.models import Meter
from billow.usage.rating_models import ResourceState, ResourceStatus
from billow.usage.status import (
    CurrentUsage,
    MeterRule,
    load_meter_rules,
    reached_limit,
    resource_state,
)

logger = logging.getLogger("billow.usage")

USAGE_ACTOR = Actor.job("usage")
OVER_LIMIT_REASON = "over_limit"
_EVENTS: dict[str, str] = {
    ResourceState.APPROACHING: "usage_approaching",
    ResourceState.EXCEEDED: "usage_exceeded",
}


def _context(u: CurrentUsage, rule: MeterRule) -> dict[str, Any]:
    context: dict[str, Any] = {
        "service_id": u.service_id,
        "addon": rule.name,
        "unit": rule.unit,
        "period": "day" if rule.per_day else "month",
        "used": _plain(u.value),
        "included": _plain(rule.included),
    }
    if rule.included > 0:
        context["percent"] = int(u.value * 100 / rule.included)
    return context


def notify_rises(
    rises: Sequence[CurrentUsage], rules: Mapping[int, MeterRule], percent: int
) -> None:
    """Tell the clients whose usage reached approaching or exceeded, once per service, meter,
    period and state."""
    by_event: dict[str, list[tuple[int, int | None, dict[str, Any], str]]] = defaultdict(list)
    for u in rises:
        rule = rules[u.meter_id]
        state = resource_state(u.value, rule.included, percent)
        event = _EVENTS.get(state)
        if event is None:
            continue
        key = f"{event}:{u.service_id}:{u.meter_id}:{u.period_from.isoformat()}"
        by_event[event].append((u.client_id, u.provider_id, _context(u, rule), key))
    _notify(by_event)


def suspend_over_limit(
    over: Sequence[CurrentUsage], rules: Mapping[int, MeterRule], *, now: datetime
) -> list[int]:
    """Suspend the active services of ``over`` (usage at or over a meter's limit) "over
    limit" and tell their clients; returns the ids suspended. A service that changed status
    meanwhile is read again and left alone unless it is still active."""
    for _attempt in range(2):
        try:
            with transaction.atomic():
                moved = _suspend(over, now)
            break
        except ServiceConflictError:
            over = _still_active(over)
    else:  # pragma: no cover - two changes racing the same services twice
        logger.warning("over-limit suspension skipped: services kept changing status")
        return []
    notices: dict[str, list[tuple[int, int | None, dict[str, Any], str]]] = defaultdict(list)
    for u in over:
        if u.service_id not in moved:
            continue
        rule = rules[u.meter_id]
        context = {**_context(u, rule), "limit": _plain(rule.limit or Decimal(0))}
        key = f"usage_over_limit:{u.service_id}:{u.meter_id}:{u.period_from.isoformat()}"
        notices["usage_over_limit"].append((u.client_id, u.provider_id, context, key))
    _notify(notices)
    return sorted(moved)


def _suspend(over: Sequence[CurrentUsage], now: datetime) -> set[int]:
    moves: dict[int, Transition] = {}
    for u in over:
        if u.status == ServiceStatus.ACTIVE:
            moves[u.service_id] = Transition(
                u.service_id,
                ServiceStatus.ACTIVE,
                ServiceStatus.SUSPENDED_OVER_LIMIT,
                OVER_LIMIT_REASON,
                u.module_instance_id,
            )
    apply_transitions(list(moves.values()), actor=USAGE_ACTOR, now=now)
    return set(moves)


def _still_active(over: Sequence[CurrentUsage]) -> list[CurrentUsage]:
    current = dict(
        ResourceStatus.objects.filter(service_id__in=[u.service_id for u in over]).values_list(
            "service_id", "service__status"
        )
    )
    return [u for u in over if current.get(u.service_id) == ServiceStatus.ACTIVE]


def resume_under_limit(*, now: datetime, reason: str, meter_ids: Sequence[int] = ()) -> int:
    """Resume the services suspended over limit (on ``meter_ids``' meters, or any) none of
    whose meters is over its limit any more; returns how many."""
    rows = ResourceStatus.objects.filter(service__status=ServiceStatus.SUSPENDED_OVER_LIMIT)
    if meter_ids:
        rows = rows.filter(
            service_id__in=ResourceStatus.objects.filter(meter_id__in=list(meter_ids)).values(
                "service_id"
            )
        )
    over: set[int] = set()
    candidates: dict[int, tuple[int, int, int | None]] = {}
    for service_id, client_id, provider_id, module_id, is_over in rows.values_list(
        "service_id",
        "service__client_id",
        "service__provider_id",
        "service__module_instance_id",
        "over_limit",
    ):
        candidates[service_id] = (client_id, provider_id, module_id)
        if is_over:
            over.add(service_id)
    resume = sorted(candidates.keys() - over)
    if not resume:
        return 0
    moves = [
        Transition(
            s,
            ServiceStatus.SUSPENDED_OVER_LIMIT,
            ServiceStatus.ACTIVE,
            reason,
            candidates[s][2],
        )
        for s in resume
    ]
    with transaction.atomic():
        apply_transitions(moves, actor=USAGE_ACTOR, now=now)
    day = now.date().isoformat()
    _notify(
        {
            "service_resumed": [
                (
                    candidates[s][0],
                    candidates[s][1],
                    {"service_id": s, "reason": reason},
                    f"service_resumed:{s}:{day}",
                )
                for s in resume
            ]
        }
    )
    return len(resume)


def set_meter_limit(
    *, meter_id: int, limit: Decimal | None, actor: Actor | None = None, now: datetime | None = None
) -> Meter:
    """Change a meter's limit (None: no limit) and apply it at once: statuses over the old
    limit and under the new one are cleared and their services resume; services at or over a
    lowered limit are suspended. Refuses ``unknown_meter`` and ``bad_limit`` (negative)."""
    now = clock.now(now)
    if limit is not None and limit < 0:
        raise MeterError("the limit cannot be negative", code="bad_limit")
    with transaction.atomic():
        meter = Meter.objects.select_for_update().filter(pk=meter_id).first()
        if meter is None:
            raise MeterError(f"no meter {meter_id}", code="unknown_meter", meter_id=meter_id)
        meter.limit = limit
        meter.save(update_fields=["limit"])
    apply_meter_limit(meter_id=meter_id, now=now)
    return meter


def apply_meter_limit(*, meter_id: int, now: datetime | None = None) -> dict[str, int]:
    """Re-check one meter's statuses against its limit (after the limit changed, e.g. in the
    admin): statuses no longer over it are cleared and their services resume when no other
    meter holds them; active services at or over the limit are suspended."""
    from billow.usage.status import apply_usage, load_current_usage

    now = clock.now(now)
    rules = load_meter_rules([meter_id])
    if not rules:
        return {"suspended": 0, "resumed": 0}
    limit = rules[meter_id].limit
    cleared = [
        pk
        for pk, value in ResourceStatus.objects.filter(
            meter_id=meter_id, over_limit=True
        ).values_list("pk", "value")
        if not reached_limit(value, limit)
    ]
    if cleared:
        ResourceStatus.objects.filter(pk__in=cleared).update(over_limit=False, updated_at=now)
    resumed = resume_under_limit(now=now, reason="limit_raised", meter_ids=[meter_id])
    service_ids = set(
        ResourceStatus.objects.filter(meter_id=meter_id).values_list("service_id", flat=True)
    )
    suspended = apply_usage(load_current_usage(rules, service_ids, now.date()), rules, now=now)
    return {"suspended": len(suspended), "resumed": resumed}


def _notify(by_event: Mapping[str, list[tuple[int, int | None, dict[str, Any], str]]]) -> None:
    """Send after the current transaction commits (at once outside one); log failures."""
    from billow.notifications.actions import notify_clients_bulk

    def send() -> None:
        for event, items in by_event.items():
            if not items:
                continue
            try:
                notify_clients_bulk(event=event, items=items)
            except Exception:  # a notice must never undo the status written; log and go on
                logger.exception("notify %s failed", event)

    if any(by_event.values()):
        transaction.on_commit(send)


def _plain(value: Decimal) -> str:
    return format(value.normalize(), "f")
