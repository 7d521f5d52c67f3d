"""The set-based state API other apps call to change services (billing renews, suspends and
deletes thousands per chunk; its actions change one at a time through the same functions).

Every function joins the caller's transaction and writes in bulk: one conditional UPDATE per
(from, to) group, bulk event and operation inserts, operations dispatched after commit. Every
status move is checked against ``states.ALLOWED_TRANSITIONS`` before anything is written: an
illegal move refuses the whole set (``invalid_transition``) and writes nothing. A service that
left its expected status meanwhile is found by the conditional UPDATE itself
(``service_changed``): the caller's transaction then rolls back. Operation keys
are built here: ``<operation>:<service_id>:<day>`` for status changes (numbered ``:2``,
``:3`` for a second change of the same kind that day, an hourly service's), ``prolong:
<service_id>:<new paid-until>`` for renewals, so a rerun of the same day or period queues
nothing new.
"""

from __future__ import annotations

import functools
import logging
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol

from django.db import transaction

from billow.core.actors import Actor
from billow.core.audit import audit_kwargs
from billow.services import sql
from billow.services.errors import InvalidTransitionError, ServiceConflictError
from billow.services.models import (
    ModuleInstance,
    OperationStatus,
    Service,
    ServiceEvent,
    ServiceOperation,
)
from billow.services.modules.base import modules
from billow.services.states import (
    SUSPENDED,
    Operation,
    ServiceStatus,
    SubState,
    can_transition,
)

from .requests import dispatch_operations, request_operation
from .transitions import record_event

logger = logging.getLogger("billow.services")

S = ServiceStatus
_TARGET_OPERATION: dict[str, str] = {S.ACTIVE: Operation.RESUME, S.DELETED: Operation.CLOSE}
_SUB_STATE: dict[str, str] = {
    Operation.SUSPEND: SubState.SUSPEND,
    Operation.RESUME: SubState.RESUME,
    Operation.CLOSE: SubState.DELETE,
}
_EVENT_OF_STATUS: dict[str, str] = {S.ACTIVE: "service.resumed", S.DELETED: "service.deleted"}


class Move(Protocol):
    """One requested status change (billing's ``StatusChange`` is one): ``service_id`` goes from
    ``from_status`` to ``to_status`` (active, a suspended status or deleted), through a module
    operation when ``module_instance_id`` is set."""

    @property
    def service_id(self) -> int: ...
    @property
    def from_status(self) -> str: ...
    @property
    def to_status(self) -> str: ...
    @property
    def reason(self) -> str: ...
    @property
    def module_instance_id(self) -> int | None: ...


@dataclass(frozen=True, slots=True)
class Transition:
    """A ``Move`` built by hand (one service's action)."""

    service_id: int
    from_status: str
    to_status: str
    reason: str
    module_instance_id: int | None = None


@dataclass(frozen=True, slots=True)
class EventRecord:
    """An event that leaves the status as it is (``status``: the service's, "" when unknown)."""

    service_id: int
    type: str
    data: Mapping[str, Any]
    status: str = ""


@dataclass(frozen=True, slots=True)
class Renewal:
    """A service renewed up to ``paid_until``: its module's ``prolong`` runs where it has one."""

    service_id: int
    module_instance_id: int | None
    status: str
    paid_until: date


def operation_for(to_status: str) -> str:
    """The module operation that takes a service to ``to_status``."""
    return Operation.SUSPEND if to_status in SUSPENDED else _TARGET_OPERATION[to_status]


# -- status changes ---------------------------------------------------------------------------


