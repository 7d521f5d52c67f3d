"""Service lifecycle: the one transition helper, ordering, module operations and outcomes.

Every write runs in a transaction and writes a ``ServiceEvent`` in it; anything that leaves the
database (enqueueing jobs, notifying staff) runs after commit. Refusals raise ``BillowError``
subclasses with stable codes (``errors.py``) and change nothing.

Row locks are taken in a fixed order: service, then operation, then task.
"""

from __future__ import annotations

import functools
import logging
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from django.db import transaction
from django.urls import reverse

from billow.catalog import pricing
from billow.catalog.errors import PricingError
from billow.catalog.selectors import get_tariff_info
from billow.core import clock
from billow.core.actors import Actor
from billow.core.audit import audit_kwargs
from billow.services.errors import (
    InvalidTransitionError,
    ServiceConflictError,
    ServiceValidationError,
)
from billow.services.models import (
    ModuleInstance,
    OperationStatus,
    Service,
    ServiceEvent,
    ServiceOperation,
    Task,
    TaskKind,
    TaskStatus,
)
from billow.services.modules.base import modules
from billow.services.signals import alert_staff_on_commit
from billow.services.states import (
    CUSTOM_ACTION_FROM,
    CUSTOM_ACTION_RULES,
    EXTERNAL_ID_ACTIONS,
    OPERATION_RULES,
    REQUESTER_FAILURE_CODES,
    SUSPENDED,
    Operation,
    ServiceStatus,
    SubState,
    can_transition,
)

from .completion import succeed_unchanged

logger = logging.getLogger("billow.services")

S = ServiceStatus
OS = OperationStatus
#: Operations in these states block a new one on the same service.
BUSY = frozenset({OS.QUEUED, OS.RUNNING, OS.PENDING, OS.UNKNOWN})
FINISHED = frozenset({OS.SUCCEEDED, OS.CANCELLED})


# -- the transition helper --------------------------------------------------------------------


def transition_service(
    *,
    service: Service,
    to: str,
    sub_state: str = "",
    actor: Actor | None,
    reason: str = "",
    now: datetime | None = None,
    data: Mapping[str, Any] | None = None,
    also_save: Sequence[str] = (),
) -> Service:
    """Move ``service`` to status ``to`` if ``ALLOWED_TRANSITIONS`` allows it (``also_save``:
    fields the caller changed on ``service`` to be saved in the same UPDATE).

    Stamps ``opened_at`` (first activation), ``suspended_at`` (first suspension; cleared on
    activation), ``deleted_at``; ``sub_state`` is kept only for in-progress. Saves just the
    changed fields and writes one ``service.status_changed`` event in the same transaction.
    Refusals: ``service_deleted``, ``invalid_transition``, ``invalid_sub_state``.
    """
    moment = clock.now(now)
    current = service.status
    if current == S.DELETED:
        raise InvalidTransitionError("the service is deleted", code="service_deleted")
    if not can_transition(current, to):
        raise InvalidTransitionError(
            f"a service cannot go from {current} to {to}", current=current, to=to
        )
    sub_state = _check_sub_state(to, sub_state)
    fields = _stamp(service, to, moment)
    service.status, service.sub_state, service.updated_at = to, sub_state, moment
    # No savepoint: only the two writes are inside (refusals are raised above), and a database
    # error there dooms the caller's transaction anyway. Saves two round trips per transition.
    with transaction.atomic(savepoint=False):
        service.save(update_fields=["status", "sub_state", "updated_at", *fields, *also_save])
        event_data = {"sub_state": sub_state, "reason": reason, **dict(data or {})}
        ServiceEvent.objects.create(
            service=service,
            from_status=current,
            to_status=to,
            **audit_kwargs(actor, "service.status_changed", event_data, now=moment),
        )
    return service


def _check_sub_state(to: str, sub_state: str) -> str:
    if to != S.IN_PROGRESS:
        return ""
    if not sub_state or sub_state not in SubState.values:
        raise ServiceValidationError(
            f"in progress needs an operation sub-state, not {sub_state!r}", code="invalid_sub_state"
        )
    return sub_state


