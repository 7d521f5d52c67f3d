"""Charging a method the gateway saved, without the payer: auto-payment (within the client's
maximum) or one click.
"""

from __future__ import annotations

from datetime import datetime

from billow.core.actors import Actor
from billow.core.money import Money
from billow.payments.actions.creation import create_payment
from billow.payments.actions.gateway_calls import build_gateway, call_gateway, payment_request
from billow.payments.actions.outcomes import apply_outcome
from billow.payments.actions.transitions import claim_new_payment
from billow.payments.errors import PaymentError
from billow.payments.gateways import gateways
from billow.payments.models import Payment, SavedPaymentMethod
from billow.payments.states import PaymentStatus

S = PaymentStatus


def charge_saved_method(
    *,
    saved_method: SavedPaymentMethod,
    amount: Money,
    idempotency_key: str,
    reference: str = "",
    auto: bool = True,
    actor: Actor | None = None,
    now: datetime | None = None,
) -> Payment:
    """Charge a saved method without the payer (auto-payment when ``auto``, else one-click).

    Refusals (nothing written): ``saved_method_inactive``, ``recurring_not_supported``,
    ``auto_payment_disabled`` / ``auto_payment_limit_exceeded`` (auto: never above the
    client's maximum), and every ``create_payment`` refusal. Idempotent by key: a replay
    returns the payment without charging again.
    """
    pm = saved_method.method
    if not saved_method.is_active:
        raise PaymentError("this saved method is switched off", code="saved_method_inactive")
    if not pm.supports_recurring or not gateways.get(pm.gateway).supports_recurring:
        raise PaymentError(
            "this method cannot charge saved methods", code="recurring_not_supported"
        )
    if auto:
        _check_auto_limit(saved_method, amount)
    payment = create_payment(
        client=saved_method.client,
        amount=amount,
        method=pm,
        reference=reference,
        idempotency_key=idempotency_key,
        saved_method=saved_method,
        actor=actor,
        now=now,
    )
    if not claim_new_payment(payment, S.PENDING, actor, now, "payment.charge_requested"):
        payment.refresh_from_db()
        return payment
    gateway = build_gateway(pm)
    outcome = call_gateway(lambda: gateway.charge_saved(payment_request(payment)))
    return apply_outcome(payment=payment, outcome=outcome, actor=actor, now=now)


def _check_auto_limit(saved: SavedPaymentMethod, amount: Money) -> None:
    limit = saved.auto_payment_max_minor
    if limit is None:
        raise PaymentError("auto-payment is off for this method", code="auto_payment_disabled")
    if amount.amount_minor > limit:
        raise PaymentError(
            "the amount is above the client's auto-payment maximum",
            code="auto_payment_limit_exceeded",
            maximum=limit,
        )
