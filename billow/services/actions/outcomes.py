"""Outcomes of module operations: succeeded, failed for good (a staff Task, staff alerted),
cancelled, retried; and the staff Tasks attached to operations.

Row locks are taken in a fixed order: service, then operation, then task.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.db import transaction
from django.urls import reverse

from billow.core import clock
from billow.core.actors import Actor
from billow.services.errors import InvalidTransitionError, ServiceConflictError
from billow.services.models import (
    OperationStatus,
    Service,
    ServiceOperation,
    Task,
    TaskKind,
    TaskStatus,
)
from billow.services.signals import alert_staff_on_commit
from billow.services.states import (
    EXTERNAL_ID_ACTIONS,
    OPERATION_RULES,
    REQUESTER_FAILURE_CODES,
    Operation,
    ServiceStatus,
    SubState,
    can_transition,
)

from .completion import succeed_unchanged
from .requests import dispatch_operations
from .transitions import record_event, transition_service

S = ServiceStatus
OS = OperationStatus
FINISHED = frozenset({OS.SUCCEEDED, OS.CANCELLED})


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
            close_tasks(op, TaskStatus.DONE, "the operation succeeded", moment)
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
    if op.operation == "reinstall" and op.payload.get("parameters"):
        svc.parameters = {**svc.parameters, **op.payload["parameters"]}
        fields.append("parameters")
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
        task = open_task(
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
        close_tasks(op, TaskStatus.CANCELLED, f"operation cancelled: {reason}", moment)
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


# -- tasks of operations ----------------------------------------------------------------------


def open_task(
    op: ServiceOperation, svc: Service, kind: str, title: str, instructions: str, moment: datetime
) -> Task:
    """A staff Task for ``op`` in its module instance's department, linking to the service."""
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


def close_tasks(op: ServiceOperation, status: str, resolution: str, moment: datetime) -> None:
    """Close the open Tasks of ``op`` with ``status`` and ``resolution``."""
    Task.objects.filter(operation=op, status=TaskStatus.OPEN).update(
        status=status, resolution=resolution, completed_at=moment
    )