def _stamp(service: Service, to: str, moment: datetime) -> list[str]:
    fields: list[str] = []
    if to == S.ACTIVE:
        if service.opened_at is None:
            service.opened_at = moment
            fields.append("opened_at")
        if service.suspended_at is not None:
            service.suspended_at = None
            fields.append("suspended_at")
    elif to in SUSPENDED and service.suspended_at is None:
        service.suspended_at = moment
        fields.append("suspended_at")
    elif to == S.DELETED:
        service.deleted_at = moment
        fields.append("deleted_at")
    return fields


def record_event(
    service: Service, type: str, actor: Actor | None, data: Mapping[str, Any], now: datetime
) -> ServiceEvent:
    """An event that leaves the status as it is (inside the caller's transaction)."""
    return ServiceEvent.objects.create(
        service=service,
        from_status=service.status,
        to_status=service.status,
        **audit_kwargs(actor, type, data, now=now),
    )


def _check_parameters(
    info: pricing.TariffInfo, params: Mapping[str, str], *, require_all: bool = True
) -> None:
    try:
        pricing.check_parameters(info, params, require_all=require_all)
    except PricingError as exc:
        code = "missing_parameter" if exc.code == "missing_parameter" else "invalid_parameter"
        raise ServiceValidationError(exc.message, code=code, reason=exc.code) from None


# -- requesting operations ----------------------------------------------------------------------


def request_operation(
    *,
    service: Service,
    operation: str,
    payload: Mapping[str, Any] | None = None,
    actor: Actor | None = None,
    key: str | None = None,
    now: datetime | None = None,
    service_is_new: bool = False,
) -> ServiceOperation:
    """Queue module operation ``operation`` for ``service`` and dispatch it after commit.

    ``service_is_new``: the caller created ``service`` in its current transaction (so it holds
    the row and no operation of it can exist): the re-read under lock and the key and busy
    checks are skipped (the order checkout opens its services this way).

    Lifecycle operations move the service to in progress with the matching sub-state
    (``states.OPERATION_RULES``); per-type actions (reboot ...) leave the status alone.
    Idempotent by ``key``: the same key for the same service and operation returns the existing
    row and changes nothing; for anything else it is ``idempotency_key_reused``.
    Payloads: suspend ``{"target_status": "suspended_staff" | ...}``; set_param
    ``{"addon_values": {...}, "parameters": {...}}`` (validated against the tariff).
    """
    moment = clock.now(now)
    body = dict(payload or {})
    # A new service's request cannot be refused, so it needs no savepoint to fall back to.
    with transaction.atomic(savepoint=not service_is_new):
        if service_is_new:
            svc = service
        else:
            svc = Service.objects.select_for_update().get(pk=service.pk)
            existing = _existing_by_key(svc, operation, key)
            if existing is not None:
                return existing
        instance = _check_request(svc, operation, body, busy_check=not service_is_new)
        op = ServiceOperation.objects.create(
            service=svc,
            module_instance=instance,
            operation=operation,
            payload=body,
            idempotency_key=key or f"{operation}:{svc.pk}:{uuid.uuid4().hex}",
            from_status=svc.status,
            created_at=moment,
        )
        info = {"operation_id": op.pk, "operation": operation}
        rule = OPERATION_RULES.get(operation)
        if rule is not None:
            transition_service(
                service=svc,
                to=S.IN_PROGRESS,
                sub_state=rule.sub_state,
                actor=actor,
                reason=f"{operation} requested",
                now=moment,
                data=info,
            )
        else:
            record_event(svc, "service.action_requested", actor, info, moment)
        transaction.on_commit(functools.partial(dispatch_operations, [op.pk]), robust=True)
    _refresh(service, svc)
    return op


def _existing_by_key(svc: Service, operation: str, key: str | None) -> ServiceOperation | None:
    if not key:
        return None
    existing = ServiceOperation.objects.filter(idempotency_key=key).first()
    if existing is not None and (existing.service_id, existing.operation) != (svc.pk, operation):
        raise ServiceConflictError(
            "this idempotency key was used for another operation", code="idempotency_key_reused"
        )
    return existing


