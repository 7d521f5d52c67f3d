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
    lock_service,
    post_money,
)
from billow.billing.bonus import reverse_bonus_for_service_refund
from billow.billing.errors import BillingError
from billow.billing.models import (
    Expense,
    ExpenseKind,
    PendingChange,
)
from billow.billing.plan_change import (
    PlanChange,
    check_open,
    quote_plan_change,
)
from billow.catalog.models import Tariff
from billow.core import clock
from billow.core.actors import Actor
from billow.services.actions import change_plan, check_reason, record_event, record_staff_event
from billow.services.models import Service


def change_tariff(
    *,
    service: Service | int,
    tariff: Tariff,
    addon_values: Mapping[str, Any] | None = None,
    now: datetime | None = None,
    actor: Actor | None = None,
    staff_reason: str | None = None,
) -> Service:
    """Move a service to another tariff of the same product type and provider.

    Upgrade (the new period price is not lower): now, charging exactly the prorated
    difference for the rest of the paid period. Downgrade: per the product type's downgrade
    policy, at the end of the paid period (a ``PendingChange`` the run applies) or now with
    the prorated difference credited. Addon values carry over where the new tariff has the
    addon (or are given). A special price is dropped. Refuses ``tariff_incompatible``,
    ``tariff_inactive``, ``nothing_to_change`` and pricing errors, writing nothing. The rule is
    ``billing.plan_change.quote_plan_change``, which the previews show. ``staff_reason``: staff
    change it (audited as ``staff.change_plan`` with ``charged``).
    """
    moment = clock.now(now)
    why = None if staff_reason is None else check_reason(staff_reason)
    with transaction.atomic(durable=True):
        locked = lock_service(service)
        s = locked.service
        check_open(s)
        if tariff.pk == s.tariff_id:
            raise BillingError("the service is on this tariff already", code="nothing_to_change")
        change = quote_plan_change(
            s, tariff_id=tariff.pk, addon_values=addon_values, today=moment.date()
        )
        _carry_out(locked, change, moment, actor)
        _audit_staff(s, why, change, actor, moment)
    s.refresh_from_db()
    return s


def _audit_staff(
    s: Service, why: str | None, change: PlanChange, actor: Actor | None, now: datetime
) -> None:
    if why is None:
        return
    record_staff_event(
        s,
        "change_plan",
        actor=actor,
        reason=why,
        now=now,
        tariff_id=change.tariff_id,
        addon_values=change.addon_values,
        charged=True,
        when=change.when,
        charge_minor=change.charge_minor,
        credit_minor=change.credit_minor,
    )


def change_addons(
    *,
    service: Service | int,
    addon_values: Mapping[str, Any],
    now: datetime | None = None,
    actor: Actor | None = None,
    staff_reason: str | None = None,
) -> Service:
    """Change addon values (only the given ones). Each change is checked against the addon's
    min / max / step and edit policy. More costly: charged now, prorated; cheaper: per the
    product type's downgrade policy (prorated credit now, or at period end). Refuses
    ``nothing_to_change`` and the catalog's addon codes, writing nothing. ``staff_reason``: as
    ``change_tariff``'s."""
    moment = clock.now(now)
    why = None if staff_reason is None else check_reason(staff_reason)
    with transaction.atomic(durable=True):
        locked = lock_service(service)
        s = locked.service
        change = quote_plan_change(
            s, tariff_id=None, addon_values=addon_values, today=moment.date()
        )
        _carry_out(locked, change, moment, actor)
        _audit_staff(s, why, change, actor, moment)
    s.refresh_from_db()
    return s


def _carry_out(
    locked: LockedService, change: PlanChange, now: datetime, actor: Actor | None
) -> None:
    """Charge or credit what ``change`` says and apply the new plan, or schedule it."""
    s = locked.service
    span = (change.period_from, change.period_to)
    if change.when == "period_end":
        PendingChange.objects.update_or_create(
            service=s,
            defaults={
                "tariff_id": change.tariff_id,
                "addon_values": change.addon_values,
                "effective_on": change.period_to,
            },
        )
        data = {"tariff_id": change.tariff_id, "on": change.period_to}
        record_event(s, "service.change_scheduled", actor, data, now)
        return
    whole = abs(change.difference_minor)
    if change.charge_minor:
        post_money(
            locked,
            ExpenseKind.CHARGE,
            change.reason,
            adjust_key(s),
            span,
            change.charge_minor,
            now,
            actor,
            require=True,
            proration=change.fraction,
            list_price_minor=whole,
        )
    if change.credit_minor:
        credit = post_money(
            locked,
            ExpenseKind.CREDIT,
            change.reason,
            adjust_key(s),
            span,
            change.credit_minor,
            now,
            actor,
        )
        charges = Expense.objects.filter(
            service=s, kind=ExpenseKind.CHARGE, period_to__gt=span[0]
        ).values_list("key", "amount_minor")
        reverse_bonus_for_service_refund(
            locked,
            refund_key=credit.key,
            refunded_minor=change.credit_minor,
            charges=list(charges),
            actor=actor,
            now=now,
        )
    _apply_plan(s, change.tariff_id, change.addon_values, change.special_price_minor, now, actor)


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
