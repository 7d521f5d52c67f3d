"""YooKassa adapter: ``POST /v3/payments`` (redirect confirmation, optional
``save_payment_method``), charges by ``payment_method_id``, ``POST /v3/refunds``, and
notifications verified by re-fetching the object (``yookassa.webhooks``).

Config: ``shop_id``, ``return_url`` (``{payment_id}`` substituted). Secrets: ``secret_key``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from billow.payments.errors import WebhookError
from billow.payments.gateways.base import (
    EventKind,
    Gateway,
    Outcome,
    OutcomeStatus,
    PaymentRequest,
    RefundRequest,
    WebhookEventData,
    gateways,
    load_json,
)
from billow.payments.gateways.transport import HttpRequest, HttpResponse
from billow.payments.gateways.yookassa import webhooks
from billow.payments.gateways.yookassa.client import YooKassaClient, amount_json


@gateways.register("yookassa")
class YooKassaGateway(Gateway):
    key = "yookassa"
    title = "YooKassa"
    config_fields = ("shop_id", "return_url")
    secret_fields = ("secret_key",)
    supports_refunds = True
    supports_recurring = True

    @property
    def client(self) -> YooKassaClient:
        shop_id = str(self.config.get("shop_id") or "")
        return YooKassaClient(shop_id, self.secret("secret_key"), self.transport)

    def _body(self, request: PaymentRequest) -> dict[str, Any]:
        return {
            "amount": amount_json(request.amount),
            "capture": True,
            "description": request.description[:128],
            "metadata": {"billow_payment_id": str(request.payment_id)},
        }

    def payment_request(self, request: PaymentRequest) -> HttpRequest:
        body = self._body(request)
        return_url = str(self.config.get("return_url") or request.return_url or "")
        body["confirmation"] = {
            "type": "redirect",
            "return_url": return_url.replace("{payment_id}", str(request.payment_id)),
        }
        if request.save_method:
            body["save_payment_method"] = True
        return self.client.post("/payments", body, request.idempotency_key)

    def start(self, request: PaymentRequest) -> Outcome:
        return self._payment_call(self.payment_request(request))

    def charge_saved_request(self, request: PaymentRequest) -> HttpRequest:
        body = {**self._body(request), "payment_method_id": request.saved_token}
        return self.client.post("/payments", body, request.idempotency_key)

    def charge_saved(self, request: PaymentRequest) -> Outcome:
        return self._payment_call(self.charge_saved_request(request))

    def fetch(self, reference: str) -> Outcome:
        return self._payment_call(self.client.get("/payments", reference), reference)

    def _payment_call(self, request: HttpRequest, reference: str = "") -> Outcome:
        response = self.client.send(request)
        if response.status >= 400:
            return _error_outcome(response, reference)
        return webhooks.payment_outcome(response.json())

    def refund_request(self, request: RefundRequest) -> HttpRequest:
        body = {"payment_id": request.payment_reference, "amount": amount_json(request.amount)}
        return self.client.post("/refunds", body, request.idempotency_key)

    def refund(self, request: RefundRequest) -> Outcome:
        response = self.client.send(self.refund_request(request))
        if response.status >= 400:
            return _error_outcome(response, "")
        return webhooks.refund_outcome(response.json())

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> WebhookEventData:
        data = load_json(body)
        event, kind, claimed, object_id = webhooks.read_claim(data)
        path = "/refunds" if kind == EventKind.REFUND else "/payments"
        response = self.client.send(self.client.get(path, object_id))
        if response.status in (401, 403):
            raise WebhookError(
                "cannot verify: the API refused our credentials", code="webhook_unverifiable"
            )
        if response.status >= 400:
            raise WebhookError("the gateway does not know this object", code="webhook_not_verified")
        return webhooks.confirmed_event(event, kind, claimed, response.json(), data)


def _error_outcome(response: HttpResponse, reference: str) -> Outcome:
    """4xx: refused (FAILED, YooKassa's error code); 429/5xx: UNKNOWN (ask again later)."""
    if response.status == 429 or response.status >= 500:
        return Outcome(OutcomeStatus.UNKNOWN, reference=reference, code="gateway_unavailable")
    try:
        error = response.json() or {}
    except ValueError:
        error = {}
    return Outcome(
        OutcomeStatus.FAILED,
        reference=reference,
        code=str(error.get("code") or "yookassa_error"),
        message=str(error.get("description") or ""),
    )
