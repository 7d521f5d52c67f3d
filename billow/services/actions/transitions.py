"""The one transition helper: every single-service status move goes through
``transition_service`` and the table in ``states``; events that leave the status alone through
``record_event``. Both join the caller's transaction."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from django.db import transaction

from billow.catalog import pricing
from billow.catalog.errors import PricingError
from billow.core import clock
from billow.core.actors import Actor
from billow.core.audit import audit_kwargs
from billow.services.errors import InvalidTransitionError, ServiceValidationError
from billow.services.models import Service, ServiceEvent
from billow.services.states import SUSPENDED, ServiceStatus, SubState, can_transition

S = ServiceStatus


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


def check_parameters(
    info: pricing.TariffInfo, params: Mapping[str, str], *, require_all: bool = True
) -> None:
    """The catalog's parameter check, refused with the services codes ``missing_parameter`` /
    ``invalid_parameter`` (the catalog's code kept as ``reason``)."""
    try:
        pricing.check_parameters(info, params, require_all=require_all)
    except PricingError as exc:
        code = "missing_parameter" if exc.code == "missing_parameter" else "invalid_parameter"
        raise ServiceValidationError(exc.message, code=code, reason=exc.code) from None