def apply_transitions(
    changes: Sequence[Move], *, actor: Actor | None, now: datetime
) -> list[ServiceOperation]:
    """Apply status changes in bulk (inside the caller's transaction).

    A service with a module instance goes to in progress and gets a queued operation (key
    ``<operation>:<service_id>:<day>``) dispatched after commit; one without goes straight to
    the new status (through in progress when the table has no direct move). One event per hop.
    Refuses ``invalid_transition`` for any move the table does not allow (nothing written) and
    ``service_changed`` when a service left its ``from_status`` meanwhile (the caller's
    transaction must roll back). Returns the operations queued."""
    if not changes:
        return []
    for change in changes:
        _check_move(change)
    groups: dict[tuple[str, str, str], list[int]] = defaultdict(list)
    events: list[ServiceEvent] = []
    operations: list[ServiceOperation] = []
    for c in changes:
        op = operation_for(c.to_status)
        target = S.IN_PROGRESS if c.module_instance_id else c.to_status
        sub = _SUB_STATE[op] if c.module_instance_id else ""
        groups[(c.from_status, target, sub)].append(c.service_id)
        events.extend(_events(c, op, actor, now))
        if c.module_instance_id:
            operations.append(_operation(c, op, now))
    for (from_status, target, sub), ids in groups.items():
        _update_group(from_status, target, sub, ids, now)
    ServiceEvent.objects.bulk_create(events, batch_size=2000)
    return _insert_operations(_fresh_keys(operations))


def _check_move(c: Move) -> None:
    if c.to_status not in SUSPENDED and c.to_status not in _TARGET_OPERATION:
        raise _illegal(c)
    hops = _hops(c.from_status, S.IN_PROGRESS if c.module_instance_id else c.to_status)
    if c.module_instance_id:
        hops.append((S.IN_PROGRESS, c.to_status))
    if not all(can_transition(a, b) for a, b in hops):
        raise _illegal(c)


def _illegal(c: Move) -> InvalidTransitionError:
    return InvalidTransitionError(
        f"service {c.service_id} cannot go from {c.from_status} to {c.to_status}",
        service_id=c.service_id,
        current=c.from_status,
        to=c.to_status,
    )


def _hops(from_status: str, to_status: str) -> list[tuple[str, str]]:
    if can_transition(from_status, to_status):
        return [(from_status, to_status)]
    return [(from_status, S.IN_PROGRESS), (S.IN_PROGRESS, to_status)]


def _update_group(from_status: str, target: str, sub: str, ids: list[int], now: datetime) -> None:
    fields: dict[str, Any] = {"status": target, "sub_state": sub, "updated_at": now}
    # In progress: the operation decides; the suspension clock starts at the decision.
    final = "" if target == S.IN_PROGRESS else target
    if final in SUSPENDED or sub == SubState.SUSPEND:
        fields["suspended_at"] = now
    if final == S.ACTIVE:
        fields["suspended_at"] = None
    if final == S.DELETED:
        fields["deleted_at"] = now
    moved = Service.objects.filter(pk__in=ids, status=from_status).update(**fields)
    if moved != len(ids):
        raise ServiceConflictError(
            f"{len(ids) - moved} services changed status meanwhile", code="service_changed"
        )


