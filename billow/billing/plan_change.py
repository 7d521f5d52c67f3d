"""The one rule for changing a service's plan (tariff and/or addon values), and the paid period
a service is in.

``quote_plan_change`` decides everything a change costs without writing anything: the price of
the current paid period before and after, the prorated difference charged or credited now, or
that a downgrade waits for the end of the paid period (the product type's downgrade policy).
``billing.actions.change_tariff`` / ``change_addons`` carry out exactly what it returns, and the
client area and the API show it as the preview, so what a client is shown is what is charged.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from fractions import Fraction
from typing import Any

from billow.billing.errors import BillingError
from billow.billing.models import Expense, ExpenseKind, ExpenseReason
from billow.billing.proration import (
    calendar_remaining_fraction,
    is_calendar,
    period_price_fraction,
    prorate,
    remaining_fraction,
)
from billow.billing.selectors import PriceBook, service_price
from billow.catalog.choices import DowngradePolicy, TariffStatus
from billow.catalog.models import Tariff
from billow.catalog.pricing import PriceLine, check_addon_change, price_tariff
from billow.core.periods import Period, add_months, to_period
from billow.services.models import Service
from billow.services.states import ServiceStatus

S = ServiceStatus
NOT_OPEN = frozenset({S.ORDERED, S.CONFIGURATION_REQUIRED, S.NOT_AVAILABLE})
BUSY = frozenset({S.IN_PROGRESS, S.FAILED})


def check_open(s: Service) -> None:
    """Refuse a service that is deleted, not opened yet, busy or never charged."""
    if s.status == S.DELETED:
        raise BillingError(f"service {s.pk} is deleted", code="service_deleted")
    if s.status in NOT_OPEN or s.status in BUSY or s.paid_until is None:
        raise BillingError(
            f"service {s.pk} is {s.status}", code="service_not_billable", status=s.status
        )


# -- the current period -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CurrentPeriod:
    period_from: date
    period_to: date
    period: str
    fraction: Fraction  # of the full period price still unused today


def current_period(s: Service, today: date) -> CurrentPeriod:
    """The paid period containing ``today`` (from its period charge, else counted back)."""
    assert s.paid_until is not None
    last = (
        Expense.objects.filter(
            service=s, kind=ExpenseKind.CHARGE, reason=ExpenseReason.PERIOD, period_to=s.paid_until
        )
        .order_by("-period_from")
        .values_list("period_from", flat=True)
        .first()
    )
    per = s.period if s.period == Period.DAY else (s.auto_renew_period or s.period)
    if last is None:
        last = _count_back(s.paid_until, per, s.billing_mode, s.anchor_day)
    else:
        per = _period_of(last, s.paid_until, s)
    price_fraction = period_price_fraction(last, per, s.billing_mode, s.prorata_day)
    if price_fraction != 1 and is_calendar(per, s.billing_mode):  # a calendar first period
        frac = calendar_remaining_fraction(today, last, s.paid_until, per)
    else:
        frac = remaining_fraction(today, last, s.paid_until, price_fraction)
    return CurrentPeriod(last, s.paid_until, per, frac)


def _count_back(end: date, per: str, mode: str, anchor_day: int) -> date:
    p = to_period(per)
    if p is Period.DAY:
        return end - timedelta(days=1)
    return add_months(end, -p.months, anchor_day=1 if is_calendar(per, mode) else anchor_day)


def _period_of(start: date, end: date, s: Service) -> str:
    """The period code a charged span stands for (a calendar first period counts as the
    service's period)."""
    if (end - start).days == 1:
        return Period.DAY.value
    months = (end.year * 12 + end.month) - (start.year * 12 + start.month)
    for p in Period:
        if (
            p.months
            and p.months == months
            and not (is_calendar(p, s.billing_mode) and start.day != 1)
        ):
            return p.value
    return s.period


# -- the plan change ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PlanChange:
    """What a plan change does. Prices are for one ``period`` (the current paid period's);
    ``charge_minor`` or ``credit_minor`` moves now for ``[period_from, period_to)``, unless
    ``when`` is ``period_end`` (then nothing moves and the change waits for ``period_to``)."""

    service_id: int
    tariff_id: int
    addon_values: dict[str, Any]
    currency: str
    period: str
    current_minor: int
    new_minor: int
    special_price_minor: int | None
    lines: list[PriceLine]
    period_from: date
    period_to: date
    when: str  # "now" | "period_end"
    charge_minor: int
    credit_minor: int
    reason: str  # the expense reason of the charge or credit
    fraction: Fraction = Fraction(1)  # the share of the period the charge or credit is for

    @property
    def difference_minor(self) -> int:
        return self.new_minor - self.current_minor

    @property
    def effective_on(self) -> date:
        return self.period_to if self.when == "period_end" else self.period_from


def quote_plan_change(
    service: Service,
    *,
    tariff_id: int | None,
    addon_values: Mapping[str, Any] | None,
    today: date,
    book: PriceBook | None = None,
) -> PlanChange:
    """What moving ``service`` to ``tariff_id`` (None: its own tariff) with ``addon_values``
    costs today. A tariff change carries over the addon values the new tariff has (unless
    given) and drops a special price; an addon change checks each value against the addon's
    min / max / step and edit policy and keeps a special price shifted by the difference.
    Refuses ``service_deleted``, ``service_not_billable``, ``nothing_to_change``,
    ``tariff_incompatible``, ``tariff_inactive`` and the catalog's pricing codes."""
    check_open(service)
    book = book or PriceBook()
    current_values = dict(service.addon_values or {})
    if tariff_id is None or tariff_id == service.tariff_id:
        if tariff_id is not None and addon_values is None:
            raise BillingError("the service is on this tariff already", code="nothing_to_change")
        new_tariff_id, drop_special = service.tariff_id, False
        info = book.info(new_tariff_id, service.currency)
        for name, value in (addon_values or {}).items():
            check_addon_change(info, name, current_values.get(name), value)
        values = {**current_values, **(addon_values or {})}
        if values == current_values:
            raise BillingError("the addon values are unchanged", code="nothing_to_change")
        policy = _downgrade_policy(service.tariff_id)
        reason = ExpenseReason.ADDONS
    else:
        new_tariff_id, drop_special = tariff_id, True
        policy = _check_compatible(service, tariff_id)
        info = book.info(new_tariff_id, service.currency)
        known = {a.intname for a in info.top_addons}
        values = (
            dict(addon_values)
            if addon_values is not None
            else {k: v for k, v in current_values.items() if k in known}
        )
        reason = ExpenseReason.UPGRADE
    cur = current_period(service, today)
    lines = price_tariff(
        info, period=cur.period, addon_values=values, currency=service.currency, include_setup=False
    )
    new_quote = book.price(new_tariff_id, service.currency, cur.period, values)
    old_price = service_price(
        book,
        tariff_id=service.tariff_id,
        currency=service.currency,
        period=cur.period,
        addon_values=current_values,
        special_price_minor=service.special_price_minor,
    )
    special = None if drop_special else service.special_price_minor
    if special is not None:
        old_quote = book.price(service.tariff_id, service.currency, cur.period, current_values)
        special = max(0, special + new_quote - old_quote)
    new_price = new_quote if special is None else special
    when, charge, credit = "now", 0, 0
    if new_price >= old_price:
        charge = prorate(new_price - old_price, cur.fraction)
    elif policy == DowngradePolicy.PERIOD_END and cur.fraction > 0:
        when = "period_end"
    else:
        credit = prorate(old_price - new_price, cur.fraction)
        if reason == ExpenseReason.UPGRADE:
            reason = ExpenseReason.DOWNGRADE
    return PlanChange(
        service_id=service.pk,
        tariff_id=new_tariff_id,
        addon_values=values,
        currency=service.currency,
        period=cur.period,
        current_minor=old_price,
        new_minor=new_price,
        special_price_minor=special,
        lines=lines,
        period_from=max(today, cur.period_from),
        period_to=cur.period_to,
        when=when,
        charge_minor=charge,
        credit_minor=credit,
        reason=reason,
        fraction=cur.fraction,
    )


def _downgrade_policy(tariff_id: int) -> str:
    policy: str = Tariff.objects.values_list("product_type__downgrade_policy", flat=True).get(
        pk=tariff_id
    )
    return policy


def _check_compatible(s: Service, new_tariff_id: int) -> str:
    """Refuse a tariff the service cannot move to; the current product type's downgrade
    policy otherwise."""
    tariffs = {
        t.pk: t
        for t in Tariff.objects.select_related("product_type").filter(
            pk__in=[s.tariff_id, new_tariff_id]
        )
    }
    current, new = tariffs[s.tariff_id], tariffs.get(new_tariff_id)
    if new is None:
        raise BillingError("no such tariff", code="tariff_not_found")
    if new.provider_id != s.provider_id or new.product_type_id != current.product_type_id:
        raise BillingError(
            "the tariff belongs to another product type or provider", code="tariff_incompatible"
        )
    if new.status != TariffStatus.ACTIVE:
        raise BillingError("the tariff cannot be ordered", code="tariff_inactive")
    return current.product_type.downgrade_policy
