"""Sandbox adapter: ``start`` returns the URL of Billow's own payment page (``/pay/sandbox/``).

The page (``billow.payments.views``) lets the payer succeed, fail or leave the payment pending;
succeed / fail send a signed webhook (``sandbox.webhooks``) to Billow's webhook handler,
in-process. Secrets: ``webhook_secret`` (signs webhooks and page links).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

from django.urls import NoReverseMatch, reverse

from billow.payments.gateways.base import (
    Gateway,
    Outcome,
    OutcomeStatus,
    PaymentRequest,
    RefundRequest,
    WebhookEventData,
    gateways,
)
from billow.payments.gateways.sandbox import webhooks


def page_token(secret: str, payment_id: int) -> str:
    """The link token of a payment's sandbox page: nobody can open another payment's page."""
    msg = f"sandbox-page:{payment_id}".encode()
    return hmac.new(secret.encode(), msg, hashlib.sha256).hexdigest()[:32]


@gateways.register("sandbox")
class SandboxGateway(Gateway):
    key = "sandbox"
    title = "Sandbox (test payment page)"
    config_fields = ("page_path",)
    secret_fields = ("webhook_secret",)
    supports_refunds = True
    supports_recurring = True

    def start(self, request: PaymentRequest) -> Outcome:
        token = page_token(self.secret("webhook_secret"), request.payment_id)
        return Outcome(
            OutcomeStatus.PENDING,
            reference=f"sbx_{request.payment_id}",
            redirect_url=self._page_url(request.payment_id, token),
        )

    def _page_url(self, payment_id: int, token: str) -> str:
        try:
            return reverse("payments:sandbox_page", args=[payment_id, token])
        except NoReverseMatch:  # urls not mounted (a bare test settings)
            prefix = str(self.config.get("page_path", "/pay/sandbox/"))
            return f"{prefix}{payment_id}/{token}/"

    def fetch(self, reference: str) -> Outcome:
        # The sandbox keeps no state of its own: an unanswered payment stays pending.
        return Outcome(OutcomeStatus.PENDING, reference=reference)

    def charge_saved(self, request: PaymentRequest) -> Outcome:
        """Saved sandbox tokens: ``sbxtok_ok`` succeeds, ``sbxtok_decline`` is declined."""
        if request.saved_token.endswith("decline"):
            return Outcome(OutcomeStatus.FAILED, code="card_declined", message="Declined")
        return Outcome(
            OutcomeStatus.SUCCEEDED,
            reference=f"sbx_{request.payment_id}",
            amount_minor=request.amount.amount_minor,
            currency=request.amount.currency,
        )

    def refund(self, request: RefundRequest) -> Outcome:
        return Outcome(OutcomeStatus.SUCCEEDED, reference=f"sbxre_{request.refund_id}")

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> WebhookEventData:
        return webhooks.parse(headers, body, self.secret("webhook_secret"))