def _check_request(
    svc: Service, operation: str, body: dict[str, Any], *, busy_check: bool = True
) -> ModuleInstance:
    if svc.status == S.DELETED:
        raise InvalidTransitionError("the service is deleted", code="service_deleted")
    busy = busy_check and svc.operations.filter(status__in=BUSY).exists()
    if svc.status == S.IN_PROGRESS or busy:
        raise ServiceConflictError(
            "another operation of this service is not finished", code="operation_in_progress"
        )
    instance = svc.module_instance
    if instance is None:
        raise ServiceValidationError(
            "no processing module serves this service", code="no_module_instance"
        )
    rule = OPERATION_RULES.get(operation)
    if rule is None:
        if operation not in modules.get(instance.module).actions:
            raise ServiceValidationError(
                f"{instance.module} has no operation {operation!r}", code="unknown_operation"
            )
        allowed: frozenset[str] = CUSTOM_ACTION_RULES.get(operation, CUSTOM_ACTION_FROM)
    else:
        allowed = rule.from_statuses
    if svc.status not in allowed:
        raise InvalidTransitionError(
            f"{operation} is not possible for a service in status {svc.status}",
            code="operation_not_allowed",
        )
    if operation == Operation.SUSPEND:
        _check_suspend(svc, body)
    elif operation == Operation.SET_PARAM:
        _check_set_param(svc, body)
    return instance


def _check_suspend(svc: Service, body: dict[str, Any]) -> None:
    target = body.setdefault("target_status", S.SUSPENDED_BY_STAFF)
    if target not in SUSPENDED or target == svc.status:
        raise ServiceValidationError(
            f"{target!r} is not a suspended status this service can move to",
            code="invalid_suspend_status",
        )


def _check_set_param(svc: Service, body: dict[str, Any]) -> None:
    addons = body.get("addon_values") or {}
    params = body.get("parameters") or {}
    if not isinstance(addons, dict) or not isinstance(params, dict) or not (addons or params):
        raise ServiceValidationError(
            "set_param needs addon_values and/or parameters", code="invalid_payload"
        )
    info = get_tariff_info(svc.tariff_id, svc.currency)
    for name, value in addons.items():
        pricing.check_addon_change(info, name, svc.addon_values.get(name), value)
    merged = {**svc.addon_values, **addons}
    pricing.price_tariff(info, period=svc.period, addon_values=merged, currency=svc.currency)
    _check_parameters(info, {**svc.parameters, **params})


def _refresh(target: Service, source: Service) -> None:
    for name in (
        "status",
        "sub_state",
        "opened_at",
        "suspended_at",
        "deleted_at",
        "updated_at",
        "external_id",
        "addon_values",
        "parameters",
    ):
        setattr(target, name, getattr(source, name))


def dispatch_operations(operation_ids: Sequence[int]) -> None:
    """Enqueue the jobs that execute these queued ServiceOperation rows.

    Call it from ``transaction.on_commit`` after creating the rows. Safe to call twice for the
    same ids (the job skips operations that are no longer queued). A failure to enqueue is
    logged, not raised: the janitor re-dispatches queued rows that are due.
    """
    from billow.services.tasks import run_operation  # the job module imports this one

    for op_id in operation_ids:
        try:
            run_operation(int(op_id))
        except Exception:  # the queue is down: the row stays queued for the janitor
            logger.exception("could not enqueue service operation %s", op_id)


# -- outcomes ----------------------------------------------------------------------------------


def complete_operation(
    *,
    operation: ServiceOperation,
    data: Mapping[str, Any] | None = None,
    actor: Actor | None = None,
    now: datetime | None = None,
) -> ServiceOperation:
    """Record that ``operation`` succeeded and apply it to the service.

    open -> active (``external_id`` from ``data``), suspend -> the payload's target status,
    resume -> active, close -> deleted, set_param -> active with the new values, prolong -> the
    status it had. Open tasks of the operation are closed. ``operation_finished`` if it already
    succeeded or was cancelled.
    """
    moment = clock.now(now)
    result = dict(data or {})
    with transaction.atomic():
        succeeded = (
            None if operation.status in FINISHED else succeed_unchanged(operation, result, moment)
        )
        if succeeded is None:
            svc, op = _lock(operation)
            if op.status in FINISHED:
                raise ServiceConflictError("the operation is finished", code="operation_finished")
            op.status, op.result, op.finished_at = OS.SUCCEEDED, result, moment
            op.error_code, op.error_message, op.next_attempt_at = "", "", None
            op.save(
                update_fields=[
                    "status",
                    "result",
                    "finished_at",
                    "error_code",
                    "error_message",
                    "next_attempt_at",
                ]
            )
            open_tasks = True
        else:
            svc, op, open_tasks = succeeded
        _apply_success(svc, op, result, actor, moment)
        if open_tasks:
            _close_tasks(op, TaskStatus.DONE, "the operation succeeded", moment)
    return op


