"""Staff operations on one service that move no money (issue 13.1): create a service by hand,
change its paid-until date, set or clear its special price, change its tariff or addons without
a charge, suspend (by staff or for abuse, with a reason the client sees) and resume, re-run a
failed operation, attach an existing remote object.

The operations that move money -- creating with a charge, changing the plan with a charge,
renewing, deleting with the deletion policy -- are billing's (``billow.billing.actions.
staff_ops``), which calls these in its own transaction with the client's wallet locked first.

Guarantees of every operation here: staff give a non-empty ``reason`` (``reason_required``);
every check runs before the first write, so a refusal (a ``BillowError`` with a stable code)
writes nothing; on success one ``staff.<operation>`` ``ServiceEvent`` carries the actor, the
reason and what changed, beside the events of the state API the operation goes through (the
status moves of ``transition_service`` / ``request_operation``). Each joins the caller's
transaction (a plain ``atomic()``) so billing can compose them with a charge.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db import transaction

from billow.accounts.models import Client
from billow.catalog import cache as catalog_cache
from billow.catalog import pricing
from billow.catalog.models import Tariff
from billow.core import clock
from billow.core.actors import Actor
from billow.services.errors import (
    InvalidTransitionError,
    ServiceConflictError,
    ServiceValidationError,
)
from billow.services.models import ModuleInstance, OperationStatus, Service, ServiceEvent
from billow.services.states import SUSPENDED, Operation, ServiceStatus, SubState

from .ordering import create_service
from .outcomes import retry_operation
from .requests import BUSY, request_operation
from .state import change_plan
from .transitions import record_event, transition_service

S = ServiceStatus
#: Statuses a staff suspension may move to (by staff, for abuse).
STAFF_SUSPEND_STATUSES = frozenset({S.SUSPENDED_BY_STAFF, S.SUSPENDED_ABUSE})
#: Event type prefix of the staff operations' audit events.
STAFF_EVENT = "staff."


def check_reason(reason: str) -> str:
    """Staff say why (the audit event keeps it): the stripped reason or ``reason_required``."""
    text = (reason or "").strip()
    if not text:
        raise ServiceValidationError("staff operations need a reason", code="reason_required")
    return text[:1000]


def record_staff_event(
    service: Service,
    operation: str,
    *,
    actor: Actor | None,
    reason: str,
    now: datetime,
    **data: Any,
) -> ServiceEvent:
    """The audit row of one staff operation: ``staff.<operation>`` with reason and details."""
    return record_event(
        service, f"{STAFF_EVENT}{operation}", actor, {"reason": reason, **data}, now
    )


def lock_staff_service(service: Service | int) -> Service:
    """The service, locked; refuses a deleted one (``service_deleted``)."""
    pk = service if isinstance(service, int) else service.pk
    locked = Service.objects.select_for_update().get(pk=pk)
    if locked.status == S.DELETED:
        raise InvalidTransitionError("the service is deleted", code="service_deleted")
    return locked


def _refuse_busy(svc: Service) -> None:
    if svc.status == S.IN_PROGRESS or svc.operations.filter(status__in=BUSY).exists():
        raise ServiceConflictError(
            "another operation of this service is not finished", code="operation_in_progress"
        )


# -- create -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NewService:
    """What staff fill in to create a service for a client."""

    client: Client
    tariff: Tariff
    period: str
    currency: str
    addon_values: Mapping[str, Any] | None = None
    parameters: Mapping[str, str] | None = None
    name: str = ""
    auto_renew_period: str = ""
    paid_until: date | None = None
    open_in_module: bool = False


def create_service_by_staff(
    *,
    new: NewService,
    actor: Actor | None,
    reason: str,
    now: datetime | None = None,
    charged_by_caller: bool = False,
) -> Service:
    """A service for ``new.client`` created by staff (nothing charged here; billing's
    ``create_service_for_client`` charges the first period in the same transaction).

    The tariff, period, addon values and parameters pass the order's checks
    (``create_service``; parameters may be left for later). ``open_in_module``: the module's
    ``open`` is queued (``no_module_instance`` when none serves the tariff); otherwise the
    service is active at once (staff made the object by hand or it needs none). ``paid_until``
    (exclusive) defaults to today: the billing run charges the first period. Hourly tariffs
    are refused (``hourly_not_supported``). ``charged_by_caller`` (billing's charged create):
    paid-until stays empty for the caller's opening charge to set (``paid_until`` refused)."""
    why = check_reason(reason)
    moment = clock.now(now)
    if new.tariff.billing_mode == "hourly":
        raise ServiceValidationError(
            "hourly services are ordered by the client", code="hourly_not_supported"
        )
    if charged_by_caller and new.paid_until is not None:
        raise ServiceValidationError(
            "a charged service is paid from today", code="paid_until_with_charge"
        )
    if new.paid_until is not None and new.paid_until < moment.date():
        raise ServiceValidationError("paid-until is in the past", code="paid_until_in_past")
    paid_until = None if charged_by_caller else (new.paid_until or moment.date())
    with transaction.atomic():
        service = create_service(
            client=new.client,
            tariff=new.tariff,
            period=new.period,
            currency=new.currency,
            addon_values=new.addon_values,
            parameters=new.parameters,
            auto_renew_period=new.auto_renew_period,
            name=new.name,
            defer_parameters=True,
            paid_until=paid_until,
            anchor_day=(paid_until or moment.date()).day,
            actor=actor,
            now=moment,
        )
        if new.open_in_module and service.module_instance_id is None:
            raise ServiceValidationError(
                "no processing module serves this tariff", code="no_module_instance"
            )
        if new.open_in_module:
            request_operation(
                service=service,
                operation=Operation.OPEN,
                actor=actor,
                now=moment,
                key=f"open:{service.pk}:staff",
            )
        else:
            _activate_by_hand(service, actor, why, moment)
        record_staff_event(
            service,
            "create",
            actor=actor,
            reason=why,
            now=moment,
            open_in_module=new.open_in_module,
            paid_until=service.paid_until,
        )
    return service


def _activate_by_hand(service: Service, actor: Actor | None, reason: str, moment: datetime) -> None:
    transition_service(
        service=service,
        to=S.IN_PROGRESS,
        sub_state=SubState.OPEN,
        actor=actor,
        reason=reason,
        now=moment,
    )
    transition_service(service=service, to=S.ACTIVE, actor=actor, reason=reason, now=moment)


# -- dates and prices -------------------------------------------------------------------------


def set_service_paid_until_by_staff(
    *,
    service: Service | int,
    paid_until: date,
    actor: Actor | None,
    reason: str,
    now: datetime | None = None,
    operation: str = "set_paid_until",
    data: Mapping[str, Any] | None = None,
) -> Service:
    """Move a service's paid-until date (exclusive) to ``paid_until``, nothing charged or
    refunded. Refuses hourly services (``hourly_not_supported``), an unchanged date
    (``nothing_to_change``) and a deleted service. ``operation`` names the audit event
    (billing's free manual renewal writes ``staff.renew`` through here)."""
    why = check_reason(reason)
    moment = clock.now(now)
    with transaction.atomic():
        svc = lock_staff_service(service)
        if svc.billing_mode == "hourly" or svc.paid_until_at is not None:
            raise ServiceValidationError(
                "hourly services are paid by the hour", code="hourly_not_supported"
            )
        if svc.paid_until == paid_until:
            raise ServiceValidationError(
                "paid-until is that date already", code="nothing_to_change"
            )
        before = svc.paid_until
        svc.paid_until, svc.updated_at = paid_until, moment
        svc.save(update_fields=["paid_until", "updated_at"])
        record_staff_event(
            svc,
            operation,
            actor=actor,
            reason=why,
            now=moment,
            paid_until_before=before,
            paid_until=paid_until,
            charged=False,
            **dict(data or {}),
        )
    return svc


def set_service_special_price(
    *,
    service: Service | int,
    amount_minor: int | None,
    actor: Actor | None,
    reason: str,
    now: datetime | None = None,
) -> Service:
    """Set the service's special period price (minor units of its currency; it replaces the
    tariff and addon price at the next renewal) or clear it (``None``). Refuses a negative or
    non-integer amount (``invalid_amount``) and an unchanged price (``nothing_to_change``)."""
    why = check_reason(reason)
    moment = clock.now(now)
    if amount_minor is not None and (type(amount_minor) is not int or amount_minor < 0):
        raise ServiceValidationError("the price is a whole amount >= 0", code="invalid_amount")
    with transaction.atomic():
        svc = lock_staff_service(service)
        if svc.special_price_minor == amount_minor:
            raise ServiceValidationError(
                "the special price is that already", code="nothing_to_change"
            )
        before = svc.special_price_minor
        svc.special_price_minor, svc.updated_at = amount_minor, moment
        svc.save(update_fields=["special_price_minor", "updated_at"])
        operation = "clear_special_price" if amount_minor is None else "set_special_price"
        record_staff_event(
            svc,
            operation,
            actor=actor,
            reason=why,
            now=moment,
            special_price_before=before,
            special_price_minor=amount_minor,
            currency=svc.currency,
        )
    return svc


def change_plan_by_staff(
    *,
    service: Service | int,
    tariff: Tariff | None = None,
    addon_values: Mapping[str, Any] | None = None,
    actor: Actor | None,
    reason: str,
    now: datetime | None = None,
) -> Service:
    """Put a service on another tariff and/or addon values now, charging and crediting
    nothing (billing's ``change_service_plan(charge=True)`` charges the difference instead).

    The tariff is one of the same provider and product type (``tariff_incompatible``); the
    addon values (given ones replace, the rest carry over where the new tariff has the addon)
    pass the tariff's ranges and steps; the edit policy (increase only ...) binds clients, not
    staff. A tariff change drops the special price. A running service with a module gets its
    ``set_param`` operation (``change_plan``). Refuses ``nothing_to_change``, a busy service."""
    why = check_reason(reason)
    moment = clock.now(now)
    with transaction.atomic():
        svc = lock_staff_service(service)
        _refuse_busy(svc)
        new_tariff = tariff or svc.tariff
        values = _plan_values(svc, new_tariff, addon_values or {})
        if new_tariff.pk == svc.tariff_id and values == (svc.addon_values or {}):
            raise ServiceValidationError("the plan is that already", code="nothing_to_change")
        special = svc.special_price_minor if new_tariff.pk == svc.tariff_id else None
        before = {"tariff_id": svc.tariff_id, "addon_values": dict(svc.addon_values or {})}
        change_plan(
            service=svc,
            tariff_id=new_tariff.pk,
            addon_values=values,
            special_price_minor=special,
            actor=actor,
            now=moment,
        )
        record_staff_event(
            svc,
            "change_plan",
            actor=actor,
            reason=why,
            now=moment,
            before=before,
            tariff_id=new_tariff.pk,
            addon_values=values,
            charged=False,
        )
    return svc


def _plan_values(svc: Service, tariff: Tariff, given: Mapping[str, Any]) -> dict[str, Any]:
    """The addon values on ``tariff``: the given ones over the carried-over ones, priced."""
    if tariff.pk != svc.tariff_id and (
        tariff.provider_id != svc.provider_id
        or tariff.product_type_id != svc.tariff.product_type_id
    ):
        raise ServiceValidationError(
            "the tariff belongs to another product type or provider", code="tariff_incompatible"
        )
    info = catalog_cache.tariff_info(tariff.pk, svc.currency)
    carried = {k: v for k, v in (svc.addon_values or {}).items() if k in info.addons}
    values = {**carried, **dict(given)}
    pricing.price_tariff(info, period=svc.period, addon_values=values, currency=svc.currency)
    return values


# -- suspend, resume, re-run, attach ----------------------------------------------------------


def suspend_service_by_staff(
    *,
    service: Service | int,
    reason: str,
    actor: Actor | None,
    abuse: bool = False,
    now: datetime | None = None,
) -> Service:
    """Suspend by staff (``suspended_staff``) or for abuse (``suspended_abuse``). The reason is
    shown to the client (``selectors.get_suspension_notice``). With a module the ``suspend``
    operation is queued (the service is in progress until it finishes); without one the status
    moves at once. Refuses a service already in that status (``invalid_suspend_status``), a busy
    one and one that cannot be suspended from its status (``operation_not_allowed``)."""
    why = check_reason(reason)
    moment = clock.now(now)
    target = S.SUSPENDED_ABUSE if abuse else S.SUSPENDED_BY_STAFF
    with transaction.atomic():
        svc = lock_staff_service(service)
        _refuse_busy(svc)
        if svc.status == target:
            raise ServiceValidationError(
                f"the service is {target} already", code="invalid_suspend_status"
            )
        if svc.status not in (S.ACTIVE, *SUSPENDED, S.FAILED):
            raise InvalidTransitionError(
                f"suspend is not possible for a service in status {svc.status}",
                code="operation_not_allowed",
            )
        _move(svc, Operation.SUSPEND, target, why, actor, moment)
        record_staff_event(
            svc,
            "suspend",
            actor=actor,
            reason=why,
            now=moment,
            target_status=target,
            client_visible=True,
        )
    return svc


def resume_service_by_staff(
    *, service: Service | int, reason: str, actor: Actor | None, now: datetime | None = None
) -> Service:
    """Resume a suspended service (any suspension, also the client's and non-payment's: staff
    decide). With a module the ``resume`` operation is queued; without one it is active at once.
    Refuses a service that is not suspended (``operation_not_allowed``) and a busy one."""
    why = check_reason(reason)
    moment = clock.now(now)
    with transaction.atomic():
        svc = lock_staff_service(service)
        _refuse_busy(svc)
        if svc.status not in SUSPENDED:
            raise InvalidTransitionError(
                f"a service in status {svc.status} is not suspended", code="operation_not_allowed"
            )
        _move(svc, Operation.RESUME, S.ACTIVE, why, actor, moment)
        record_staff_event(svc, "resume", actor=actor, reason=why, now=moment)
    return svc


def _move(
    svc: Service, operation: str, target: str, reason: str, actor: Actor | None, moment: datetime
) -> None:
    if svc.module_instance_id is not None:
        payload = {"target_status": target, "reason": reason}
        if operation != Operation.SUSPEND:
            payload = {"reason": reason}
        request_operation(
            service=svc, operation=operation, payload=payload, actor=actor, now=moment
        )
        svc.refresh_from_db()
        return
    transition_service(service=svc, to=target, actor=actor, reason=reason, now=moment)


def rerun_failed_operation(
    *, service: Service | int, reason: str, actor: Actor | None, now: datetime | None = None
) -> Service:
    """Run the service's latest failed operation again (fresh attempts; a failed service goes
    back to in progress; its failure Task stays open until the operation succeeds). Refuses
    ``no_failed_operation`` when its latest operation did not fail."""
    why = check_reason(reason)
    moment = clock.now(now)
    with transaction.atomic():
        svc = lock_staff_service(service)
        latest = svc.operations.order_by("-id").first()
        if latest is None or latest.status != OperationStatus.FAILED:
            raise ServiceConflictError(
                "the service's latest operation did not fail", code="no_failed_operation"
            )
        retry_operation(operation=latest, actor=actor, now=moment)
        svc.refresh_from_db()
        record_staff_event(
            svc,
            "rerun",
            actor=actor,
            reason=why,
            now=moment,
            operation_id=latest.pk,
            module_operation=latest.operation,
        )
    return svc


def attach_remote_object(
    *,
    service: Service | int,
    external_id: str,
    actor: Actor | None,
    reason: str,
    module_instance: ModuleInstance | None = None,
    now: datetime | None = None,
) -> Service:
    """Link the service to an object that already exists in its module (``external_id``), on
    ``module_instance`` (default: the service's). Status and dates stay as they are. Refuses an
    empty id (``invalid_external_id``), a service without an instance (``no_module_instance``),
    an object another service holds (``remote_object_linked``) and ``nothing_to_change``."""
    why = check_reason(reason)
    moment = clock.now(now)
    remote_id = (external_id or "").strip()
    if not remote_id or len(remote_id) > 200:
        raise ServiceValidationError("give the object's id", code="invalid_external_id")
    with transaction.atomic():
        svc = lock_staff_service(service)
        _refuse_busy(svc)
        instance_id = module_instance.pk if module_instance else svc.module_instance_id
        if instance_id is None:
            raise ServiceValidationError(
                "no processing module serves this service", code="no_module_instance"
            )
        if (svc.external_id, svc.module_instance_id) == (remote_id, instance_id):
            raise ServiceValidationError("already attached", code="nothing_to_change")
        holder = (
            Service.objects.filter(module_instance_id=instance_id, external_id=remote_id)
            .exclude(pk=svc.pk)
            .exclude(status=S.DELETED)
            .values_list("pk", flat=True)
            .first()
        )
        if holder is not None:
            raise ServiceConflictError(
                f"service {holder} holds this object",
                code="remote_object_linked",
                service_id=holder,
            )
        before = {"external_id": svc.external_id, "module_instance_id": svc.module_instance_id}
        svc.external_id, svc.module_instance_id, svc.updated_at = remote_id, instance_id, moment
        svc.save(update_fields=["external_id", "module_instance", "updated_at"])
        record_staff_event(
            svc,
            "attach",
            actor=actor,
            reason=why,
            now=moment,
            before=before,
            external_id=remote_id,
            module_instance_id=instance_id,
        )
    return svc
