"""Stripe webhooks: signature verification exactly as Stripe documents it, then event reading.

``Stripe-Signature: t=<ts>,v1=<hex>``; the expected signature is HMAC-SHA256 of ``"{t}.{raw
body}"`` keyed with the endpoint secret (``whsec_...``), compared in constant time with each
``v1``; the timestamp must be within 300 s. Events handled: ``checkout.session.completed`` /
``.async_payment_succeeded`` / ``.async_payment_failed`` / ``.expired``,
``payment_intent.succeeded`` / ``.payment_failed`` (off-session charges) and ``charge.refunded``.
Anything else is acknowledged and ignored.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from billow.payments.gateways import signing
from billow.payments.gateways.base import (
    EventKind,
    Outcome,
    OutcomeStatus,
    WebhookEventData,
    header,
    int_or_none,
    load_json,
)

SIGNATURE_HEADER = "Stripe-Signature"
TOLERANCE = 300

_SESSION_STATUS = {
    "checkout.session.async_payment_succeeded": OutcomeStatus.SUCCEEDED,
    "checkout.session.async_payment_failed": OutcomeStatus.FAILED,
    "checkout.session.expired": OutcomeStatus.CANCELLED,
}


def verify_and_load(
    headers: Mapping[str, str], body: bytes, secret: str, *, now: datetime | None = None
) -> dict[str, Any]:
    signing.verify(body, header(headers, SIGNATURE_HEADER), secret, tolerance=TOLERANCE, now=now)
    return load_json(body)


def read_event(event: Mapping[str, Any]) -> WebhookEventData:
    """The event reduced to an outcome (no saved-method lookup here: the adapter adds it)."""
    event_type = str(event.get("type", ""))
    obj: Mapping[str, Any] = (event.get("data") or {}).get("object") or {}
    base: dict[str, Any] = {
        "event_id": str(event.get("id", "")),
        "event_type": event_type,
        "payload": event,
    }
    if event_type.startswith("checkout.session."):
        return WebhookEventData(kind=EventKind.PAYMENT, **_session(event_type, obj), **base)
    if event_type.startswith("payment_intent."):
        return WebhookEventData(kind=EventKind.PAYMENT, **_intent(event_type, obj), **base)
    if event_type == "charge.refunded":
        return WebhookEventData(kind=EventKind.REFUND, **_charge_refunded(obj), **base)
    ignored = Outcome(OutcomeStatus.PENDING, code="event_not_handled")
    return WebhookEventData(kind=EventKind.OTHER, outcome=ignored, **base)


def _metadata_id(obj: Mapping[str, Any], key: str) -> int | None:
    return int_or_none((obj.get("metadata") or {}).get(key))


def _session(event_type: str, obj: Mapping[str, Any]) -> dict[str, Any]:
    if event_type == "checkout.session.completed":
        paid = obj.get("payment_status") in ("paid", "no_payment_required")
        status = OutcomeStatus.SUCCEEDED if paid else OutcomeStatus.PENDING
    else:
        status = _SESSION_STATUS.get(event_type, OutcomeStatus.PENDING)
    reference = str(obj.get("id", ""))
    outcome = Outcome(
        status,
        reference=reference,
        amount_minor=int_or_none(obj.get("amount_total")),
        currency=str(obj.get("currency") or ""),
        code="" if status != OutcomeStatus.FAILED else "async_payment_failed",
        data={
            "payment_intent": str(obj.get("payment_intent") or ""),
            "customer": str(obj.get("customer") or ""),
        },
    )
    payment_id = _metadata_id(obj, "billow_payment_id") or int_or_none(
        obj.get("client_reference_id")
    )
    return {"outcome": outcome, "payment_id": payment_id, "reference": reference}


def _intent(event_type: str, obj: Mapping[str, Any]) -> dict[str, Any]:
    reference = str(obj.get("id", ""))
    meta = obj.get("metadata") or {}
    off_session = meta.get("billow_flow") == "off_session"
    if event_type == "payment_intent.succeeded" and off_session:
        status = OutcomeStatus.SUCCEEDED
    elif event_type == "payment_intent.payment_failed" and off_session:
        status = OutcomeStatus.FAILED
    else:
        # A Checkout payer may retry with another card: a failed attempt is not a failed
        # payment; the session's own events decide.
        status = OutcomeStatus.PENDING
    error = obj.get("last_payment_error") or {}
    outcome = Outcome(
        status,
        reference=reference,
        amount_minor=int_or_none(obj.get("amount")),
        currency=str(obj.get("currency") or ""),
        code=str(error.get("decline_code") or error.get("code") or ""),
        message=str(error.get("message") or ""),
        data={"payment_intent": reference},
    )
    return {
        "outcome": outcome,
        "payment_id": _metadata_id(obj, "billow_payment_id"),
        "reference": reference if off_session else "",
    }


def _charge_refunded(obj: Mapping[str, Any]) -> dict[str, Any]:
    refunds = (obj.get("refunds") or {}).get("data") or []
    latest: Mapping[str, Any] = refunds[0] if refunds else {}
    status = {
        "succeeded": OutcomeStatus.SUCCEEDED,
        "failed": OutcomeStatus.FAILED,
        "canceled": OutcomeStatus.FAILED,
    }.get(str(latest.get("status", "")), OutcomeStatus.PENDING)
    outcome = Outcome(
        status, reference=str(latest.get("id", "")), amount_minor=int_or_none(latest.get("amount"))
    )
    return {
        "outcome": outcome,
        "payment_id": _metadata_id(obj, "billow_payment_id"),
        "refund_id": _metadata_id(latest, "billow_refund_id"),
        "refund_reference": outcome.reference,
        "reference": str(obj.get("payment_intent") or ""),
    }
