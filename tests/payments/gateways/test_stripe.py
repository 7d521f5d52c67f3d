"""Stripe: Checkout Session payload, signature verification as Stripe documents it, events
applied through ``handle_webhook`` (payloads signed by the test; no HTTP unless recorded)."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qsl

import pytest

from billow.accounts.models import Client
from billow.core import clock
from billow.core.money import Money
from billow.ledger.models import LedgerTransaction
from billow.payments import actions
from billow.payments.errors import WebhookError
from billow.payments.gateways.base import OutcomeStatus, PaymentRequest
from billow.payments.gateways.stripe import webhooks
from billow.payments.gateways.stripe.adapter import StripeGateway
from billow.payments.gateways.transport import HttpRequest, RecordedTransport, use_transport
from billow.payments.models import (
    Payment,
    PaymentMethod,
    RefundStatus,
    SavedPaymentMethod,
    WebhookEvent,
)
from billow.payments.states import PaymentStatus
from tests.payments.conftest import STRIPE_SECRET, T0, balance
from tests.payments.gateways.recorded import body as recorded_body
from tests.payments.gateways.recorded import load

SESSION = "cs_test_a1B2c3D4e5F6g7H8i9J0"
INTENT = "pi_3PqQz1LkdIwHu7ix0AbCdEf0"


def no_http(request: HttpRequest) -> Any:
    raise AssertionError(f"unexpected HTTP call {request.method} {request.url}")


def signed(body: bytes, secret: str = STRIPE_SECRET, at: int | None = None) -> dict[str, str]:
    """Headers as Stripe sends them: t=<ts>,v1=HMAC-SHA256("{t}.{body}")."""
    ts = int(clock.now().timestamp()) if at is None else at
    mac = hmac.new(secret.encode(), f"{ts}.".encode() + body, hashlib.sha256).hexdigest()
    return {"Stripe-Signature": f"t={ts},v1={mac}", "Content-Type": "application/json"}


# -- signature verification -------------------------------------------------------------------


class TestSignature:
    body = recorded_body("checkout_session_completed", payment_id=1, save=0)
    ts = int(T0.timestamp())

    def verify(self, headers: dict[str, str], body: bytes, **kw: Any) -> dict[str, Any]:
        return webhooks.verify_and_load(headers, body, STRIPE_SECRET, now=kw.get("now", T0))

    def test_valid(self) -> None:
        event = self.verify(signed(self.body, at=self.ts), self.body)
        assert event["type"] == "checkout.session.completed"

    def test_tampered_body(self) -> None:
        tampered = self.body.replace(b"10320", b"1")
        with pytest.raises(WebhookError) as exc:
            self.verify(signed(self.body, at=self.ts), tampered)
        assert exc.value.code == "webhook_signature_invalid"

    def test_wrong_secret(self) -> None:
        with pytest.raises(WebhookError) as exc:
            self.verify(signed(self.body, secret="whsec_other", at=self.ts), self.body)
        assert exc.value.code == "webhook_signature_invalid"

    def test_expired_timestamp(self) -> None:
        headers = signed(self.body, at=self.ts - 301)
        with pytest.raises(WebhookError) as exc:
            self.verify(headers, self.body)
        assert exc.value.code == "webhook_timestamp_expired"
        assert self.verify(signed(self.body, at=self.ts - 300), self.body)

    def test_any_v1_may_match_and_v0_is_ignored(self) -> None:
        good = signed(self.body, at=self.ts)["Stripe-Signature"]
        header = f"t={self.ts},v0=deadbeef,v1={'0' * 64},{good.split(',')[1]}"
        assert self.verify({"stripe-signature": header}, self.body)["id"]

    def test_missing_header(self) -> None:
        with pytest.raises(WebhookError) as exc:
            self.verify({}, self.body)
        assert exc.value.code == "webhook_signature_missing"

    def test_expiry_uses_clock(self) -> None:
        with pytest.raises(WebhookError):
            self.verify(signed(self.body, at=self.ts), self.body, now=T0 + timedelta(minutes=6))


# -- request shapes ---------------------------------------------------------------------------


def _gateway(transport: Any = no_http) -> StripeGateway:
    return StripeGateway(
        config={
            "success_url": "https://b.example.com/ok/{payment_id}",
            "cancel_url": "https://b.example.com/cancel/{payment_id}",
        },
        secrets={"secret_key": "sk_test_123", "webhook_secret": STRIPE_SECRET},
        transport=transport,
    )


def test_checkout_session_payload() -> None:
    request = PaymentRequest(
        payment_id=42,
        idempotency_key="billow-payment-k42",
        amount=Money(10320, "USD"),
        description="Balance top-up #42",
        customer_email="owner@example.com",
        save_method=True,
    )
    http = _gateway().checkout_session_request(request)
    assert (http.method, http.url) == ("POST", "https://api.stripe.com/v1/checkout/sessions")
    assert http.headers["Authorization"] == "Bearer sk_test_123"
    assert http.headers["Idempotency-Key"] == "billow-payment-k42"
    assert http.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert dict(parse_qsl(http.body.decode())) == {
        "mode": "payment",
        "client_reference_id": "42",
        "success_url": "https://b.example.com/ok/42",
        "cancel_url": "https://b.example.com/cancel/42",
        "line_items[0][quantity]": "1",
        "line_items[0][price_data][currency]": "usd",
        "line_items[0][price_data][unit_amount]": "10320",
        "line_items[0][price_data][product_data][name]": "Balance top-up #42",
        "metadata[billow_payment_id]": "42",
        "metadata[save_method]": "1",
        "payment_intent_data[metadata][billow_payment_id]": "42",
        "payment_intent_data[metadata][billow_flow]": "checkout",
        "payment_intent_data[setup_future_usage]": "off_session",
        "customer_email": "owner@example.com",
        "customer_creation": "always",
    }


def test_off_session_charge_payload() -> None:
    request = PaymentRequest(
        payment_id=7,
        idempotency_key="k7",
        amount=Money(500, "USD"),
        description="x",
        saved_token="cus_1:pm_2",
    )
    http = _gateway().charge_saved_request(request)
    assert http.url == "https://api.stripe.com/v1/payment_intents"
    assert dict(parse_qsl(http.body.decode())) == {
        "amount": "500",
        "currency": "usd",
        "customer": "cus_1",
        "payment_method": "pm_2",
        "off_session": "true",
        "confirm": "true",
        "metadata[billow_payment_id]": "7",
        "metadata[billow_flow]": "off_session",
    }


def test_start_uses_the_session_url() -> None:
    transport = RecordedTransport()
    transport.add(
        "POST",
        "https://api.stripe.com/v1/checkout/sessions",
        200,
        json.dumps(
            {
                "id": SESSION,
                "object": "checkout.session",
                "url": f"https://checkout.stripe.com/c/pay/{SESSION}",
            }
        ).encode(),
    )
    outcome = _gateway(transport).start(PaymentRequest(1, "k", Money(100, "USD"), "d"))
    assert outcome.status == OutcomeStatus.PENDING
    assert (outcome.reference, outcome.redirect_url) == (
        SESSION,
        f"https://checkout.stripe.com/c/pay/{SESSION}",
    )


def test_declined_off_session_charge_is_failed() -> None:
    transport = RecordedTransport()
    transport.add(
        "POST",
        "https://api.stripe.com/v1/payment_intents",
        402,
        json.dumps(
            {
                "error": {
                    "type": "card_error",
                    "code": "card_declined",
                    "decline_code": "insufficient_funds",
                    "message": "declined",
                    "payment_intent": {"id": "pi_x", "status": "requires_payment_method"},
                }
            },
        ).encode(),
    )
    outcome = _gateway(transport).charge_saved(
        PaymentRequest(1, "k", Money(100, "USD"), "d", saved_token="cus_1:pm_2")
    )
    assert (outcome.status, outcome.code, outcome.reference) == (
        OutcomeStatus.FAILED,
        "insufficient_funds",
        "pi_x",
    )


def test_server_error_is_unknown() -> None:
    transport = RecordedTransport()
    transport.add("POST", "https://api.stripe.com/v1/checkout/sessions", 503, b"{}")
    outcome = _gateway(transport).start(PaymentRequest(1, "k", Money(100, "USD"), "d"))
    assert outcome.status == OutcomeStatus.UNKNOWN


# -- events through handle_webhook ------------------------------------------------------------


def _pending_payment(client: Client, method: PaymentMethod, save: bool = False) -> Payment:
    payment = actions.create_payment(
        client=client, amount=Money(10000, "USD"), method=method, save_method=save
    )
    Payment.objects.filter(pk=payment.pk).update(
        status=PaymentStatus.PENDING, gateway_reference=SESSION
    )
    payment.refresh_from_db()
    return payment


@pytest.mark.django_db
def test_checkout_completed_pays_once(client_account: Client, stripe_method: PaymentMethod) -> None:
    payment = _pending_payment(client_account, stripe_method)
    body = recorded_body("checkout_session_completed", payment_id=payment.pk, save=0)
    with use_transport(no_http):
        events = [
            actions.handle_webhook(gateway="stripe", headers=signed(body), body=body)
            for _ in range(3)
        ]
    assert {e.pk for e in events} == {events[0].pk}
    assert (events[0].status, events[0].result_code) == ("processed", "payment_succeeded")
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PAID
    assert payment.gateway_data["payment_intent"] == INTENT
    assert LedgerTransaction.objects.filter(kind="payment").count() == 1
    assert balance(client_account) == 10000


@pytest.mark.django_db
def test_checkout_completed_saves_the_card(
    client_account: Client, stripe_method: PaymentMethod
) -> None:
    payment = _pending_payment(client_account, stripe_method, save=True)
    body = recorded_body("checkout_session_completed", payment_id=payment.pk, save=1)
    transport = RecordedTransport()
    transport.add(
        "GET",
        f"https://api.stripe.com/v1/payment_intents/{INTENT}?expand%5B0%5D=payment_method",
        200,
        recorded_body("payment_intent_with_method"),
    )
    with use_transport(transport):
        actions.handle_webhook(gateway="stripe", headers=signed(body), body=body)
    saved = SavedPaymentMethod.objects.get(client=client_account)
    assert (saved.label, saved.gateway_token, saved.is_default) == (
        "Visa •••• 4242",
        "cus_QhS6b5XyZ1a2b3:pm_1PqQz0LkdIwHu7ixVisa4242",
        True,
    )


@pytest.mark.django_db
def test_failed_checkout_attempt_keeps_payment_pending(
    client_account: Client, stripe_method: PaymentMethod
) -> None:
    payment = _pending_payment(client_account, stripe_method)
    body = recorded_body("payment_intent_payment_failed", payment_id=payment.pk, flow="checkout")
    with use_transport(no_http):
        event = actions.handle_webhook(gateway="stripe", headers=signed(body), body=body)
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PENDING  # the payer may retry on the Checkout page
    assert event.result_code == "payment_pending"


@pytest.mark.django_db
def test_failed_off_session_charge_fails_payment(
    client_account: Client, stripe_method: PaymentMethod
) -> None:
    payment = _pending_payment(client_account, stripe_method)
    body = recorded_body("payment_intent_payment_failed", payment_id=payment.pk, flow="off_session")
    with use_transport(no_http):
        actions.handle_webhook(gateway="stripe", headers=signed(body), body=body)
    payment.refresh_from_db()
    assert (payment.status, payment.failure_code) == (PaymentStatus.FAILED, "insufficient_funds")


@pytest.mark.django_db
def test_charge_refunded_completes_pending_refund(
    client_account: Client, stripe_method: PaymentMethod
) -> None:
    # given a paid Stripe payment and a partial refund Stripe reports pending
    payment = _pending_payment(client_account, stripe_method)
    actions.mark_payment_paid(payment=payment, gateway_data={"payment_intent": INTENT})
    transport = RecordedTransport()
    transport.add(
        "POST",
        "https://api.stripe.com/v1/refunds",
        200,
        json.dumps(
            {"id": "re_3PqR5xLkdIwHu7ix0Rfd0001", "object": "refund", "status": "pending"}
        ).encode(),
    )
    with use_transport(transport):
        refund = actions.refund_payment(
            payment=payment, amount=Money(4000, "USD"), idempotency_key="r1"
        )
    assert refund.status == RefundStatus.PENDING
    sent = dict(parse_qsl(transport.calls[0].body.decode()))
    assert sent == {
        "payment_intent": INTENT,
        "amount": "4000",
        "metadata[billow_refund_id]": str(refund.pk),
    }
    # when charge.refunded arrives
    body = recorded_body("charge_refunded", payment_id=payment.pk, refund_id=refund.pk)
    with use_transport(no_http):
        event = actions.handle_webhook(gateway="stripe", headers=signed(body), body=body)
    refund.refresh_from_db()
    assert refund.status == RefundStatus.SUCCEEDED
    assert (event.payment_id, event.result_code) == (payment.pk, "refund_succeeded")
    assert balance(client_account) == 6000


@pytest.mark.django_db
def test_bad_signature_writes_nothing(client_account: Client, stripe_method: PaymentMethod) -> None:
    payment = _pending_payment(client_account, stripe_method)
    body = recorded_body("checkout_session_completed", payment_id=payment.pk, save=0)
    with pytest.raises(WebhookError) as exc:
        actions.handle_webhook(gateway="stripe", headers=signed(body, secret="whsec_x"), body=body)
    assert exc.value.code == "webhook_signature_invalid"
    assert WebhookEvent.objects.count() == 0
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PENDING


def test_recorded_shapes_load() -> None:
    assert load("charge_refunded", payment_id=1, refund_id=2)["data"]["object"]["refunds"]["data"][
        0
    ]["metadata"] == {"billow_refund_id": "2"}
