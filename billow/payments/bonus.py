"""Payments' side of the bonus program: a balance top-up (a paid payment whose purpose is
``topup``) is a charge event for the rules with the top-up trigger, accrued after commit from
the balance-credited hook, keyed by the payment (a repeated hook accrues nothing twice); the
top-up form shows the same figure before paying (``estimate_topup_points``)."""

from __future__ import annotations

from billow.accounts.models import Client
from billow.accounts.selectors import get_client_scope
from billow.core import clock
from billow.core.money import Money
from billow.marketing.bonus.actions import ChargeEvent, accrue_for_charges
from billow.marketing.bonus.rules import ChargeLine, Trigger
from billow.marketing.bonus.selectors import get_bonus_terms
from billow.payments.models import Payment, PaymentPurpose
from billow.payments.states import PaymentStatus


def topup_line(payment_key: str, amount_minor: int) -> ChargeLine:
    """A top-up has no tax and no tariff: one line of the amount credited."""
    return ChargeLine(payment_key, amount_minor)


def accrue_topup_bonus(*, client_id: int, currency: str, payment_id: int) -> object:
    """The balance-credited hook: points for a paid top-up."""
    payment = (
        Payment.objects.filter(pk=payment_id, purpose=PaymentPurpose.TOPUP)
        .only("pk", "client_id", "provider_id", "currency", "amount_minor", "status")
        .first()
    )
    if payment is None or payment.status != PaymentStatus.PAID:
        return []
    event = ChargeEvent(
        client_id=payment.client_id,
        provider_id=payment.provider_id,
        currency=payment.currency,
        trigger=Trigger.TOPUP,
        lines=(topup_line(f"payment:{payment.pk}", payment.amount_minor),),
        source=f"payment:{payment.pk}",
        description=f"top-up payment {payment.pk}",
    )
    return accrue_for_charges(events=[event])


def estimate_topup_points(*, client: Client, provider_id: int, amount: Money) -> int:
    """What topping up ``amount`` earns (0 without a program): the same rules on the same line
    the hook accrues on."""
    terms = get_bonus_terms(
        provider_id=provider_id,
        client_id=client.pk,
        currency=amount.currency,
        trigger=Trigger.TOPUP,
        on=clock.today(),
        group_ids=get_client_scope(client).group_ids,
    )
    if terms is None:
        return 0
    return terms.earn(amount.currency, [topup_line("payment:new", amount.amount_minor)])
