"""What the gateway (or staff) said about a payment, applied: paid, failed, cancelled, or
still open (pending / unknown).

Guarantees: money moves only through the ledger with the key ``payment:<id>``, so marking a
payment paid twice posts once; a paid payment never becomes failed or cancelled; hooks
(``payments.hooks``) run on commit.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.db import transaction

from billow.billing.actions import resume_paid_services
from billow.core import clock
from billow.core.actors import Actor
from billow.ledger.actions import post_transaction
from billow.ledger.models import AccountKind, LedgerAccount, TransactionKind
from billow.payments import hooks
from billow.payments.actions.accounts import house_account, lock_balance
from billow.payments.actions.saved_methods import remember_saved_method
from billow.payments.actions.transitions import transition_payment
from billow.payments.errors import PaymentConflictError, PaymentError
from billow.payments.gateways import gateways
from billow.payments.gateways.base import Outcome, OutcomeStatus, SavedMethodInfo
from billow.payments.models import Payment
from billow.payments.states import PaymentStatus, can_transition

S = PaymentStatus


def apply_outcome(
    *,
    payment: Payment,
    outcome: Outcome,
    actor: Actor | None = None,
    now: datetime | None = None,
) -> Payment:
    """Apply what the gateway said about ``payment`` (start, charge, janitor fetch)."""
    status = outcome.status
    if status == OutcomeStatus.SUCCEEDED:
        return mark_payment_paid(
            payment=payment,
            gateway_reference=outcome.reference,
            amount_minor=outcome.amount_minor,
            currency=outcome.currency,
            saved=outcome.saved_method,
            gateway_data=outcome.data,
            actor=actor,
            now=now,
        )
    if status == OutcomeStatus.FAILED:
        return mark_payment_failed(
            payment=payment,
            code=outcome.code or "declined",
            message=outcome.message,
            actor=actor,
            now=now,
        )
    if status == OutcomeStatus.CANCELLED:
        return mark_payment_cancelled(
            payment=payment, code=outcome.code or "cancelled", actor=actor, now=now
        )
    return _record_open(payment, outcome, actor, now)


def _record_open(
    payment: Payment, outcome: Outcome, actor: Actor | None, now: datetime | None
) -> Payment:
    """Pending / unknown: keep the gateway's reference, page URL and instructions."""
    target = S.PENDING if outcome.status == OutcomeStatus.PENDING else S.UNKNOWN
    moment = clock.now(now)
    with transaction.atomic():
        locked = Payment.objects.select_for_update().get(pk=payment.pk)
        fields = _gateway_fields(locked, outcome)
        if locked.status != target and can_transition(locked.status, target):
            transition_payment(locked, target, actor, moment, code=outcome.code)
            locked.failure_code = outcome.code if target == S.UNKNOWN else ""
            fields += ["failure_code"]
        if fields:
            locked.updated_at = moment
            locked.save(update_fields=[*fields, "updated_at"])
    return locked


def _gateway_fields(locked: Payment, outcome: Outcome) -> list[str]:
    fields = []
    if outcome.reference and not locked.gateway_reference:
        locked.gateway_reference, fields = outcome.reference, ["gateway_reference"]
    if outcome.redirect_url and outcome.redirect_url != locked.redirect_url:
        locked.redirect_url = outcome.redirect_url
        fields.append("redirect_url")
    if outcome.instructions and outcome.instructions != locked.instructions:
        locked.instructions = outcome.instructions
        fields.append("instructions")
    data = {k: v for k, v in outcome.data.items() if v}
    if data and any(locked.gateway_data.get(k) != v for k, v in data.items()):
        locked.gateway_data = {**locked.gateway_data, **data}
        fields.append("gateway_data")
    return fields