def _lock(operation: ServiceOperation) -> tuple[Service, ServiceOperation]:
    svc = Service.objects.select_for_update().get(pk=operation.service_id)
    op = ServiceOperation.objects.select_for_update().get(pk=operation.pk)
    return svc, op


def _apply_success(
    svc: Service,
    op: ServiceOperation,
    result: dict[str, Any],
    actor: Actor | None,
    moment: datetime,
) -> None:
    fields = []
    opens = op.operation == Operation.OPEN or op.operation in EXTERNAL_ID_ACTIONS
    if opens and result.get("external_id"):
        svc.external_id = str(result["external_id"])
        fields.append("external_id")
    if op.operation == Operation.SET_PARAM:
        svc.addon_values = {**svc.addon_values, **(op.payload.get("addon_values") or {})}
        svc.parameters = {**svc.parameters, **(op.payload.get("parameters") or {})}
        fields += ["addon_values", "parameters"]
    info = {"operation_id": op.pk, "operation": op.operation}
    target = _success_status(svc, op)
    if target is None or svc.status == S.DELETED or (svc.status == target and not svc.sub_state):
        _save(svc, fields)
        record_event(svc, "service.operation_succeeded", actor, info, moment)
    elif can_transition(svc.status, target):
        transition_service(
            service=svc,
            to=target,
            actor=actor,
            now=moment,
            data=info,
            reason=f"{op.operation} succeeded",
            also_save=fields,
        )
    else:
        _save(svc, fields)
        record_event(svc, "service.outcome_not_applied", actor, {**info, "target": target}, moment)


def _save(svc: Service, fields: list[str]) -> None:
    if fields:
        svc.save(update_fields=fields)


def _success_status(svc: Service, op: ServiceOperation) -> str | None:
    rule = OPERATION_RULES.get(op.operation)
    if rule is None or not _moved_status(svc, op):
        return None
    if rule.success_status is not None:
        return rule.success_status
    if op.operation == Operation.SUSPEND:
        return str(op.payload.get("target_status") or S.SUSPENDED_BY_STAFF)
    if op.from_status and op.from_status != S.IN_PROGRESS:
        return op.from_status
    return S.ACTIVE if svc.status == S.IN_PROGRESS else svc.status


def _moved_status(svc: Service, op: ServiceOperation) -> bool:
    """Whether ``op`` put the service in progress. A renewal's ``prolong`` (queued by
    ``state.request_prolongs``) leaves the status alone, so its outcome does not move it."""
    return op.operation != Operation.PROLONG or svc.sub_state == SubState.RENEW


def fail_operation(
    *,
    operation: ServiceOperation,
    code: str = "module_failed",
    message: str = "",
    actor: Actor | None = None,
    now: datetime | None = None,
) -> ServiceOperation:
    """Record that ``operation`` failed for good: the service goes to ``failed`` (lifecycle
    operations), a staff Task opens in the module instance's department, and staff are
    notified (``operation_failed``) after commit. ``operation_finished`` if already final."""
    moment = clock.now(now)
    with transaction.atomic():
        svc, op = _lock(operation)
        if op.status in FINISHED or op.status == OS.FAILED:
            raise ServiceConflictError("the operation is finished", code="operation_finished")
        op.status, op.finished_at, op.next_attempt_at = OS.FAILED, moment, None
        op.error_code, op.error_message = code[:64], message
        op.save(
            update_fields=[
                "status",
                "finished_at",
                "next_attempt_at",
                "error_code",
                "error_message",
            ]
        )
        info = {"operation_id": op.pk, "operation": op.operation, "code": code}
        lifecycle = op.operation in OPERATION_RULES and _moved_status(svc, op)
        if lifecycle and svc.status != S.FAILED and can_transition(svc.status, S.FAILED):
            transition_service(
                service=svc,
                to=S.FAILED,
                actor=actor,
                now=moment,
                data=info,
                reason=f"{op.operation} failed: {message or code}",
            )
        else:
            record_event(svc, "service.operation_failed", actor, info, moment)
        if not lifecycle and code in REQUESTER_FAILURE_CODES:
            return op  # the requester's to fix (e.g. no guest agent): no staff task
        task = _open_task(
            op,
            svc,
            TaskKind.FAILURE,
            _failure_title(op, svc),
            _failure_instructions(op, code, message),
            moment,
        )
        alert_staff_on_commit(
            "operation_failed",
            {
                **info,
                "service_id": svc.pk,
                "task_id": task.pk,
                "message": message,
                "link": task.link,
            },
        )
    return op


