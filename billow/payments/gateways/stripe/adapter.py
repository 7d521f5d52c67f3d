"""Stripe adapter: Checkout Session for payments, off-session PaymentIntents for saved methods,
Refunds API, and webhook verification (``stripe.webhooks``).

Config: ``success_url``, ``cancel_url`` (absolute; ``{payment_id}`` is substituted).
Secrets: ``secret_key`` (``sk_...``), ``webhook_secret`` (``whsec_...``).
Saved methods are tokens ``<customer id>:<payment method id>``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from billow.core.errors import RetryableError
from billow.payments.gateways.base import (
    Gateway,
    Outcome,
    OutcomeStatus,
    PaymentRequest,
    RefundRequest,
    SavedMethodInfo,
    WebhookEventData,
    gateways,
)
from billow.payments.gateways.stripe import webhooks
from billow.payments.gateways.stripe.client import StripeClient
from billow.payments.gateways.transport import HttpRequest, HttpResponse

_INTENT_STATUS = {
    "succeeded": OutcomeStatus.SUCCEEDED,
    "canceled": OutcomeStatus.CANCELLED,
    "requires_payment_method": OutcomeStatus.FAILED,
}


@gateways.register("stripe")
class StripeGateway(Gateway):
    key = "stripe"
    title = "Stripe"
    config_fields = ("success_url", "cancel_url")
    secret_fields = ("secret_key", "webhook_secret")
    supports_refunds = True
    supports_recurring = True

    @property
    def client(self) -> StripeClient:
        return StripeClient(self.secret("secret_key"), self.transport)

    # -- payments --------------------------------------------------------------------------
    def checkout_session_request(self, request: PaymentRequest) -> HttpRequest:
        """The ``POST /v1/checkout/sessions`` call for ``request`` (pure)."""
        pid = str(request.payment_id)
        params: dict[str, Any] = {
            "mode": "payment",
            "client_reference_id": pid,
            "success_url": self._url("success_url", request),
            "cancel_url": self._url("cancel_url", request),
            "line_items": [
                {
                    "quantity": 1,
                    "price_data": {
                        "currency": request.amount.currency.lower(),
                        "unit_amount": request.amount.amount_minor,
                        "product_data": {"name": request.description},
                    },
                }
            ],
            "metadata": {
                "billow_payment_id": pid,
                "save_method": "1" if request.save_method else "0",
            },
            "payment_intent_data": {
                "metadata": {"billow_payment_id": pid, "billow_flow": "checkout"}
            },
        }
        if request.customer_email:
            params["customer_email"] = request.customer_email
        if request.save_method:
            params["customer_creation"] = "always"
            params["payment_intent_data"]["setup_future_usage"] = "off_session"
        return self.client.request(
            "POST", "/checkout/sessions", params, idempotency_key=request.idempotency_key
        )

    def _url(self, name: str, request: PaymentRequest) -> str:
        template = str(self.config.get(name) or request.return_url or "")
        return template.replace("{payment_id}", str(request.payment_id))

    def start(self, request: PaymentRequest) -> Outcome:
        response = self.client.send(self.checkout_session_request(request))
        if response.status >= 400:
            return _error_outcome(response)
        session = response.json()
        return Outcome(
            OutcomeStatus.PENDING,
            reference=str(session["id"]),
            redirect_url=str(session.get("url") or ""),
        )

    def charge_saved_request(self, request: PaymentRequest) -> HttpRequest:
        customer, _, payment_method = request.saved_token.partition(":")
        pid = str(request.payment_id)
        params = {
            "amount": request.amount.amount_minor,
            "currency": request.amount.currency.lower(),
            "customer": customer,
            "payment_method": payment_method,
            "off_session": True,
            "confirm": True,
            "metadata": {"billow_payment_id": pid, "billow_flow": "off_session"},
        }
        return self.client.request(
            "POST", "/payment_intents", params, idempotency_key=request.idempotency_key
        )

    def charge_saved(self, request: PaymentRequest) -> Outcome:
        response = self.client.send(self.charge_saved_request(request))
        if response.status >= 400:
            return _error_outcome(response)
        return _intent_outcome(response.json())

    def fetch(self, reference: str) -> Outcome:
        kind = "checkout/sessions" if reference.startswith("cs_") else "payment_intents"
        path = f"/{kind}/{StripeClient.path_id(reference)}"
        response = self.client.send(self.client.request("GET", path))
        if response.status >= 400:
            return _error_outcome(response, reference)
        obj = response.json()
        if kind == "payment_intents":
            return _intent_outcome(obj)
        return _session_outcome(obj)

    # -- refunds ---------------------------------------------------------------------------
    def refund_request(self, request: RefundRequest) -> HttpRequest:
        params = {
            "payment_intent": str(request.payment_data.get("payment_intent") or ""),
            "amount": request.amount.amount_minor,
            "metadata": {"billow_refund_id": str(request.refund_id)},
        }
        return self.client.request(
            "POST", "/refunds", params, idempotency_key=request.idempotency_key
        )

    def refund(self, request: RefundRequest) -> Outcome:
        response = self.client.send(self.refund_request(request))
        if response.status >= 400:
            return _error_outcome(response)
        obj = response.json()
        status = {
            "succeeded": OutcomeStatus.SUCCEEDED,
            "failed": OutcomeStatus.FAILED,
            "canceled": OutcomeStatus.FAILED,
        }.get(str(obj.get("status")), OutcomeStatus.PENDING)
        return Outcome(status, reference=str(obj.get("id", "")))

    # -- webhooks --------------------------------------------------------------------------
    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> WebhookEventData:
        event = webhooks.verify_and_load(headers, body, self.secret("webhook_secret"))
        data = webhooks.read_event(event)
        obj = (event.get("data") or {}).get("object") or {}
        wants_save = (obj.get("metadata") or {}).get("save_method") == "1"
        if data.outcome.status == OutcomeStatus.SUCCEEDED and wants_save:
            saved = self.describe_saved_method(
                str(obj.get("customer") or ""), str(obj.get("payment_intent") or "")
            )
            if saved is not None:
                data = _with_saved(data, saved)
        return data

    def describe_saved_method(self, customer: str, payment_intent: str) -> SavedMethodInfo | None:
        """The card a Checkout payment saved: read from its PaymentIntent (expanded method).

        A lookup failure does not hold back the payment: the method is just not saved.
        """
        if not customer or not payment_intent:
            return None
        path = f"/payment_intents/{StripeClient.path_id(payment_intent)}"
        try:
            response = self.client.send(
                self.client.request("GET", path, {"expand": ["payment_method"]})
            )
        except RetryableError:
            return None
        if response.status >= 400:
            return None
        method = response.json().get("payment_method") or {}
        card = method.get("card") or {}
        if not method.get("id"):
            return None
        brand = str(card.get("brand") or "card").title()
        return SavedMethodInfo(
            f"{customer}:{method['id']}", f"{brand} •••• {card.get('last4', '')}"
        )


def _with_saved(data: WebhookEventData, saved: SavedMethodInfo) -> WebhookEventData:
    o = data.outcome
    outcome = Outcome(
        o.status,
        o.reference,
        o.redirect_url,
        o.instructions,
        o.code,
        o.message,
        o.amount_minor,
        saved,
        o.data,
    )
    return WebhookEventData(
        data.event_id,
        data.event_type,
        data.kind,
        outcome,
        data.payment_id,
        data.reference,
        data.refund_id,
        data.refund_reference,
        data.payload,
    )


def _session_outcome(obj: Mapping[str, Any]) -> Outcome:
    if obj.get("payment_status") in ("paid", "no_payment_required"):
        status = OutcomeStatus.SUCCEEDED
    elif obj.get("status") == "expired":
        status = OutcomeStatus.CANCELLED
    else:
        status = OutcomeStatus.PENDING
    return Outcome(
        status,
        reference=str(obj.get("id", "")),
        amount_minor=obj.get("amount_total"),
        currency=str(obj.get("currency") or ""),
        data={"payment_intent": str(obj.get("payment_intent") or "")},
    )


def _intent_outcome(obj: Mapping[str, Any]) -> Outcome:
    status = _INTENT_STATUS.get(str(obj.get("status")), OutcomeStatus.PENDING)
    error = obj.get("last_payment_error") or {}
    return Outcome(
        status,
        reference=str(obj.get("id", "")),
        amount_minor=obj.get("amount"),
        currency=str(obj.get("currency") or ""),
        code=str(error.get("code") or ""),
        data={"payment_intent": str(obj.get("id", ""))},
    )


def _error_outcome(response: HttpResponse, reference: str = "") -> Outcome:
    """4xx: Stripe refused (a decline is FAILED); 429/5xx: we don't know (UNKNOWN)."""
    try:
        error = (response.json() or {}).get("error") or {}
    except ValueError:
        error = {}
    if response.status == 429 or response.status >= 500:
        return Outcome(OutcomeStatus.UNKNOWN, reference=reference, code="gateway_unavailable")
    intent = error.get("payment_intent") or {}
    return Outcome(
        OutcomeStatus.FAILED,
        reference=str(intent.get("id") or reference),
        code=str(error.get("decline_code") or error.get("code") or "stripe_error"),
        message=str(error.get("message") or ""),
    )