def mark_payment_paid(
    *,
    payment: Payment,
    gateway_reference: str = "",
    amount_minor: int | None = None,
    currency: str = "",
    saved: SavedMethodInfo | None = None,
    gateway_data: Mapping[str, Any] | None = None,
    actor: Actor | None = None,
    now: datetime | None = None,
) -> Payment:
    """Record that ``payment`` was paid and credit the client balance.

    Guarantees: idempotent (a paid payment is returned unchanged; the ledger key
    ``payment:<id>`` makes a double posting impossible even without the status check);
    ledger: gateway_clearing -total, client_balance +amount, provider_revenue +commission;
    the client's services suspended for non-payment are resumed in the same transaction
    (``billing.resume_paid_services``); ``hooks.fire_balance_credited`` runs after commit.
    ``amount_minor`` (what the gateway reports) must equal the total (``amount_mismatch``) and
    ``currency``, when reported, the payment's (``currency_mismatch``); both refusals write
    nothing.
    Locks: the client balance account, then the payment.
    """
    moment = clock.now(now)
    with transaction.atomic():
        balance = lock_balance(payment)
        locked = Payment.objects.select_for_update().get(pk=payment.pk)
        if locked.status == S.PAID:
            return locked
        if amount_minor is not None and amount_minor != locked.total_minor:
            raise PaymentConflictError(
                "the gateway reports another amount",
                code="amount_mismatch",
                expected=locked.total_minor,
                reported=amount_minor,
            )
        if currency and currency.upper() != locked.currency:
            raise PaymentConflictError(
                "the gateway reports another currency",
                code="currency_mismatch",
                expected=locked.currency,
                reported=currency[:3],
            )
        fields = _gateway_fields(
            locked, Outcome(OutcomeStatus.SUCCEEDED, gateway_reference, data=gateway_data or {})
        )
        transition_payment(
            locked, S.PAID, actor, moment, gateway_reference=locked.gateway_reference
        )
        locked.ledger_transaction = _post_payment(locked, balance, actor)
        locked.paid_at, locked.failure_code, locked.failure_message = moment, "", ""
        locked.save(
            update_fields=[
                *fields,
                "ledger_transaction",
                "paid_at",
                "failure_code",
                "failure_message",
            ]
        )
        if saved is not None:
            remember_saved_method(payment=locked, saved=saved, now=moment)
        resume_paid_services(client_id=locked.client_id, currency=locked.currency, now=moment)
        transaction.on_commit(
            functools.partial(
                hooks.fire_balance_credited,
                locked.client_id,
                locked.currency,
                locked.pk,
            )
        )
    return locked


def _post_payment(payment: Payment, balance: LedgerAccount, actor: Actor | None) -> Any:
    legs: list[tuple[LedgerAccount, int]] = [
        (house_account(payment, AccountKind.GATEWAY_CLEARING), -payment.total_minor),
        (balance, payment.amount_minor),
    ]
    if payment.commission_minor:
        legs.append(
            (house_account(payment, AccountKind.PROVIDER_REVENUE), payment.commission_minor)
        )
    return post_transaction(
        kind=TransactionKind.PAYMENT,
        legs=legs,
        idempotency_key=f"payment:{payment.pk}",
        reference=payment,
        memo=f"{payment.method.name} {payment.gateway_reference}".strip(),
        actor=actor,
    )


def confirm_manual_payment(
    *, payment: Payment, actor: Actor | None = None, now: datetime | None = None
) -> Payment:
    """Staff saw the money arrive (a bank transfer): mark ``payment`` paid. Only for methods
    whose gateway is confirmed by hand (``not_manual_method``); idempotent like
    :func:`mark_payment_paid`."""
    if not gateways.get(payment.method.gateway).manual_confirmation:
        raise PaymentError("only manually confirmed methods", code="not_manual_method")
    return mark_payment_paid(payment=payment, actor=actor, now=now)


def mark_payment_failed(
    *,
    payment: Payment,
    code: str = "declined",
    message: str = "",
    actor: Actor | None = None,
    now: datetime | None = None,
) -> Payment:
    """``failed``: the gateway said no. Idempotent for a failed or cancelled payment; a paid one
    raises ``payment_already_paid`` (and stays paid). ``hooks.fire_payment_failed`` on commit."""
    return _close(payment, S.FAILED, code, message, actor, now)


def mark_payment_cancelled(
    *,
    payment: Payment,
    code: str = "cancelled",
    actor: Actor | None = None,
    now: datetime | None = None,
) -> Payment:
    """``cancelled``: abandoned, expired or withdrawn; same rules as ``mark_payment_failed``."""
    return _close(payment, S.CANCELLED, code, "", actor, now)


def _close(
    payment: Payment,
    target: str,
    code: str,
    message: str,
    actor: Actor | None,
    now: datetime | None,
) -> Payment:
    moment = clock.now(now)
    with transaction.atomic():
        locked = Payment.objects.select_for_update().get(pk=payment.pk)
        if locked.status == S.PAID:
            raise PaymentConflictError("the payment is already paid", code="payment_already_paid")
        if locked.status in (S.FAILED, S.CANCELLED):
            return locked
        transition_payment(locked, target, actor, moment, code=code)
        locked.failure_code, locked.failure_message = code[:100], message[:500]
        locked.save(update_fields=["failure_code", "failure_message"])
        transaction.on_commit(
            functools.partial(
                hooks.fire_payment_failed,
                locked.client_id,
                locked.currency,
                locked.pk,
                locked.reference,
            )
        )
    return locked
