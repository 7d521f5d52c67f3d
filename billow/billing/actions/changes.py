"""Tariff and addon changes: charge or credit the prorated difference, or schedule the change
for the end of the paid period (the product type's downgrade policy)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.db import transaction

from billow.billing.actions.common import (
    LockedService,
    adjust_key,
    check_open,
    current_period,
    lock_service,
    post_money,
    record_service_event,
    require_funds,
)
from billow.billing.errors import BillingError
from billow.billing.models import (
    ExpenseKind,
    ExpenseReason,
    PendingChange,
)
from billow.billing.proration import (
    prorate,
)
from billow.billing.selectors import PriceBook, service_price
from billow.catalog.choices import DowngradePolicy, TariffStatus
from billow.catalog.models import Tariff
from billow.catalog.pricing import check_addon_change
from billow.core import clock
from billow.core.actors import Actor
from billow.services.actions import change_plan
from billow.services.models import Service


def change_tariff(
    *,
    service: Service | int,
    tariff: Tariff,
    addon_values: Mapping[str, Any] | None = None,
    now: datetime | None = None,
    actor: Actor | None = None,
) -> Service:
    """Move a service to another tariff of the same product type and provider.

    Upgrade (the new period price is not lower): now, charging exactly the prorated
    difference for the rest of the paid period. Downgrade: per the product type's downgrade
    policy, at the end of the paid period (a ``PendingChange`` the run applies) or now with
    the prorated difference credited. Addon values carry over where the new tariff has the
    addon (or are given). A special price is dropped. Refuses ``tariff_incompatible``,
    ``tariff_inactive``, ``nothing_to_change`` and pricing errors, writing nothing.
    """
    moment = clock.now(now)
    with transaction.atomic(durable=True):
        locked = lock_service(service)
        s = locked.service
        check_open(s)
        current = Tariff.objects.select_related("product_type").get(pk=s.tariff_id)
        _check_compatible(s, current, tariff)
        book = PriceBook()
        info = book.info(tariff.pk, s.currency)
        known = {a.intname for a in info.top_addons}
        values = (
            dict(addon_values)
            if addon_values is not None
            else {k: v for k, v in (s.addon_values or {}).items() if k in known}
        )
        _reprice(
            locked,
            book,
            tariff.pk,
            values,
            current.product_type.downgrade_policy,
            ExpenseReason.UPGRADE,
            moment,
            actor,
            drop_special=True,
        )
    s.refresh_from_db()
    return s


def _check_compatible(s: Service, current: Tariff, new: Tariff) -> None:
    if new.pk == current.pk:
        raise BillingError("the service is on this tariff already", code="nothing_to_change")
    if new.provider_id != s.provider_id or new.product_type_id != current.product_type_id:
        raise BillingError(
            "the tariff belongs to another product type or provider", code="tariff_incompatible"
        )
    if new.status != TariffStatus.ACTIVE:
        raise BillingError("the tariff cannot be ordered", code="tariff_inactive")


def change_addons(
    *,
    service: Service | int,
    addon_values: Mapping[str, Any],
    now: datetime | None = None,
    actor: Actor | None = None,
) -> Service:
    """Change addon values (only the given ones). Each change is checked against the addon's
    min / max / step and edit policy. More costly: charged now, prorated; cheaper: per the
    product type's downgrade policy (prorated credit now, or at period end). Refuses
    ``nothing_to_change`` and the catalog's addon codes, writing nothing."""
    moment = clock.now(now)
    with transaction.atomic(durable=True):
        locked = lock_service(service)
        s = locked.service
        check_open(s)
        book = PriceBook()
        info = book.info(s.tariff_id, s.currency)
        old = dict(s.addon_values or {})
        for name, value in addon_values.items():
            check_addon_change(info, name, old.get(name), value)
        new = {**old, **addon_values}
        if new == old:
            raise BillingError("the addon values are unchanged", code="nothing_to_change")
        policy = Tariff.objects.values_list("product_type__downgrade_policy", flat=True).get(
            pk=s.tariff_id
        )
        _reprice(
            locked,
            book,
            s.tariff_id,
            new,
            policy,
            ExpenseReason.ADDONS,
            moment,
            actor,
            drop_special=False,
        )
    s.refresh_from_db()
    return s


def _reprice(
    locked: LockedService,
    book: PriceBook,
    tariff_id: int,
    values: dict[str, Any],
    policy: str,
    reason: str,
    now: datetime,
    actor: Actor | None,
    *,
    drop_special: bool,
) -> None:
    """Charge or credit the prorated difference and apply (or schedule) the new plan."""
    s = locked.service
    cur = current_period(s, now.date())
    old_price = service_price(
        book,
        tariff_id=s.tariff_id,
        currency=s.currency,
        period=cur.period,
        addon_values=s.addon_values or {},
        special_price_minor=s.special_price_minor,
    )
    new_quote = book.price(tariff_id, s.currency, cur.period, values)
    special = s.special_price_minor
    if special is not None and not drop_special:
        special = max(
            0,
            special
            + new_quote
            - book.price(s.tariff_id, s.currency, cur.period, s.addon_values or {}),
        )
    new_price = new_quote if drop_special or special is None else special
    span = (max(now.date(), cur.period_from), cur.period_to)
    if new_price >= old_price:
        amount = prorate(new_price - old_price, cur.fraction)
        if amount:
            require_funds(locked.wallet, amount)
            post_money(locked, ExpenseKind.CHARGE, reason, adjust_key(s), span, amount, now, actor)
    elif policy == DowngradePolicy.PERIOD_END and cur.fraction > 0:
        PendingChange.objects.update_or_create(
            service=s,
            defaults={
                "tariff_id": tariff_id,
                "addon_values": values,
                "effective_on": cur.period_to,
            },
        )
        record_service_event(
            s, "service.change_scheduled", {"tariff_id": tariff_id, "on": cur.period_to}, actor, now
        )
        return
    else:
        amount = prorate(old_price - new_price, cur.fraction)
        if amount:
            why = ExpenseReason.DOWNGRADE if reason == ExpenseReason.UPGRADE else reason
            post_money(locked, ExpenseKind.CREDIT, why, adjust_key(s), span, amount, now, actor)
    _apply_plan(s, tariff_id, values, None if drop_special else special, now, actor)


def _apply_plan(
    s: Service,
    tariff_id: int,
    values: dict[str, Any],
    special: int | None,
    now: datetime,
    actor: Actor | None,
) -> None:
    PendingChange.objects.filter(service=s).delete()
    change_plan(
        service=s,
        tariff_id=tariff_id,
        addon_values=values,
        special_price_minor=special,
        actor=actor,
        now=now,
    )