def _failure_title(op: ServiceOperation, svc: Service) -> str:
    return f"{op.operation} failed for service #{svc.pk} ({svc.name})"[:300]


def _failure_instructions(op: ServiceOperation, code: str, message: str) -> str:
    return (
        f"The {op.operation} operation #{op.pk} failed after {op.attempts} attempt(s): "
        f"{code}{': ' + message if message else ''}.\n"
        "Fix the cause and retry the operation, or do the work by hand and complete this task "
        "as successful (the service then gets the operation's result)."
    )


def cancel_operation(
    *,
    operation: ServiceOperation,
    actor: Actor | None = None,
    reason: str = "",
    now: datetime | None = None,
) -> ServiceOperation:
    """Give up an operation that is not running: it is cancelled, its open tasks too, and an
    in-progress (or failed) service goes back to the status it had when it was requested."""
    moment = clock.now(now)
    with transaction.atomic():
        svc, op = _lock(operation)
        if op.status in FINISHED or op.status == OS.RUNNING:
            raise ServiceConflictError(
                f"an operation in status {op.status} cannot be cancelled", code="operation_finished"
            )
        op.status, op.finished_at, op.next_attempt_at = OS.CANCELLED, moment, None
        op.error_message = reason or op.error_message
        op.save(update_fields=["status", "finished_at", "next_attempt_at", "error_message"])
        back = op.from_status or S.ACTIVE
        info = {"operation_id": op.pk, "operation": op.operation}
        if svc.status in (S.IN_PROGRESS, S.FAILED) and can_transition(svc.status, back):
            transition_service(
                service=svc,
                to=back,
                actor=actor,
                now=moment,
                data=info,
                reason=f"{op.operation} cancelled: {reason}",
            )
        else:
            record_event(svc, "service.operation_cancelled", actor, info, moment)
        _close_tasks(op, TaskStatus.CANCELLED, f"operation cancelled: {reason}", moment)
    return op


def retry_operation(
    *, operation: ServiceOperation, actor: Actor | None = None, now: datetime | None = None
) -> ServiceOperation:
    """Run an operation again now (staff's "retry now"): a failed one gets fresh attempts and
    its service goes back to in progress; a queued or unknown one becomes due at once. Its
    failure Task stays open until the operation succeeds."""
    moment = clock.now(now)
    with transaction.atomic():
        svc, op = _lock(operation)
        if op.status not in (OS.FAILED, OS.QUEUED, OS.UNKNOWN):
            raise ServiceConflictError(
                f"an operation in status {op.status} cannot be retried",
                code="operation_not_retryable",
            )
        if svc.status == S.DELETED and op.operation != Operation.CLOSE:
            raise InvalidTransitionError("the service is deleted", code="service_deleted")
        if op.status == OS.FAILED:
            op.attempts = 0
            rule = OPERATION_RULES.get(op.operation)
            if rule is not None and svc.status == S.FAILED:
                transition_service(
                    service=svc,
                    to=S.IN_PROGRESS,
                    sub_state=rule.sub_state,
                    actor=actor,
                    now=moment,
                    reason=f"{op.operation} retried",
                    data={"operation_id": op.pk},
                )
        op.status, op.next_attempt_at, op.finished_at = OS.QUEUED, moment, None
        op.save(update_fields=["status", "next_attempt_at", "finished_at", "attempts"])
        transaction.on_commit(functools.partial(dispatch_operations, [op.pk]), robust=True)
    return op


# -- tasks -------------------------------------------------------------------------------------


def _open_task(
    op: ServiceOperation, svc: Service, kind: str, title: str, instructions: str, moment: datetime
) -> Task:
    instance = op.module_instance or svc.module_instance
    return Task.objects.create(
        department=(instance.department if instance else "") or "support",
        kind=kind,
        title=title,
        instructions=instructions,
        service=svc,
        operation=op,
        link=reverse("admin:services_service_change", args=[svc.pk]),
        created_at=moment,
    )


def _close_tasks(op: ServiceOperation, status: str, resolution: str, moment: datetime) -> None:
    Task.objects.filter(operation=op, status=TaskStatus.OPEN).update(
        status=status, resolution=resolution, completed_at=moment
    )
