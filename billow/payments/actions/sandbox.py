"""The sandbox payment page's one write: the payer's choice becomes a signed webhook.

The page behaves like a real hosted page: it never changes the payment itself but sends a
webhook signed with the method's secret to Billow's own handler (in-process, no network), so the
demo and end-to-end tests go through the same verify -> dedupe -> apply path as real gateways.
"""

from __future__ import annotations

import hmac
from datetime import datetime

from billow.payments.actions.webhooks import handle_webhook
from billow.payments.errors import PaymentError
from billow.payments.gateways.sandbox import webhooks as sandbox_webhooks
from billow.payments.gateways.sandbox.adapter import page_token
from billow.payments.models import Payment
from billow.payments.secrets import get_secrets
from billow.payments.states import PaymentStatus

CHOICES = ("succeed", "fail", "pending")


def check_sandbox_token(*, payment: Payment, token: str) -> bool:
    """True when ``token`` opens this payment's sandbox page."""
    if payment.method.gateway != "sandbox":
        return False
    secret = get_secrets(payment.method).get("webhook_secret", "")
    return bool(secret) and hmac.compare_digest(page_token(secret, payment.pk), token)


def submit_sandbox_choice(
    *, payment: Payment, token: str, choice: str, now: datetime | None = None
) -> Payment:
    """Apply the payer's choice: ``succeed`` / ``fail`` send a signed webhook; ``pending``
    leaves the payment as it is. Refusals: ``sandbox_token_invalid``, ``invalid_choice``."""
    if not check_sandbox_token(payment=payment, token=token):
        raise PaymentError("this payment page link is not valid", code="sandbox_token_invalid")
    if choice not in CHOICES:
        raise PaymentError("choose succeed, fail or pending", code="invalid_choice")
    if choice == "pending" or payment.status not in (
        PaymentStatus.NEW,
        PaymentStatus.PENDING,
        PaymentStatus.UNKNOWN,
    ):
        return payment
    headers, body = sandbox_webhooks.build_event(
        payment_id=payment.pk,
        reference=payment.gateway_reference or f"sbx_{payment.pk}",
        amount_minor=payment.total_minor,
        currency=payment.currency,
        succeeded=choice == "succeed",
        save_method=payment.save_method,
        secret=get_secrets(payment.method)["webhook_secret"],
        now=now,
    )
    handle_webhook(
        gateway="sandbox", headers=headers, body=body, method_id=payment.method_id, now=now
    )
    payment.refresh_from_db()
    return payment
