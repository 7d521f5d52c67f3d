"""Staff service operations that may move money (issue 13.1), beside the services app's
(``billow.services.actions.staff_ops``) that move none. The admin, the staff API and the CLI
call these and those, never the models.

- ``create_service_for_client``: with ``charge`` the first period is charged through the one
  taxed, documented path (``charge_first_period``: tax, ledger, the expense's document) in the
  same transaction as the service, the client's wallet locked first;
- ``change_service_plan``: with ``charge`` the prorated difference is charged or credited
  (``change_tariff`` / ``change_addons``), without it the plan just changes;
- ``renew_service_by_staff``: with ``charge`` a period is charged (``renew_service``), without
  it paid-until moves one period on for free;
- ``delete_service_by_staff``: ``delete_service`` with the product type's deletion policy.

Each writes a ``staff.<operation>`` ``ServiceEvent`` with actor and reason; a refusal writes
nothing (every one is a single transaction).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.db import transaction

from billow.billing.actions.changes import change_addons, change_tariff
from billow.billing.actions.common import LockedService, lock_service
from billow.billing.actions.deletion import delete_service
from billow.billing.actions.renewal import charge_first_period, renew_service
from billow.billing.errors import BillingError
from billow.billing.plan_change import check_open
from billow.billing.proration import next_period_end
from billow.billing.wallet import lock_wallet
from billow.catalog.models import Tariff
from billow.core import clock
from billow.core.actors import Actor
from billow.core.periods import Period, to_period
from billow.services.actions import (
    NewService,
    change_plan_by_staff,
    check_reason,
    create_service_by_staff,
    set_service_paid_until_by_staff,
)
from billow.services.models import Service


def create_service_for_client(
    *,
    new: NewService,
    charge: bool,
    actor: Actor | None,
    reason: str,
    now: datetime | None = None,
) -> Service:
    """Create a service for a client (``create_service_by_staff``); with ``charge`` its first
    period is charged from today (prorated on calendar tariffs, setup fee whole), taxed and
    documented as an order's would be, and paid-until set by it. Refuses
    ``insufficient_funds`` (unless post-paid) and everything ``create_service_by_staff``
    refuses, writing nothing."""
    moment = clock.now(now)
    check_reason(reason)
    if not charge:
        with transaction.atomic(durable=True):
            return create_service_by_staff(new=new, actor=actor, reason=reason, now=moment)
    with transaction.atomic(durable=True):
        wallet = lock_wallet(new.client.pk, new.tariff.provider_id, new.currency)
        service = create_service_by_staff(
            new=new, actor=actor, reason=reason, now=moment, charged_by_caller=True
        )
        charge_first_period(LockedService(service, wallet), start=None, now=moment, actor=actor)
    service.refresh_from_db()
    return service


def change_service_plan(
    *,
    service: Service | int,
    tariff: Tariff | None = None,
    addon_values: Mapping[str, Any] | None = None,
    charge: bool,
    actor: Actor | None,
    reason: str,
    now: datetime | None = None,
) -> Service:
    """Change the tariff and/or addon values. ``charge``: as a client's change (upgrade charged
    now, downgrade per the product type's policy, credited or at period end); otherwise at once
    with nothing charged (``change_plan_by_staff``)."""
    moment = clock.now(now)
    if not charge:
        with transaction.atomic(durable=True):
            return change_plan_by_staff(
                service=service,
                tariff=tariff,
                addon_values=addon_values,
                actor=actor,
                reason=reason,
                now=moment,
            )
    pk = service if isinstance(service, int) else service.pk
    if tariff is not None and tariff.pk != Service.objects.values_list("tariff_id", flat=True).get(
        pk=pk
    ):
        return change_tariff(
            service=pk,
            tariff=tariff,
            addon_values=addon_values,
            now=moment,
            actor=actor,
            staff_reason=reason,
        )
    if not addon_values:
        raise BillingError("give a tariff or addon values", code="nothing_to_change")
    return change_addons(
        service=pk, addon_values=addon_values, now=moment, actor=actor, staff_reason=reason
    )


def renew_service_by_staff(
    *,
    service: Service | int,
    period: str | None = None,
    charge: bool,
    actor: Actor | None,
    reason: str,
    now: datetime | None = None,
) -> Service:
    """Renew by hand for one ``period`` (default: the auto-renew period, else the service's).
    ``charge``: ``renew_service`` (charged, a non-payment suspension lifted); otherwise
    paid-until moves one period on with nothing charged (``staff.renew`` with
    ``charged: false``). Refuses what ``renew_service`` refuses."""
    moment = clock.now(now)
    if period is not None and not to_period(period).is_monthly:
        raise BillingError("only monthly or longer periods renew", code="period_not_renewable")
    if charge:
        renew_service(service=service, period=period, now=moment, actor=actor, staff_reason=reason)
        pk = service if isinstance(service, int) else service.pk
        return Service.objects.get(pk=pk)
    why = check_reason(reason)
    with transaction.atomic(durable=True):
        s = lock_service(service).service
        check_open(s)
        per = to_period(period or s.auto_renew_period or s.period).value
        if s.period == Period.DAY or per in (Period.TRIAL, Period.DAY):
            raise BillingError("only monthly or longer periods renew", code="period_not_renewable")
        assert s.paid_until is not None  # check_open refuses a service never charged
        end = next_period_end(s.paid_until, per, s.billing_mode, s.anchor_day)
        return set_service_paid_until_by_staff(
            service=s,
            paid_until=end,
            actor=actor,
            reason=why,
            now=moment,
            operation="renew",
            data={"period": per},
        )


def delete_service_by_staff(
    *,
    service: Service | int,
    when: str | None = None,
    refund: bool = False,
    actor: Actor | None,
    reason: str,
    now: datetime | None = None,
) -> Service:
    """Delete now or at period end (default: the product type's deletion policy), with a
    refund of the unused part when asked (``delete_service``)."""
    return delete_service(
        service=service, when=when, refund=refund, now=now, actor=actor, staff_reason=reason
    )
