"""Set-based writes shared by the billing run and the billing actions.

Every function runs inside the caller's ``transaction.atomic()`` and writes in bulk: expenses by
one ``bulk_create``, their ledger transactions by one ``post_transactions_bulk``, status changes
by one conditional UPDATE per (from, to) group plus bulk event and operation inserts. Side
effects (module operations, notifications) are scheduled on commit; their failure is logged.
"""

from __future__ import annotations

import functools
import logging
from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any

from django.db import connection, transaction
from django.db.models import Q

from billow.billing.plan import Notice, StatusChange
from billow.core.actors import Actor
from billow.core.audit import audit_kwargs
from billow.services.models import Service, ServiceEvent, ServiceOperation
from billow.services.states import SUSPENDED, ServiceStatus, SubState, can_transition

logger = logging.getLogger("billow.billing")

RUN_ACTOR = Actor.job("billing_run")

_OPERATION: dict[str, str] = {ServiceStatus.ACTIVE: "resume", ServiceStatus.DELETED: "close"}
_SUB_STATE: dict[str, str] = {
    "suspend": SubState.SUSPEND,
    "resume": SubState.RESUME,
    "close": SubState.DELETE,
}
_EVENT: dict[str, str] = {
    ServiceStatus.ACTIVE: "service_resumed",
    ServiceStatus.DELETED: "service_deleted",
}


def set_paid_until(new_dates: dict[int, date], *, now: datetime) -> None:
    """One UPDATE per distinct new date (a run's renewals share few end dates)."""
    by_date: dict[date, list[int]] = defaultdict(list)
    for service_id, paid in new_dates.items():
        by_date[paid].append(service_id)
    for paid, ids in by_date.items():
        if connection.vendor == "postgresql":  # one array parameter instead of N placeholders
            with connection.cursor() as cursor:
                cursor.execute(_PG_SET_PAID_UNTIL, [paid, now, ids])
        else:
            Service.objects.filter(pk__in=ids).update(paid_until=paid, updated_at=now)


_PG_SET_PAID_UNTIL = (
    f"UPDATE {Service._meta.db_table} SET paid_until = %s, updated_at = %s "  # noqa: S608
    "WHERE id = ANY(%s)"
)


# -- status changes ---------------------------------------------------------------------------


def operation_for(to_status: str) -> str:
    return "suspend" if to_status in SUSPENDED else _OPERATION[to_status]


def apply_status_changes(
    changes: Sequence[StatusChange], *, now: datetime, actor: Any
) -> list[ServiceOperation]:
    """Apply status changes in bulk. A service with a module instance goes to in progress and
    gets a queued operation (key ``<operation>:<service_id>:<date>``) dispatched after commit;
    one without goes straight to the new status (through in progress when the transition
    table has no direct move). Writes one event per hop; notifies clients after commit."""
    if not changes:
        return []
    groups: dict[tuple[str, str, str], list[StatusChange]] = defaultdict(list)
    events: list[ServiceEvent] = []
    operations: list[ServiceOperation] = []
    for c in changes:
        target = ServiceStatus.IN_PROGRESS if c.module_instance_id else c.to_status
        sub = _SUB_STATE[operation_for(c.to_status)] if c.module_instance_id else ""
        groups[(c.from_status, target, sub)].append(c)
        events.extend(_events(c, actor, now))
        if c.module_instance_id:
            operations.append(_operation(c, now))
    for (from_status, target, sub), group in groups.items():
        _update_group(from_status, target, sub, [c.service_id for c in group], now)
    ServiceEvent.objects.bulk_create(events, batch_size=2000)
    created = _insert_operations(operations)
    _after_commit_operations([op.pk for op in created])
    notify_after_commit(_change_notices(changes, now.date()))
    return created


def _update_group(from_status: str, target: str, sub: str, ids: list[int], now: datetime) -> None:
    fields: dict[str, Any] = {"status": target, "sub_state": sub, "updated_at": now}
    final = target
    if target == ServiceStatus.IN_PROGRESS:
        final = ""  # the operation decides; the suspension clock starts at the decision
    if final in SUSPENDED or (sub == SubState.SUSPEND):
        fields["suspended_at"] = now
    if final == ServiceStatus.ACTIVE:
        fields["suspended_at"] = None
    if final == ServiceStatus.DELETED:
        fields["deleted_at"] = now
    moved = Service.objects.filter(pk__in=ids, status=from_status).update(**fields)
    if moved != len(ids):
        from billow.billing.errors import BillingConflictError

        raise BillingConflictError(
            f"{len(ids) - moved} services changed status meanwhile", code="service_changed"
        )


