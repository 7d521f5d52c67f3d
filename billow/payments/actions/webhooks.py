"""Inbound webhooks: verify -> dedupe by event id -> apply.

Guarantees: an unverifiable delivery raises ``WebhookError`` and writes nothing; a verified
event is stored once per (gateway, event id) in the same transaction as its effect, so the same
event delivered any number of times (also concurrently: the unique constraint decides) changes
the payment once and posts one ledger transaction. A "failed" after "paid" is stored as ignored
(``payment_already_paid``): the payment stays paid.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from django.db import IntegrityError, transaction

from billow.payments.actions.gateway_calls import build_gateway
from billow.payments.actions.outcomes import apply_outcome, mark_payment_paid
from billow.payments.actions.refunds import apply_refund_outcome
from billow.payments.errors import PaymentConflictError, WebhookError
from billow.payments.gateways import gateways
from billow.payments.gateways.base import EventKind, OutcomeStatus, WebhookEventData
from billow.payments.models import (
    Payment,
    PaymentMethod,
    Refund,
    WebhookEvent,
    WebhookStatus,
)

W = WebhookStatus


def handle_webhook(
    *,
    gateway: str,
    headers: Mapping[str, str],
    body: bytes,
    method_id: int | None = None,
    now: datetime | None = None,
) -> WebhookEvent:
    """Process one delivery for ``gateway`` (optionally for one method, as the URL says).

    Refusals (nothing written): ``not_found`` (unknown gateway), ``webhooks_not_supported``,
    ``payment_method_not_found``, the gateway's verification codes
    (``webhook_signature_invalid``, ``webhook_timestamp_expired``, ``webhook_not_verified`` ...).
    Returns the stored event; a duplicate returns the first delivery's row.
    """
    data, method = _verify(gateway, headers, body, method_id)
    existing = WebhookEvent.objects.filter(gateway=gateway, event_id=data.event_id).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            event = WebhookEvent.objects.create(
                gateway=gateway,
                event_id=data.event_id[:255],
                event_type=data.event_type[:100],
                method=method,
                payload=dict(data.payload),
                status=W.PROCESSED,
            )
            _apply(event, data, method, now)
    except IntegrityError:
        found = WebhookEvent.objects.filter(gateway=gateway, event_id=data.event_id).first()
        if found is None:
            raise
        return found
    return event


def _verify(
    gateway: str, headers: Mapping[str, str], body: bytes, method_id: int | None
) -> tuple[WebhookEventData, PaymentMethod]:
    """Try each candidate method's secrets; the first that verifies wins."""
    if not gateways.get(gateway).supports_webhooks:
        raise WebhookError(f"{gateway} sends no webhooks", code="webhooks_not_supported")
    methods = PaymentMethod.objects.filter(gateway=gateway, is_active=True).order_by("id")
    if method_id is not None:
        methods = methods.filter(pk=method_id)
    error: WebhookError | None = None
    for method in methods:
        try:
            return build_gateway(method).parse_webhook(headers, body), method
        except WebhookError as exc:
            if exc.code != "webhook_signature_invalid":
                raise
            error = exc
    if error is not None:
        raise error
    raise WebhookError("no active method for this gateway", code="payment_method_not_found")


def _apply(
    event: WebhookEvent, data: WebhookEventData, method: PaymentMethod, now: datetime | None
) -> None:
    if data.kind == EventKind.PAYMENT:
        payment = _find_payment(data, method)
        if payment is None:
            return _finish(event, W.IGNORED, "payment_not_found")
        event.payment = payment
        status, code = _apply_payment(payment, data, now)
        return _finish(event, status, code)
    if data.kind == EventKind.REFUND:
        refund = _find_refund(data, method)
        if refund is None:
            return _finish(event, W.IGNORED, "refund_not_found")
        event.payment_id = refund.payment_id
        apply_refund_outcome(refund=refund, outcome=data.outcome, now=now)
        return _finish(event, W.PROCESSED, f"refund_{data.outcome.status}")
    return _finish(event, W.IGNORED, data.outcome.code or "event_not_handled")


#: What the gateway reported differs from the payment: the event is rejected, nothing credited.
MISMATCHES = ("amount_mismatch", "currency_mismatch")


def _apply_payment(
    payment: Payment, data: WebhookEventData, now: datetime | None
) -> tuple[str, str]:
    outcome = data.outcome
    try:
        if outcome.status == OutcomeStatus.SUCCEEDED:
            mark_payment_paid(
                payment=payment,
                gateway_reference=outcome.reference,
                amount_minor=outcome.amount_minor,
                currency=outcome.currency,
                saved=outcome.saved_method,
                gateway_data=outcome.data,
                now=now,
            )
        elif outcome.status == OutcomeStatus.UNKNOWN:
            return W.IGNORED, outcome.code or "unknown"
        else:
            apply_outcome(payment=payment, outcome=outcome, now=now)
    except PaymentConflictError as exc:
        status = W.REJECTED if exc.code in MISMATCHES else W.IGNORED
        return status, exc.code
    return W.PROCESSED, f"payment_{outcome.status}"


def _finish(event: WebhookEvent, status: str, code: str) -> None:
    event.status, event.result_code = status, code[:100]
    event.save(update_fields=["status", "result_code", "payment"])


def _find_payment(data: WebhookEventData, method: PaymentMethod) -> Payment | None:
    qs = Payment.objects.select_related("method").filter(method=method)
    if data.payment_id is not None:
        found = qs.filter(pk=data.payment_id).first()
        if found is not None:
            return found
    if data.reference:
        return qs.filter(gateway_reference=data.reference).first()
    return None


def _find_refund(data: WebhookEventData, method: PaymentMethod) -> Refund | None:
    qs = Refund.objects.select_related("payment__method").filter(payment__method=method)
    if data.refund_id is not None:
        found = qs.filter(pk=data.refund_id).first()
        if found is not None:
            return found
    if data.refund_reference:
        return qs.filter(gateway_reference=data.refund_reference).first()
    return None
