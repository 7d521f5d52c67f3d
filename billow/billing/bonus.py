"""Billing's side of the bonus program (``marketing.bonus``), kept off the run's hot path.

- ``accrue_renewal_bonuses``: a daily job after the run reads the day's renewal charges
  (period charges of services that had an earlier period charge) in one batched query and
  hands them to ``marketing.bonus.actions.accrue_for_charges``; without a running program it
  is one cheap query and the run itself never calls the bonus program.
- ``estimate_renewal_points``: "renewing earns N" on a service, from the same price and tax
  the renewal charges and the same pure rules the job applies.
- ``reverse_bonus_for_service_refund``: a deletion refund or staff credit takes back the
  points accrued on the refunded charges in proportion and returns the points that paid them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta

from django.db.models import Min

from billow.billing.actions.common import LockedService
from billow.billing.models import Expense, ExpenseKind, ExpenseReason
from billow.billing.selectors import PriceBook, service_price
from billow.billing.taxes import price_items_tax
from billow.billing.wallet import MoneyItem, charge_key
from billow.catalog import cache as catalog_cache
from billow.core import clock
from billow.core.actors import Actor
from billow.core.periods import Period, to_period
from billow.marketing.bonus.actions import (
    ChargeEvent,
    accrue_for_charges,
    reverse_bonus_for_refund,
)
from billow.marketing.bonus.rules import ChargeLine, Trigger
from billow.marketing.bonus.selectors import get_bonus_terms, list_running_provider_ids
from billow.services.models import Service


def net_of_tax(amount_minor: int, tax_minor: int, tax_added_minor: int) -> int:
    """A charge's amount less the tax included in it: what the bonus rules accrue on."""
    return amount_minor - (tax_minor - tax_added_minor)


def accrue_renewal_bonuses(
    *, day: date, actor: Actor | None = None, now: datetime | None = None
) -> int:
    """Accrue the renewal rules on the renewal charges written on ``day`` and the day before
    (a rerun accrues nothing twice: each movement is keyed by the charge). Returns the
    movements written."""
    providers = list_running_provider_ids(day)
    if not providers:
        return 0
    since = datetime.combine(day - timedelta(days=1), datetime.min.time(), tzinfo=UTC)
    rows = list(
        Expense.objects.filter(
            provider_id__in=providers,
            kind=ExpenseKind.CHARGE,
            reason=ExpenseReason.PERIOD,
            created_at__gte=since,
            created_at__lt=since + timedelta(days=2),
        ).values_list(
            "key",
            "client_id",
            "provider_id",
            "currency",
            "service_id",
            "period_from",
            "amount_minor",
            "tax_minor",
            "tax_added_minor",
            "service__tariff_id",
        )
    )
    if not rows:
        return 0
    firsts = dict(
        Expense.objects.filter(
            service_id__in={r[4] for r in rows},
            kind=ExpenseKind.CHARGE,
            reason=ExpenseReason.PERIOD,
        )
        .values("service_id")
        .annotate(first=Min("period_from"))
        .values_list("service_id", "first")
    )
    events = [
        ChargeEvent(
            client_id=client_id,
            provider_id=provider_id,
            currency=currency,
            trigger=Trigger.RENEWAL,
            lines=(
                ChargeLine(
                    key,
                    net_of_tax(amount, tax, added),
                    tariff_id,
                    catalog_cache.tariff_info(tariff_id, currency).product_type,
                ),
            ),
            source=f"service:{service_id}",
            description=f"renewal of service {service_id} from {period_from}",
        )
        for (
            key,
            client_id,
            provider_id,
            currency,
            service_id,
            period_from,
            amount,
            tax,
            added,
            tariff_id,
        ) in rows
        if period_from > firsts[service_id]
    ]
    return len(accrue_for_charges(events=events, actor=actor, now=now))


def estimate_renewal_points(service: Service, *, now: datetime | None = None) -> int:
    """What renewing ``service`` for its auto-renew period earns (0 without a program): the
    renewal's price and tax as ``renew_service`` / the run charge them, through the rules."""
    moment = clock.now(now)
    terms = get_bonus_terms(
        provider_id=service.provider_id,
        client_id=service.client_id,
        currency=service.currency,
        trigger=Trigger.RENEWAL,
        on=moment.date(),
        group_ids=service.client.groups.values_list("pk", flat=True),
    )
    if terms is None or service.paid_until is None:
        return 0
    period = to_period(service.auto_renew_period or service.period).value
    if period in (Period.TRIAL, Period.HOUR):
        return 0
    amount = service_price(
        PriceBook(),
        tariff_id=service.tariff_id,
        currency=service.currency,
        period=period,
        addon_values=service.addon_values or {},
        special_price_minor=service.special_price_minor,
    )
    key = charge_key(service.pk, service.paid_until)
    item = MoneyItem(
        service.pk,
        (service.client_id, service.provider_id, service.currency),
        ExpenseKind.CHARGE,
        ExpenseReason.PERIOD,
        key,
        service.paid_until,
        service.paid_until,
        amount,
    )
    (item,) = price_items_tax([item])
    net = amount - (item.tax.included_minor if item.tax is not None else 0)
    info = catalog_cache.tariff_info(service.tariff_id, service.currency)
    return terms.earn(
        service.currency, [ChargeLine(key, net, service.tariff_id, info.product_type)]
    )


def reverse_bonus_for_service_refund(
    locked: LockedService,
    *,
    refund_key: str,
    refunded_minor: int,
    charges: Sequence[tuple[str, int]],
    actor: Actor | None,
    now: datetime,
) -> None:
    """A refund or credit of ``refunded_minor`` out of ``charges`` of the locked service."""
    s = locked.service
    reverse_bonus_for_refund(
        client_id=s.client_id,
        provider_id=s.provider_id,
        currency=s.currency,
        charges=charges,
        refunded_minor=refunded_minor,
        refund_key=refund_key,
        wallet_account_id=locked.wallet.account,
        actor=actor,
        now=now,
    )
