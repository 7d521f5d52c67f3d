"""Requesting module operations: checked against ``states.OPERATION_RULES``, written with
their idempotency key, the service moved to in progress, the job dispatched after commit."""

from __future__ import annotations

import functools
import logging
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from django.db import transaction

from billow.catalog import pricing
from billow.catalog.selectors import get_tariff_info
from billow.core import clock
from billow.core.actors import Actor
from billow.services.errors import (
    InvalidTransitionError,
    ServiceConflictError,
    ServiceValidationError,
)
from billow.services.models import ModuleInstance, OperationStatus, Service, ServiceOperation
from billow.services.modules.base import modules
from billow.services.states import (
    CUSTOM_ACTION_FROM,
    CUSTOM_ACTION_RULES,
    OPERATION_RULES,
    SUSPENDED,
    Operation,
    ServiceStatus,
)

from .transitions import check_parameters, record_event, transition_service

logger = logging.getLogger("billow.services")

S = ServiceStatus
OS = OperationStatus
#: Operations in these states block a new one on the same service.
BUSY = frozenset({OS.QUEUED, OS.RUNNING, OS.PENDING, OS.UNKNOWN})


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
        instance = check_request(svc, operation, body, busy_check=not service_is_new)
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
    refresh_service(service, svc)
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


def check_request(
    svc: Service, operation: str, body: dict[str, Any], *, busy_check: bool = True
) -> ModuleInstance:
    """Whether ``operation`` may be requested for ``svc`` now (status, busy operations, module
    instance, payload; a suspend payload gets its default target): the instance to run it."""
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
    check_parameters(info, {**svc.parameters, **params})


def refresh_service(target: Service, source: Service) -> None:
    """Copy the fields an action may have changed from the locked copy to the caller's."""
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
