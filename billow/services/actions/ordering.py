"""Ordering a service: validated against its tariff, created ``ordered`` with its module
instance; nothing is charged here (billing or the order checkout does that)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from django.db import transaction

from billow.accounts.models import Client
from billow.accounts.selectors import get_client_scope
from billow.catalog import cache as catalog_cache
from billow.catalog import pricing
from billow.catalog.choices import TariffStatus
from billow.catalog.models import Tariff
from billow.core import clock
from billow.core.actors import Actor
from billow.core.audit import audit_kwargs
from billow.services import selectors
from billow.services.errors import ServiceValidationError
from billow.services.models import Service, ServiceEvent

from .lifecycle import S, _check_parameters


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
    anchor_day: int | None = None,
    actor: Actor | None = None,
    now: datetime | None = None,
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
    row is written once.
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
    _check_parameters(info, params, require_all=not defer_parameters)
    if auto_renew_period and auto_renew_period not in info.prices:
        raise ServiceValidationError(
            f"auto-renewal for {auto_renew_period} is not offered in {currency}",
            code="invalid_auto_renew_period",
        )
    _check_order_limit(client, tariff)
    instance = selectors.pick_module_instance(tariff)
    with transaction.atomic(savepoint=False):  # writes only (refusals are raised above)
        service = Service.objects.create(
            client=client, provider_id=tariff.provider_id, tariff=tariff,
            name=name or tariff.name, period=period, currency=currency,
            billing_mode=tariff.billing_mode, prorata_day=tariff.prorata_day,
            anchor_day=anchor_day or moment.day, paid_until=paid_until, status=S.ORDERED,
            ordered_at=moment,
            auto_renew_period=auto_renew_period, addon_values=addons, parameters=params,
            module_instance=instance, created_at=moment, updated_at=moment,
        )  # fmt: skip
        ServiceEvent.objects.create(
            service=service, from_status="", to_status=S.ORDERED,
            **audit_kwargs(actor, "service.ordered", {"tariff_id": tariff.pk, "period": period,
                                                      "currency": currency}, now=moment),
        )  # fmt: skip
    return service


def _check_order_limit(client: Client, tariff: Tariff) -> None:
    if tariff.order_limit is None or client.groups.filter(ignore_service_limit=True).exists():
        return
    held = Service.objects.filter(client=client, tariff=tariff).exclude(status=S.DELETED).count()
    if held >= tariff.order_limit:
        raise ServiceValidationError(
            f"at most {tariff.order_limit} services of this tariff per account",
            code="order_limit_reached",
        )