def _events(c: Move, op: str, actor: Actor | None, now: datetime) -> list[ServiceEvent]:
    data = {"reason": c.reason, "target_status": c.to_status}
    hops: list[tuple[str, str, str]]
    if c.module_instance_id:
        hops = [(c.from_status, S.IN_PROGRESS, f"service.{op}_started")]
    else:
        hops = [
            (a, b, "service.in_progress" if b == S.IN_PROGRESS else _event_type(b))
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
    return _EVENT_OF_STATUS.get(status, "service.status_changed")


def _operation(c: Move, op: str, now: datetime) -> ServiceOperation:
    return ServiceOperation(
        service_id=c.service_id,
        module_instance_id=c.module_instance_id,
        operation=op,
        idempotency_key=f"{op}:{c.service_id}:{now.date().isoformat()}",
        payload={"target_status": c.to_status, "reason": c.reason},
        from_status=c.from_status,
        created_at=now,
    )


def _fresh_keys(operations: list[ServiceOperation]) -> list[ServiceOperation]:
    """A status change that was applied (its conditional UPDATE moved the service) is a new
    transition even when one of the same day already ran (an hourly service suspended,
    resumed by a payment and suspended again the same day): its operation gets the day's key
    numbered (``suspend:7:2025-03-10:2``) instead of being dropped as a replay, which would
    leave the service in progress with nothing to finish it. A key still queued is kept."""
    keys = [op.idempotency_key for op in operations]
    done = set(
        ServiceOperation.objects.filter(idempotency_key__in=keys)
        .exclude(status=OperationStatus.QUEUED)
        .values_list("idempotency_key", flat=True)
    )
    if not done:
        return operations
    for op in operations:
        if op.idempotency_key in done:
            taken = ServiceOperation.objects.filter(
                idempotency_key__startswith=f"{op.idempotency_key}:"
            ).count()
            op.idempotency_key = f"{op.idempotency_key}:{taken + 2}"
    return operations


def _insert_operations(operations: list[ServiceOperation]) -> list[ServiceOperation]:
    """Insert (a key already there is kept as it is) and dispatch the queued ones on commit."""
    if not operations:
        return []
    ServiceOperation.objects.bulk_create(operations, ignore_conflicts=True)
    keys = [op.idempotency_key for op in operations]
    created = list(
        ServiceOperation.objects.filter(idempotency_key__in=keys, status=OperationStatus.QUEUED)
    )
    ids = [op.pk for op in created]
    if ids:
        transaction.on_commit(functools.partial(_dispatch_after_commit, ids))
    return created


def _dispatch_after_commit(ids: list[int]) -> None:
    """A failure to enqueue must never undo committed billing: logged, and the janitor
    re-dispatches the queued rows."""
    try:
        dispatch_operations(ids)
    except NotImplementedError:
        logger.warning("dispatch_operations is not implemented yet; skipped")
    except Exception:
        logger.exception("dispatch_operations failed after commit")


# -- renewals and paid periods ------------------------------------------------------------------


def set_paid_until(new_dates: Mapping[int, date], *, now: datetime) -> None:
    """Set ``paid_until`` per service: one UPDATE per distinct date (a run's renewals share few
    end dates)."""
    by_date: dict[date, list[int]] = defaultdict(list)
    for service_id, paid in new_dates.items():
        by_date[paid].append(service_id)
    for paid, ids in by_date.items():
        sql.set_paid_until(ids, paid, now)


def set_paid_until_at(new_moments: Mapping[int, datetime], *, now: datetime) -> None:
    """Set ``paid_until_at`` of hourly services: one UPDATE per distinct hour (the hourly run's
    services share their hour, so usually one). Few enough per hour for the ORM's ``IN``."""
    by_moment: dict[datetime, list[int]] = defaultdict(list)
    for service_id, paid in new_moments.items():
        by_moment[paid].append(service_id)
    for paid, ids in by_moment.items():
        Service.objects.filter(pk__in=ids).update(paid_until_at=paid, updated_at=now)


@dataclass(frozen=True, slots=True)
class TrialConversion:
    """A trial paid into its next ``period`` (``status``: the service's, unchanged)."""

    service_id: int
    period: str
    status: str


def convert_trials(
    conversions: Sequence[TrialConversion], *, actor: Actor | None, now: datetime
) -> None:
    """Trials paid into their next period become services of that period (``period`` set to
    it), each with a ``service.trial_converted`` event; one UPDATE per period."""
    by_period: dict[str, list[int]] = defaultdict(list)
    for c in conversions:
        by_period[c.period].append(c.service_id)
    for period, ids in by_period.items():
        Service.objects.filter(pk__in=ids, period="trial").update(period=period, updated_at=now)
    record_events(
        [
            EventRecord(c.service_id, "service.trial_converted", {"period": c.period}, c.status)
            for c in sorted(conversions, key=lambda c: c.service_id)
        ],
        actor=actor,
        now=now,
    )


def set_first_paid_period(
    *, service: Service, paid_until: date, anchor_day: int, now: datetime
) -> Service:
    """The opening charge's end and the anchor day later renewals keep (the service is locked
    by the caller)."""
    service.paid_until, service.anchor_day, service.updated_at = paid_until, anchor_day, now
    service.save(update_fields=["paid_until", "anchor_day", "updated_at"])
    return service


def request_prolongs(renewals: Sequence[Renewal], *, now: datetime) -> list[ServiceOperation]:
    """Queue the module's ``prolong`` for each renewed service whose module has one
    (``ProcessingModule.prolongs``), keyed ``prolong:<service_id>:<paid_until>`` so a renewal is
    prolonged once. The service stays in its status (a renewal is not a lifecycle move); the
    operations are dispatched after commit. One query for the instances' modules, one insert."""
    with_module = [r for r in renewals if r.module_instance_id]
    if not with_module:
        return []
    instance_ids = {r.module_instance_id for r in with_module}
    prolonging = {
        pk
        for pk, module in ModuleInstance.objects.filter(pk__in=instance_ids).values_list(
            "pk", "module"
        )
        if module in modules and modules.get(module).prolongs
    }
    operations = [
        ServiceOperation(
            service_id=r.service_id,
            module_instance_id=r.module_instance_id,
            operation=Operation.PROLONG,
            idempotency_key=f"prolong:{r.service_id}:{r.paid_until.isoformat()}",
            payload={"paid_until": r.paid_until.isoformat()},
            from_status=r.status,
            created_at=now,
        )
        for r in with_module
        if r.module_instance_id in prolonging
    ]
    return _insert_operations(operations)


# -- events and plan changes ----------------------------------------------------------------------


def record_events(events: Sequence[EventRecord], *, actor: Actor | None, now: datetime) -> None:
    """Events that leave each service's status as it is, in one insert."""
    ServiceEvent.objects.bulk_create(
        [
            ServiceEvent(
                service_id=e.service_id,
                from_status=e.status,
                to_status=e.status,
                **audit_kwargs(actor, e.type, e.data, now=now),
            )
            for e in events
        ],
        batch_size=2000,
    )


@dataclass(frozen=True, slots=True)
class PlanChange:
    """A scheduled tariff / addon change that takes effect now (the run's pending changes)."""

    tariff_id: int
    addon_values: Mapping[str, Any]


def apply_scheduled_plan_changes(
    changes: Mapping[int, PlanChange], *, actor: Actor | None, now: datetime
) -> None:
    """Put each service on its new tariff and addon values (special price kept) and write a
    ``service.plan_changed`` event for each. Scheduled changes are few: one UPDATE each."""
    for service_id in sorted(changes):
        change = changes[service_id]
        Service.objects.filter(pk=service_id).update(
            tariff_id=change.tariff_id, addon_values=dict(change.addon_values), updated_at=now
        )
    record_events(
        [
            EventRecord(
                service_id,
                "service.plan_changed",
                {"tariff_id": c.tariff_id, "addon_values": dict(c.addon_values)},
            )
            for service_id, c in sorted(changes.items())
        ],
        actor=actor,
        now=now,
    )


def change_plan(
    *,
    service: Service,
    tariff_id: int,
    addon_values: dict[str, Any],
    special_price_minor: int | None,
    actor: Actor | None,
    now: datetime,
) -> Service:
    """Put a (locked) service on a tariff, addon values and special price now: one
    ``service.plan_changed`` event; an active service with a module gets a ``set_param``
    operation carrying the new values (numbered per service)."""
    data = {"from_tariff": service.tariff_id, "tariff_id": tariff_id, "addon_values": addon_values}
    service.tariff_id = tariff_id
    service.addon_values = addon_values
    service.special_price_minor = special_price_minor
    service.updated_at = now
    service.save(update_fields=["tariff", "addon_values", "special_price_minor", "updated_at"])
    record_event(service, "service.plan_changed", actor, data, now)
    active_with_module = service.module_instance_id and service.status == S.ACTIVE
    if active_with_module and (addon_values or service.parameters):
        n = ServiceOperation.objects.filter(service=service, operation=Operation.SET_PARAM).count()
        request_operation(
            service=service,
            operation=Operation.SET_PARAM,
            actor=actor,
            now=now,
            payload={
                "tariff_id": tariff_id,
                "addon_values": addon_values,
                "parameters": service.parameters,
            },
            key=f"set_param:{service.pk}:{n + 1}",
        )
    return service


def schedule_deletion(*, service: Service, actor: Actor | None, now: datetime) -> Service:
    """Mark a (locked) service for deletion when its paid period ends (the billing run deletes
    it then) and write ``service.deletion_scheduled``."""
    service.delete_at_period_end = True
    service.save(update_fields=["delete_at_period_end"])
    record_event(service, "service.deletion_scheduled", actor, {"on": service.paid_until}, now)
    return service


def set_parameters(*, service: Service, parameters: Mapping[str, str]) -> Service:
    """Store a (locked) service's parameters as given (the caller validated them)."""
    service.parameters = dict(parameters)
    service.save(update_fields=["parameters"])
    return service
