"""Sandbox webhooks: JSON events signed like Stripe's (``Sandbox-Signature: t=..,v1=..``).

Body: ``{"id": "evt_...", "type": "payment.succeeded" | "payment.failed",
"payment": {"id": 12, "reference": "sbx_12", "amount_minor": 1000, "currency": "USD",
"save_method": false}}``.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from billow.core import clock
from billow.payments.errors import WebhookError
from billow.payments.gateways import signing
from billow.payments.gateways.base import (
    EventKind,
    Outcome,
    OutcomeStatus,
    SavedMethodInfo,
    WebhookEventData,
    header,
    int_or_none,
    load_json,
)

SIGNATURE_HEADER = "Sandbox-Signature"
_STATUS = {"payment.succeeded": OutcomeStatus.SUCCEEDED, "payment.failed": OutcomeStatus.FAILED}


def build_event(
    *,
    payment_id: int,
    reference: str,
    amount_minor: int,
    currency: str,
    succeeded: bool,
    save_method: bool,
    secret: str,
    now: datetime | None = None,
) -> tuple[dict[str, str], bytes]:
    """A signed webhook (headers, body), as the sandbox page sends it."""
    event = {
        "id": f"evt_{uuid.uuid4().hex}",
        "type": "payment.succeeded" if succeeded else "payment.failed",
        "payment": {
            "id": payment_id,
            "reference": reference,
            "amount_minor": amount_minor,
            "currency": currency,
            "save_method": save_method,
        },
    }
    body = json.dumps(event, sort_keys=True).encode()
    timestamp = int(clock.now(now).timestamp())
    return {SIGNATURE_HEADER: signing.signature_header(body, secret, timestamp)}, body


def parse(headers: Mapping[str, str], body: bytes, secret: str) -> WebhookEventData:
    signing.verify(body, header(headers, SIGNATURE_HEADER), secret)
    data = load_json(body)
    status = _STATUS.get(str(data.get("type", "")))
    payment: dict[str, Any] = data.get("payment") or {}
    if status is None or not data.get("id") or not isinstance(payment, dict):
        raise WebhookError("not a sandbox payment event", code="webhook_malformed")
    payment_id = int_or_none(payment.get("id"))
    saved = None
    if status == OutcomeStatus.SUCCEEDED and payment.get("save_method") and payment_id:
        saved = SavedMethodInfo(f"sbxtok_ok_{payment_id}", "Sandbox card •••• 4242")
    outcome = Outcome(
        status,
        reference=str(payment.get("reference", "")),
        amount_minor=int_or_none(payment.get("amount_minor")),
        currency=str(payment.get("currency") or ""),
        saved_method=saved,
        code="" if status == OutcomeStatus.SUCCEEDED else "declined_on_sandbox_page",
    )
    return WebhookEventData(
        event_id=str(data["id"]),
        event_type=str(data["type"]),
        kind=EventKind.PAYMENT,
        outcome=outcome,
        payment_id=payment_id,
        reference=outcome.reference,
        payload=data,
    )
