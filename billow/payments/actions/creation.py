"""A new payment: checked, created once per idempotency key, then started at its gateway.

A refusal raises a ``BillowError`` with a stable code and writes nothing; the commission is
computed here, exactly; the gateway's answer to the start is applied by ``outcomes``.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction

from billow.accounts.models import Client, Payer
from billow.core import clock
from billow.core.actors import Actor
from billow.core.money import Money
from billow.payments import hooks
from billow.payments.actions.gateway_calls import build_gateway, call_gateway, payment_request
from billow.payments.actions.outcomes import apply_outcome
from billow.payments.actions.transitions import claim_new_payment, record_payment_event
from billow.payments.commission import commission_minor
from billow.payments.errors import PaymentConflictError, PaymentError
from billow.payments.models import Payment, PaymentMethod, PaymentPurpose, SavedPaymentMethod
from billow.payments.selectors import client_may_use_method, get_payment_method
from billow.payments.states import PaymentStatus

S = PaymentStatus


def create_payment(
    *,
    client: Client,
    amount: Money,
    method: PaymentMethod | int | str,
    reference: str = "",
    purpose: str | None = None,
    payer: Payer | None = None,
    idempotency_key: str = "",
    saved_method: SavedPaymentMethod | None = None,
    save_method: bool = False,
    return_url: str = "",
    actor: Actor | None = None,
    now: datetime | None = None,
) -> Payment:
    """A new payment of ``amount`` (what the balance will get) through ``method``.

    The commission is computed here, exactly (``commission.commission_minor``). ``reference``
    is opaque (``"order:12"`` makes the purpose ``order``). The same ``idempotency_key`` with
    the same request returns the first payment; with another request it raises
    ``idempotency_key_reused``. Refusals: ``payment_method_not_found``,
    ``payment_method_inactive``, ``payment_currency_mismatch``, ``invalid_amount``,
    ``amount_below_minimum``, ``amount_above_maximum``, ``payment_method_not_available``
    (client groups), ``payer_not_found``, ``saved_method_not_found``.
    """
    pm = get_payment_method(method)
    check_payment_request(client, amount, pm, payer, saved_method)
    key = idempotency_key or f"pay:{uuid.uuid4().hex}"
    fields = {
        "provider_id": pm.provider_id,
        "client": client,
        "payer": payer,
        "method": pm,
        "saved_method": saved_method,
        "amount_minor": amount.amount_minor,
        "currency": amount.currency,
        "reference": reference,
        "purpose": purpose or _purpose(reference),
        "save_method": save_method,
        "return_url": return_url,
        "commission_minor": commission_minor(
            amount.amount_minor, fixed_minor=pm.fee_fixed_minor, percent=pm.fee_percent
        ),
    }
    existing = Payment.objects.filter(idempotency_key=key).first()
    if existing is not None:
        return _replayed(existing, fields)
    moment = clock.now(now)
    try:
        with transaction.atomic():
            payment = Payment.objects.create(
                idempotency_key=key, created_at=moment, updated_at=moment, **fields
            )
            record_payment_event(
                payment,
                actor,
                "payment.created",
                moment,
                amount_minor=amount.amount_minor,
                commission_minor=payment.commission_minor,
                reference=reference,
            )
    except IntegrityError:
        existing = Payment.objects.filter(idempotency_key=key).first()
        if existing is None:
            raise
        return _replayed(existing, fields)
    return payment


def _purpose(reference: str) -> str:
    return PaymentPurpose.ORDER if reference.startswith("order:") else PaymentPurpose.TOPUP


def check_payment_request(
    client: Client,
    amount: Money,
    pm: PaymentMethod,
    payer: Payer | None = None,
    saved: SavedPaymentMethod | None = None,
) -> None:
    """Every refusal ``create_payment`` would raise for this request, writing nothing (callers
    check a method before they commit to using it)."""
    if not isinstance(amount, Money) or amount.amount_minor <= 0:
        raise PaymentError("the amount must be positive", code="invalid_amount")
    if not pm.is_active:
        raise PaymentError("this payment method is switched off", code="payment_method_inactive")
    if amount.currency != pm.currency:
        raise PaymentError(
            f"this method takes {pm.currency}",
            code="payment_currency_mismatch",
            method_currency=pm.currency,
        )
    if amount.amount_minor < pm.min_amount_minor:
        raise PaymentError(
            "the amount is below this method's minimum",
            code="amount_below_minimum",
            minimum=pm.min_amount_minor,
        )
    if amount.amount_minor > pm.maximum_minor:
        raise PaymentError(
            "the amount is above this method's maximum",
            code="amount_above_maximum",
            maximum=pm.maximum_minor,
        )
    if not client_may_use_method(client, pm):
        raise PaymentError(
            "this method is not available to the client", code="payment_method_not_available"
        )
    if payer is not None and payer.client_id != client.pk:
        raise PaymentError("no such payer", code="payer_not_found")
    if saved is not None and (saved.client_id != client.pk or saved.method_id != pm.pk):
        raise PaymentError("no such saved method", code="saved_method_not_found")


def _replayed(existing: Payment, fields: Mapping[str, Any]) -> Payment:
    same = (
        existing.client_id == fields["client"].pk
        and existing.method_id == fields["method"].pk
        and existing.amount_minor == fields["amount_minor"]
        and existing.currency == fields["currency"]
        and existing.reference == fields["reference"]
    )
    if not same:
        raise PaymentConflictError(
            "this idempotency key was used for another payment",
            code="idempotency_key_reused",
            payment_id=existing.pk,
        )
    return existing


def start_payment(
    *,
    payment: Payment,
    return_url: str = "",
    actor: Actor | None = None,
    now: datetime | None = None,
) -> Payment:
    """Ask the gateway to begin ``payment``: the result carries ``redirect_url`` (hosted page)
    or ``instructions`` (bank transfer), or is already final.

    Idempotent: only a ``new`` payment is started (claimed by a conditional UPDATE, so two
    concurrent calls start it once); any other status returns the payment as it is. A gateway
    timeout leaves it ``unknown`` for the janitor. A payment left pending fires
    ``hooks.fire_payment_opened`` after commit (invoicing issues a top-up's invoice then).
    """
    gateway = build_gateway(payment.method)  # refusals (sandbox_not_allowed) before any write
    if return_url and not payment.return_url:
        Payment.objects.filter(pk=payment.pk, return_url="").update(return_url=return_url)
        payment.return_url = return_url
    if not claim_new_payment(payment, S.PENDING, actor, now, "payment.started"):
        payment.refresh_from_db()
        return payment
    outcome = call_gateway(lambda: gateway.start(payment_request(payment)))
    started = apply_outcome(payment=payment, outcome=outcome, actor=actor, now=now)
    if started.status == S.PENDING:
        transaction.on_commit(
            functools.partial(
                hooks.fire_payment_opened,
                started.client_id,
                started.currency,
                started.pk,
            ),
            robust=True,
        )
    return started
