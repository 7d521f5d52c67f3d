"""Payment writes: create, start, mark paid / failed / cancelled, saved-method charges.

Guarantees shared by every action here: a refusal raises a ``BillowError`` with a stable code
and writes nothing; money moves only through the ledger with keys built from our ids
(``payment:<id>``), so every money-moving action is idempotent; gateways are called outside any
DB transaction and their answers applied afterwards; hooks (``payments.hooks``) run on commit.
Refunds, webhooks and the janitor live in the sibling modules of this package.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction

from billow.accounts.models import Client, Payer
from billow.billing.actions import resume_paid_services
from billow.core import clock
from billow.core.actors import Actor
from billow.core.audit import audit_kwargs
from billow.core.errors import RetryableError
from billow.core.money import Money
from billow.ledger.actions import post_transaction
from billow.ledger.models import AccountKind, LedgerAccount, TransactionKind
from billow.ledger.selectors import get_or_create_account
from billow.payments import hooks
from billow.payments.commission import commission_minor
from billow.payments.errors import GatewayError, PaymentConflictError, PaymentError
from billow.payments.gateways import gateways
from billow.payments.gateways.base import (
    Gateway,
    Outcome,
    OutcomeStatus,
    PaymentRequest,
    SavedMethodInfo,
)
from billow.payments.models import (
    Payment,
    PaymentEvent,
    PaymentMethod,
    PaymentPurpose,
    SavedPaymentMethod,
)
from billow.payments.secrets import get_secrets, set_secrets
from billow.payments.selectors import client_may_use_method, get_payment_method
from billow.payments.states import PaymentStatus, can_transition

S = PaymentStatus

__all__ = [
    "apply_outcome",
    "build_gateway",
    "charge_saved_method",
    "configure_payment_method",
    "create_payment",
    "mark_payment_cancelled",
    "mark_payment_failed",
    "mark_payment_paid",
    "start_payment",
]


# -- configuration ----------------------------------------------------------------------------


def build_gateway(method: PaymentMethod) -> Gateway:
    """The adapter of ``method`` with its config and decrypted secrets (``not_found`` for an
    unregistered gateway key)."""
    cls = gateways.get(method.gateway)
    return cls(config=method.config, secrets=get_secrets(method), method_id=method.pk)


def configure_payment_method(
    *,
    method: PaymentMethod,
    config: Mapping[str, Any] | None = None,
    secrets: Mapping[str, str] | None = None,
    actor: Actor | None = None,
) -> PaymentMethod:
    """Validate and save ``method``; ``secrets=None`` keeps the stored ones.

    Refusals: ``not_found`` (unknown gateway), ``invalid_gateway_config``, ``unknown_secret``.
    """
    cls = gateways.get(method.gateway)
    method.config = cls.validate_config(config if config is not None else method.config)
    if secrets is not None:
        unknown = sorted(set(secrets) - set(cls.secret_fields))
        if unknown:
            raise GatewayError(f"unknown secrets: {', '.join(unknown)}", code="unknown_secret")
        set_secrets(method, {**get_secrets(method), **secrets} if method.pk else secrets)
    if method.supports_refunds and not cls.supports_refunds:
        raise GatewayError(f"{cls.key} cannot refund", code="refunds_not_supported")
    if method.supports_recurring and not cls.supports_recurring:
        raise GatewayError(f"{cls.key} cannot charge saved methods", code="recurring_not_supported")
    with transaction.atomic():
        method.save()
    return method


# -- create -----------------------------------------------------------------------------------


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
            _event(
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
    if pm.max_amount_minor is not None and amount.amount_minor > pm.max_amount_minor:
        raise PaymentError(
            "the amount is above this method's maximum",
            code="amount_above_maximum",
            maximum=pm.max_amount_minor,
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


# -- start ------------------------------------------------------------------------------------


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
    if return_url and not payment.return_url:
        Payment.objects.filter(pk=payment.pk, return_url="").update(return_url=return_url)
        payment.return_url = return_url
    if not _claim(payment, S.PENDING, actor, now, "payment.started"):
        payment.refresh_from_db()
        return payment
    gateway = build_gateway(payment.method)
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


def _claim(
    payment: Payment, target: str, actor: Actor | None, now: datetime | None, event: str
) -> bool:
    """Move ``new`` -> ``target`` with a conditional UPDATE; False if it was not new."""
    moment = clock.now(now)
    with transaction.atomic():
        moved = Payment.objects.filter(pk=payment.pk, status=S.NEW).update(
            status=target, updated_at=moment
        )
        if moved:
            _event(payment, actor, event, moment)
    if moved:
        payment.status, payment.updated_at = target, moment
    return bool(moved)


def payment_request(payment: Payment) -> PaymentRequest:
    """The gateway request of ``payment`` (the same every time: the janitor re-sends it)."""
    saved = payment.saved_method
    return PaymentRequest(
        payment_id=payment.pk,
        idempotency_key=f"billow-payment-{payment.idempotency_key}"[:255],
        amount=Money(payment.total_minor, payment.currency),
        description=_description(payment),
        return_url=payment.return_url,
        customer_email=payment.client.email,
        save_method=payment.save_method,
        saved_token=saved.gateway_token if saved is not None else "",
    )


def _description(payment: Payment) -> str:
    if payment.purpose == PaymentPurpose.ORDER:
        return f"Payment #{payment.pk} ({payment.reference})"
    return f"Balance top-up #{payment.pk}"


def call_gateway(call: Callable[[], Outcome]) -> Outcome:
    """Run one adapter call; a transport failure becomes an ``unknown`` outcome."""
    try:
        return call()
    except RetryableError as exc:
        return Outcome(OutcomeStatus.UNKNOWN, code=exc.code, message=exc.message)


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
            _transition(locked, target, actor, moment, code=outcome.code)
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


# -- final states -----------------------------------------------------------------------------


def mark_payment_paid(
    *,
    payment: Payment,
    gateway_reference: str = "",
    amount_minor: int | None = None,
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
    ``amount_minor`` (what the gateway reports) must equal the total (``amount_mismatch``).
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
        fields = _gateway_fields(
            locked, Outcome(OutcomeStatus.SUCCEEDED, gateway_reference, data=gateway_data or {})
        )
        _transition(locked, S.PAID, actor, moment, gateway_reference=locked.gateway_reference)
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


def lock_balance(payment: Payment) -> LedgerAccount:
    """The client's balance account for this payment's provider and currency, row-locked
    (the first lock of every money-moving use case; the same order as orders and billing)."""
    account = get_or_create_account(
        kind=AccountKind.CLIENT_BALANCE,
        currency=payment.currency,
        client=Client(pk=payment.client_id),
        provider=payment.provider,
    )
    return LedgerAccount.objects.select_for_update().get(pk=account.pk)


def house_account(payment: Payment, kind: str) -> LedgerAccount:
    return get_or_create_account(kind=kind, currency=payment.currency, provider=payment.provider)


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
        _transition(locked, target, actor, moment, code=code)
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


def _transition(
    payment: Payment, target: str, actor: Actor | None, moment: datetime, **data: Any
) -> None:
    """The one status change: checked against the table, stamped, saved, audited."""
    if not can_transition(payment.status, target):
        raise PaymentConflictError(
            f"a {payment.status} payment cannot become {target}",
            code="invalid_payment_transition",
            status=payment.status,
            target=target,
        )
    previous = payment.status
    payment.status, payment.updated_at = target, moment
    payment.save(update_fields=["status", "updated_at"])
    _event(payment, actor, f"payment.{target}", moment, previous=previous, **data)


def _event(
    payment: Payment, actor: Actor | None, type_: str, moment: datetime, **data: Any
) -> None:
    PaymentEvent.objects.create(payment=payment, **audit_kwargs(actor, type_, data, now=moment))


# -- saved methods ----------------------------------------------------------------------------


def remember_saved_method(
    *, payment: Payment, saved: SavedMethodInfo, now: datetime | None = None
) -> SavedPaymentMethod:
    """Keep the method the gateway saved for ``payment``'s client (once per token); the first
    one a client saves becomes their default. Joins the caller's transaction."""
    with transaction.atomic():
        method, created = SavedPaymentMethod.objects.get_or_create(
            method_id=payment.method_id,
            gateway_token=saved.token,
            defaults={
                "client_id": payment.client_id,
                "label": saved.label[:100],
                "created_at": clock.now(now),
            },
        )
        if (
            created
            and not SavedPaymentMethod.objects.filter(
                client_id=payment.client_id, is_default=True
            ).exists()
        ):
            method.is_default = True
            method.save(update_fields=["is_default"])
    return method


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
    if not _claim(payment, S.PENDING, actor, now, "payment.charge_requested"):
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
