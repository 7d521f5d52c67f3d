"""YooKassa notifications: ``{"type": "notification", "event": "payment.succeeded",
"object": {...}}``.

YooKassa does not sign notifications; the documented way to trust one is to fetch the object
from the API and act on *that* (or to allow only their IP ranges at the proxy). So a
notification is only a hint: ``parse`` reads the claimed event, the adapter re-fetches the
object, and the fetched state must confirm the claim (``webhook_not_verified`` otherwise).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from billow.payments.errors import WebhookError
from billow.payments.gateways.base import (
    EventKind,
    Outcome,
    OutcomeStatus,
    SavedMethodInfo,
    WebhookEventData,
    int_or_none,
)
from billow.payments.gateways.yookassa.client import amount_minor

HANDLED = {
    "payment.succeeded": (EventKind.PAYMENT, "succeeded"),
    "payment.canceled": (EventKind.PAYMENT, "canceled"),
    "refund.succeeded": (EventKind.REFUND, "succeeded"),
}
_CANCELLED_REASONS = {"expired_on_confirmation", "expired_on_capture", "canceled_by_merchant"}


def read_claim(data: Mapping[str, Any]) -> tuple[str, EventKind, str, str]:
    """(event, kind, claimed status, object id) of a notification; refuses other shapes."""
    event = str(data.get("event", ""))
    obj = data.get("object") or {}
    if data.get("type") != "notification" or event not in HANDLED or not obj.get("id"):
        raise WebhookError("not a handled YooKassa notification", code="webhook_malformed")
    kind, status = HANDLED[event]
    return event, kind, status, str(obj["id"])


def payment_outcome(obj: Mapping[str, Any]) -> Outcome:
    """A YooKassa payment object -> outcome (``canceled`` is failed unless it expired)."""
    status = str(obj.get("status", ""))
    reason = str((obj.get("cancellation_details") or {}).get("reason") or "")
    if status == "succeeded":
        mapped = OutcomeStatus.SUCCEEDED
    elif status == "canceled":
        mapped = OutcomeStatus.CANCELLED if reason in _CANCELLED_REASONS else OutcomeStatus.FAILED
    else:  # pending, waiting_for_capture
        mapped = OutcomeStatus.PENDING
    return Outcome(
        mapped,
        reference=str(obj.get("id", "")),
        amount_minor=amount_minor(obj.get("amount")),
        currency=str((obj.get("amount") or {}).get("currency") or ""),
        code=reason,
        saved_method=saved_method(obj),
        redirect_url=str((obj.get("confirmation") or {}).get("confirmation_url") or ""),
    )


def refund_outcome(obj: Mapping[str, Any]) -> Outcome:
    mapped = {"succeeded": OutcomeStatus.SUCCEEDED, "canceled": OutcomeStatus.FAILED}.get(
        str(obj.get("status", "")), OutcomeStatus.PENDING
    )
    return Outcome(
        mapped, reference=str(obj.get("id", "")), amount_minor=amount_minor(obj.get("amount"))
    )


def saved_method(obj: Mapping[str, Any]) -> SavedMethodInfo | None:
    method = obj.get("payment_method") or {}
    if not method.get("saved") or not method.get("id"):
        return None
    card = method.get("card") or {}
    if card.get("last4"):
        label = f"{card.get('card_type') or 'Card'} •••• {card['last4']}"
    else:
        label = str(method.get("title") or method.get("type") or "Saved method")
    return SavedMethodInfo(str(method["id"]), label)


def confirmed_event(
    event: str,
    kind: EventKind,
    claimed: str,
    fetched: Mapping[str, Any],
    payload: Mapping[str, Any],
) -> WebhookEventData:
    """The event built from the *fetched* object, if it confirms the claimed status."""
    if str(fetched.get("status", "")) != claimed:
        raise WebhookError(
            "the gateway does not confirm this notification", code="webhook_not_verified"
        )
    object_id = str(fetched.get("id", ""))
    if kind == EventKind.REFUND:
        outcome = refund_outcome(fetched)
        return WebhookEventData(
            event_id=f"{event}:{object_id}",
            event_type=event,
            kind=kind,
            outcome=outcome,
            refund_reference=object_id,
            reference=str(fetched.get("payment_id", "")),
            payload=payload,
        )
    outcome = payment_outcome(fetched)
    return WebhookEventData(
        event_id=f"{event}:{object_id}",
        event_type=event,
        kind=kind,
        outcome=outcome,
        payment_id=int_or_none((fetched.get("metadata") or {}).get("billow_payment_id")),
        reference=object_id,
        payload=payload,
    )
