"""Ordering a service: validated against its tariff, created ``ordered`` with its module
instance; nothing is charged here (billing or the order checkout does that)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any

from django.db import transaction

from billow.accounts.models import Client
from billow.accounts.selectors import get_client_scope
from billow.catalog import cache as catalog_cache
from billow.catalog import pricing
from billow.catalog.choices import TariffStatus
from billow.catalog.models import Tariff
from billow.core import clock, rows
from billow.core.actors import Actor
from billow.core.audit import audit_kwargs
from billow.services import selectors
from billow.services.errors import InvalidTransitionError, ServiceValidationError
from billow.services.models import ModuleInstance, Service, ServiceEvent, ServiceOperation
from billow.services.states import OPERATION_RULES, can_transition

from .requests import check_request, dispatch_operations
from .transitions import S, check_parameters


def create_service(
    *,
    client: Client,
    tariff: Tariff,
    period: str,
    currency: str,
    addon_values: Mapping[str, Any] | None = None,
    parameters: Mapping[str, str] | None = None,
    auto_renew_period: str = "",
    name: str = "",
    defer_parameters: bool = False,
    paid_until: date | None = None,
    paid_until_at: datetime | None = None,
    anchor_day: int | None = None,
    actor: Actor | None = None,
    now: datetime | None = None,
    open_key: Callable[[int], str] | None = None,
) -> Service:
    """Order ``tariff`` for ``client``: a new service in status ``ordered``.

    Guarantees: the tariff is active and sold by one of the client's providers; the period is
    offered in ``currency``; every addon value passes the tariff's rules (range, step, enum,
    included); parameters match the product type (``invalid_parameter``,
    ``missing_parameter``; with ``defer_parameters`` -- a quick order, configured later --
    required ones may be missing, but any given value is still checked); the per-account
    order limit holds. The module instance is the
    active one of lowest priority serving the tariff (or its product type), or none yet.
    Nothing is charged here (billing does that); a caller that charges the first period in the
    same transaction gives its end as ``paid_until`` (and the period's ``anchor_day``), so the
    row is written once (an hourly service: ``paid_until_at``, the end of its first hour).

    ``open_key`` (the order checkout, which charges the service in the same transaction): when
    a module instance serves the service, its ``open`` is requested at once under the key
    ``open_key(service.pk)``, writing the same rows as this call followed by
    ``request_operation(operation="open", service_is_new=True)`` -- the service in progress
    (sub-state open), the queued operation (from ``ordered``), the ``service.ordered`` and
    ``service.status_changed`` events -- with the row inserted in its final status and both
    events in one statement.
    """
    moment = clock.now(now)
    addons, params = dict(addon_values or {}), dict(parameters or {})
    if tariff.provider_id not in get_client_scope(client).provider_ids:
        raise ServiceValidationError(
            "the tariff is sold by a provider the client does not belong to",
            code="tariff_of_other_provider",
        )
    if tariff.status != TariffStatus.ACTIVE:
        raise ServiceValidationError("the tariff is not on sale", code="tariff_not_active")
    info = catalog_cache.tariff_info(tariff.pk, currency)
    pricing.price_tariff(info, period=period, addon_values=addons, currency=currency)
    check_parameters(info, params, require_all=not defer_parameters)
    if auto_renew_period and auto_renew_period not in info.prices:
        raise ServiceValidationError(
            f"auto-renewal for {auto_renew_period} is not offered in {currency}",
            code="invalid_auto_renew_period",
        )
    _check_order_limit(client, tariff)
    instance = selectors.pick_module_instance(tariff)
    service = Service(
        client=client,
        provider_id=tariff.provider_id,
        tariff=tariff,
        name=name or tariff.name,
        period=period,
        currency=currency,
        billing_mode=tariff.billing_mode,
        prorata_day=tariff.prorata_day,
        anchor_day=anchor_day or moment.day,
        paid_until=paid_until,
        paid_until_at=paid_until_at,
        status=S.ORDERED,
        ordered_at=moment,
        auto_renew_period=auto_renew_period,
        addon_values=addons,
        parameters=params,
        module_instance=instance,
        created_at=moment,
        updated_at=moment,
    )
    ordered_data = {"tariff_id": tariff.pk, "period": period, "currency": currency}
    if open_key is not None and instance is not None:
        _create_opened(service, instance, open_key, ordered_data, actor, moment)
        return service
    with transaction.atomic(savepoint=False):  # writes only (refusals are raised above)
        service.save(force_insert=True)
        ServiceEvent.objects.create(
            service=service,
            from_status="",
            to_status=S.ORDERED,
            **audit_kwargs(actor, "service.ordered", ordered_data, now=moment),
        )
    return service


def _create_opened(
    service: Service,
    instance: ModuleInstance,
    open_key: Callable[[int], str],
    ordered_data: dict[str, Any],
    actor: Actor | None,
    moment: datetime,
) -> None:
    """Write ``service`` (unsaved, ``ordered``) with its ``open`` requested: what
    ``request_operation(service_is_new=True)`` and ``transition_service`` would check and
    write, in three statements."""
    operation = "open"
    rule = OPERATION_RULES[operation]
    check_request(service, operation, {}, busy_check=False)  # as the service is ordered
    if not can_transition(S.ORDERED, S.IN_PROGRESS):  # pragma: no cover - the rules allow it
        raise InvalidTransitionError(
            f"a service cannot go from {S.ORDERED} to {S.IN_PROGRESS}",
            current=S.ORDERED,
            to=S.IN_PROGRESS,
        )
    ordered = audit_kwargs(actor, "service.ordered", ordered_data, now=moment)
    service.status, service.sub_state = S.IN_PROGRESS, rule.sub_state
    with transaction.atomic(savepoint=False):  # writes only (refusals are raised above)
        # rows.insert: the ORM's per-call INSERT build costs more than the statements here.
        rows.insert([service])
        (op,) = rows.insert(
            [
                ServiceOperation(
                    service=service,
                    module_instance=instance,
                    operation=operation,
                    payload={},
                    idempotency_key=open_key(service.pk),
                    from_status=S.ORDERED,
                    created_at=moment,
                )
            ]
        )
        changed = {
            "sub_state": rule.sub_state,
            "reason": f"{operation} requested",
            "operation_id": op.pk,
            "operation": operation,
        }
        rows.insert(
            [
                ServiceEvent(service=service, from_status="", to_status=S.ORDERED, **ordered),
                ServiceEvent(
                    service=service,
                    from_status=S.ORDERED,
                    to_status=S.IN_PROGRESS,
                    **audit_kwargs(actor, "service.status_changed", changed, now=moment),
                ),
            ]
        )
        transaction.on_commit(functools.partial(dispatch_operations, [op.pk]), robust=True)


def _check_order_limit(client: Client, tariff: Tariff) -> None:
    if tariff.order_limit is None or client.groups.filter(ignore_service_limit=True).exists():
        return
    held = Service.objects.filter(client=client, tariff=tariff).exclude(status=S.DELETED).count()
    if held >= tariff.order_limit:
        raise ServiceValidationError(
            f"at most {tariff.order_limit} services of this tariff per account",
            code="order_limit_reached",
        )
