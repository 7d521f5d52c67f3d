"""Refunds: full or partial, back through the gateway or to the client balance.

Guarantees: the refunded total of a payment never exceeds its amount (checked under the
payment's row lock and by a DB constraint); every refund posts one ledger transaction keyed
``refund:<id>`` (and, if the gateway refuses, one reversal ``refund:<id>:reversal``); the same
idempotency key returns the first refund; a refusal writes nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F

from billow.core import clock, rows
from billow.core.actors import Actor
from billow.core.audit import audit_kwargs
from billow.core.money import Money
from billow.ledger.actions import post_transaction
from billow.ledger.models import AccountKind, LedgerAccount, TransactionKind
from billow.payments.actions.accounts import house_account, lock_balance
from billow.payments.actions.gateway_calls import build_gateway, call_gateway
from billow.payments.errors import PaymentConflictError, RefundError
from billow.payments.gateways import gateways
from billow.payments.gateways.base import Outcome, OutcomeStatus, RefundRequest
from billow.payments.models import (
    Payment,
    PaymentEvent,
    Refund,
    RefundDestination,
    RefundStatus,
)
from billow.payments.states import PaymentStatus

D = RefundDestination


def refund_payment(
    *,
    payment: Payment,
    idempotency_key: str,
    amount: Money | None = None,
    destination: str = D.GATEWAY,
    reason: str = "",
    actor: Actor | None = None,
    now: datetime | None = None,
) -> Refund:
    """Refund ``amount`` (default: all that is left) of a paid payment.

    ``gateway``: the client balance is debited now (it must hold the amount:
    ``insufficient_balance``) and the gateway is asked after commit; if it refuses, the debit is
    reversed and the refund ends ``failed``. ``balance``: provider revenue -> client balance,
    ``succeeded`` at once. Refusals: ``idempotency_key_required``, ``invalid_refund_destination``,
    ``refunds_not_supported``, ``payment_not_paid``, ``refund_currency_mismatch``,
    ``invalid_amount``, ``refund_exceeds_payment``, ``idempotency_key_reused``.
    """
    _check_request(payment, idempotency_key, destination)
    existing = Refund.objects.filter(idempotency_key=idempotency_key).first()
    if existing is not None:
        return _replayed(existing, payment, amount, destination)
    try:
        refund = _record(payment, idempotency_key, amount, destination, reason, actor, now)
    except IntegrityError:
        existing = Refund.objects.filter(idempotency_key=idempotency_key).first()
        if existing is None:
            raise
        return _replayed(existing, payment, amount, destination)
    if destination == D.GATEWAY:
        return _ask_gateway(refund, actor, now)
    return refund


def _check_request(payment: Payment, key: str, destination: str) -> None:
    if not key:
        raise RefundError("an idempotency key is required", code="idempotency_key_required")
    if destination not in D.values:
        raise RefundError(
            "refund to the gateway or to the balance", code="invalid_refund_destination"
        )
    if destination == D.GATEWAY:
        method = payment.method
        if not method.supports_refunds or not gateways.get(method.gateway).supports_refunds:
            raise RefundError("this method cannot refund", code="refunds_not_supported")


def _replayed(existing: Refund, payment: Payment, amount: Money | None, destination: str) -> Refund:
    same = (
        existing.payment_id == payment.pk
        and existing.destination == destination
        and (amount is None or amount.amount_minor == existing.amount_minor)
    )
    if not same:
        raise PaymentConflictError(
            "this idempotency key was used for another refund",
            code="idempotency_key_reused",
            refund_id=existing.pk,
        )
    return existing


def _record(
    payment: Payment,
    key: str,
    amount: Money | None,
    destination: str,
    reason: str,
    actor: Actor | None,
    now: datetime | None,
) -> Refund:
    moment = clock.now(now)
    with transaction.atomic():
        balance = lock_balance(payment)
        locked = Payment.objects.select_for_update().get(pk=payment.pk)
        value = _checked_amount(locked, amount)
        if destination == D.GATEWAY and balance.balance_minor < value:
            raise RefundError(
                "the client balance does not hold the amount any more",
                code="insufficient_balance",
                balance=balance.balance_minor,
            )
        # rows.bigint: a bare int is typed INTEGER, truncated to 32 bits by server-side binding.
        Payment.objects.filter(pk=locked.pk).update(
            refunded_minor=F("refunded_minor") + rows.bigint(value)
        )
        done = destination == D.BALANCE
        refund = Refund.objects.create(
            payment=locked,
            amount_minor=value,
            currency=locked.currency,
            destination=destination,
            reason=reason[:500],
            idempotency_key=key,
            status=RefundStatus.SUCCEEDED if done else RefundStatus.PENDING,
            created_at=moment,
            completed_at=moment if done else None,
        )
        refund.ledger_transaction = _post(refund, locked, balance, actor)
        refund.save(update_fields=["ledger_transaction"])
        _event(
            locked,
            actor,
            "payment.refund_requested",
            moment,
            refund_id=refund.pk,
            amount_minor=value,
            destination=destination,
        )
    return refund


def _checked_amount(payment: Payment, amount: Money | None) -> int:
    if payment.status != PaymentStatus.PAID:
        raise RefundError("only a paid payment can be refunded", code="payment_not_paid")
    left = payment.amount_minor - payment.refunded_minor
    if amount is None:
        if left <= 0:
            raise RefundError("nothing is left to refund", code="refund_exceeds_payment")
        return left
    if amount.currency != payment.currency:
        raise RefundError("refund in the payment's currency", code="refund_currency_mismatch")
    if amount.amount_minor <= 0:
        raise RefundError("the amount must be positive", code="invalid_amount")
    if amount.amount_minor > left:
        raise RefundError(
            "the refund is above what is left of the payment",
            code="refund_exceeds_payment",
            refundable=left,
        )
    return amount.amount_minor


def _post(refund: Refund, payment: Payment, balance: LedgerAccount, actor: Actor | None) -> Any:
    if refund.destination == D.GATEWAY:
        other = house_account(payment, AccountKind.GATEWAY_CLEARING)
    else:
        other = house_account(payment, AccountKind.PROVIDER_REVENUE)
    sign = -1 if refund.destination == D.GATEWAY else 1
    return post_transaction(
        kind=TransactionKind.REFUND,
        legs=[(balance, sign * refund.amount_minor), (other, -sign * refund.amount_minor)],
        idempotency_key=f"refund:{refund.pk}",
        reference=refund,
        memo=f"refund of payment #{payment.pk} to {refund.destination}",
        actor=actor,
    )


def _ask_gateway(refund: Refund, actor: Actor | None, now: datetime | None) -> Refund:
    payment = refund.payment
    gateway = build_gateway(payment.method)
    request = RefundRequest(
        refund_id=refund.pk,
        idempotency_key=f"billow-refund-{refund.idempotency_key}"[:255],
        payment_reference=payment.gateway_reference,
        amount=Money(refund.amount_minor, refund.currency),
        payment_data=payment.gateway_data,
    )
    outcome = call_gateway(lambda: gateway.refund(request))
    return apply_refund_outcome(refund=refund, outcome=outcome, actor=actor, now=now)


def apply_refund_outcome(
    *,
    refund: Refund,
    outcome: Outcome,
    actor: Actor | None = None,
    now: datetime | None = None,
) -> Refund:
    """Apply the gateway's answer: succeeded, failed (the debit is reversed), or still open.

    Idempotent: a refund that is no longer pending is returned unchanged.
    """
    if outcome.status == OutcomeStatus.SUCCEEDED:
        return _complete(refund, outcome.reference, actor, now)
    if outcome.status in (OutcomeStatus.FAILED, OutcomeStatus.CANCELLED):
        return _fail(refund, outcome.code or "refund_declined", actor, now)
    if outcome.reference and not refund.gateway_reference:
        Refund.objects.filter(pk=refund.pk, gateway_reference="").update(
            gateway_reference=outcome.reference
        )
        refund.gateway_reference = outcome.reference
    return refund


def _complete(refund: Refund, reference: str, actor: Actor | None, now: datetime | None) -> Refund:
    moment = clock.now(now)
    with transaction.atomic():
        locked = Refund.objects.select_for_update().get(pk=refund.pk)
        if locked.status != RefundStatus.PENDING:
            return locked
        locked.status, locked.completed_at = RefundStatus.SUCCEEDED, moment
        locked.gateway_reference = locked.gateway_reference or reference
        locked.save(update_fields=["status", "completed_at", "gateway_reference"])
        _event(locked.payment, actor, "payment.refund_succeeded", moment, refund_id=locked.pk)
    return locked


def _fail(refund: Refund, code: str, actor: Actor | None, now: datetime | None) -> Refund:
    moment = clock.now(now)
    with transaction.atomic():
        balance = lock_balance(refund.payment)
        payment = Payment.objects.select_for_update().get(pk=refund.payment_id)
        locked = Refund.objects.select_for_update().get(pk=refund.pk)
        if locked.status != RefundStatus.PENDING:
            return locked
        clearing = house_account(payment, AccountKind.GATEWAY_CLEARING)
        locked.reversal_transaction = post_transaction(
            kind=TransactionKind.REFUND,
            legs=[(balance, locked.amount_minor), (clearing, -locked.amount_minor)],
            idempotency_key=f"refund:{locked.pk}:reversal",
            reference=locked,
            memo=f"refund #{locked.pk} refused by the gateway: {code}",
            actor=actor,
        )
        Payment.objects.filter(pk=payment.pk).update(
            refunded_minor=F("refunded_minor") - rows.bigint(locked.amount_minor)
        )
        locked.status, locked.completed_at, locked.failure_code = (
            RefundStatus.FAILED,
            moment,
            code[:100],
        )
        locked.save(
            update_fields=["status", "completed_at", "failure_code", "reversal_transaction"]
        )
        _event(payment, actor, "payment.refund_failed", moment, refund_id=locked.pk, code=code)
    return locked


def _event(
    payment: Payment, actor: Actor | None, type_: str, moment: datetime, **data: Any
) -> None:
    PaymentEvent.objects.create(payment=payment, **audit_kwargs(actor, type_, data, now=moment))