def _hops(from_status: str, to_status: str) -> list[tuple[str, str]]:
    if can_transition(from_status, to_status):
        return [(from_status, to_status)]
    return [(from_status, ServiceStatus.IN_PROGRESS), (ServiceStatus.IN_PROGRESS, to_status)]


def _events(c: StatusChange, actor: Any, now: datetime) -> list[ServiceEvent]:
    data = {"reason": c.reason, "target_status": c.to_status}
    hops: list[tuple[str, str, str]]
    if c.module_instance_id:
        op = operation_for(c.to_status)
        hops = [(c.from_status, ServiceStatus.IN_PROGRESS, f"service.{op}_started")]
    else:
        hops = [
            (a, b, "service.in_progress" if b == ServiceStatus.IN_PROGRESS else _event_type(b))
            for a, b in _hops(c.from_status, c.to_status)
        ]
    return [
        ServiceEvent(
            service_id=c.service_id,
            from_status=a,
            to_status=b,
            **audit_kwargs(actor, kind, data, now=now),
        )
        for a, b, kind in hops
    ]


def _event_type(status: str) -> str:
    if status in SUSPENDED:
        return "service.suspended"
    names: dict[str, str] = {
        ServiceStatus.ACTIVE: "service.resumed",
        ServiceStatus.DELETED: "service.deleted",
    }
    return names.get(status, "service.status_changed")


def _operation(c: StatusChange, now: datetime) -> ServiceOperation:
    op = operation_for(c.to_status)
    return ServiceOperation(
        service_id=c.service_id,
        module_instance_id=c.module_instance_id,
        operation=op,
        idempotency_key=f"{op}:{c.service_id}:{now.date().isoformat()}",
        payload={"target_status": c.to_status, "reason": c.reason},
        from_status=c.from_status,
        created_at=now,
    )


def _insert_operations(operations: list[ServiceOperation]) -> list[ServiceOperation]:
    if not operations:
        return []
    ServiceOperation.objects.bulk_create(operations, ignore_conflicts=True)
    keys = [op.idempotency_key for op in operations]
    return list(ServiceOperation.objects.filter(Q(idempotency_key__in=keys), status="queued"))


def _change_notices(changes: Sequence[StatusChange], day: date) -> list[Notice]:
    out = []
    for c in changes:
        event = "service_suspended" if c.to_status in SUSPENDED else _EVENT[c.to_status]
        out.append(
            Notice(
                event,
                c.client_id,
                c.provider_id,
                {"service_id": c.service_id, "reason": c.reason},
                f"{event}:{c.service_id}:{day.isoformat()}",
            )
        )
    return out


# -- after commit -----------------------------------------------------------------------------


def _safely(what: str, fn: Callable[[], None]) -> None:
    try:
        fn()
    except NotImplementedError:
        logger.warning("%s is not implemented yet; skipped", what)
    except Exception:  # a side effect must never undo committed billing; log and move on
        logger.exception("%s failed after commit", what)


def _after_commit_operations(ids: list[int]) -> None:
    if not ids:
        return

    def dispatch() -> None:
        from billow.services.actions import dispatch_operations

        dispatch_operations(ids)

    transaction.on_commit(lambda: _safely("dispatch_operations", dispatch))


def notify_after_commit(notices: Sequence[Notice]) -> None:
    """Group notices by event and call ``notify_clients_bulk`` once per event after commit."""
    if not notices:
        return
    by_event: dict[str, list[tuple[int, int | None, dict[str, Any], str]]] = defaultdict(list)
    for n in notices:
        by_event[n.event].append((n.client_id, n.provider_id, n.context, n.dedup_key))

    def send() -> None:
        from billow.notifications.actions import notify_clients_bulk

        for event, items in by_event.items():
            _safely(
                f"notify {event}", functools.partial(notify_clients_bulk, event=event, items=items)
            )

    transaction.on_commit(send)
