"""YooKassa: request shapes (Idempotence-Key, Basic auth, save_payment_method), notifications
verified by re-fetching the object (recorded responses injected into the adapter)."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from billow.accounts.models import Client
from billow.core.money import Money
from billow.ledger.models import LedgerTransaction
from billow.payments import actions
from billow.payments.errors import WebhookError
from billow.payments.gateways.base import OutcomeStatus, PaymentRequest, RefundRequest
from billow.payments.gateways.transport import RecordedTransport, use_transport
from billow.payments.gateways.yookassa.adapter import YooKassaGateway
from billow.payments.models import Payment, PaymentMethod, SavedPaymentMethod, WebhookEvent
from billow.payments.states import PaymentStatus
from tests.payments.conftest import balance, db_state
from tests.payments.gateways.recorded import body as recorded_body
from tests.payments.gateways.recorded import load

API = "https://api.yookassa.ru/v3"
YK_ID = "2e5f8a41-000f-5000-9000-1c7a2b3d4e5f"
REFUND_ID = "2e5f9c10-0015-5000-8000-1a2b3c4d5e6f"


def _gateway(transport: Any) -> YooKassaGateway:
    return YooKassaGateway(
        config={"shop_id": "123456", "return_url": "https://b.example.com/r/{payment_id}"},
        secrets={"secret_key": "test_secret"},
        transport=transport,
    )


def test_payment_request_shape() -> None:
    request = PaymentRequest(
        payment_id=9,
        idempotency_key="billow-payment-k9",
        amount=Money(150000, "RUB"),
        description="Balance top-up #9",
        save_method=True,
    )
    http = _gateway(RecordedTransport()).payment_request(request)
    assert (http.method, http.url) == ("POST", f"{API}/payments")
    assert http.headers["Idempotence-Key"] == "billow-payment-k9"
    assert (
        http.headers["Authorization"] == "Basic " + base64.b64encode(b"123456:test_secret").decode()
    )
    assert json.loads(http.body) == {
        "amount": {"value": "1500.00", "currency": "RUB"},
        "capture": True,
        "confirmation": {"type": "redirect", "return_url": "https://b.example.com/r/9"},
        "description": "Balance top-up #9",
        "metadata": {"billow_payment_id": "9"},
        "save_payment_method": True,
    }


def test_saved_method_charge_and_refund_shapes() -> None:
    gw = _gateway(RecordedTransport())
    charge = gw.charge_saved_request(
        PaymentRequest(9, "k", Money(1999, "RUB"), "auto", saved_token="pm-123")
    )
    assert json.loads(charge.body)["payment_method_id"] == "pm-123"
    assert "confirmation" not in json.loads(charge.body)
    refund = gw.refund_request(RefundRequest(5, "billow-refund-r5", YK_ID, Money(50000, "RUB")))
    assert (refund.url, refund.headers["Idempotence-Key"]) == (f"{API}/refunds", "billow-refund-r5")
    assert json.loads(refund.body) == {
        "payment_id": YK_ID,
        "amount": {"value": "500.00", "currency": "RUB"},
    }


def test_start_returns_confirmation_url() -> None:
    transport = RecordedTransport()
    transport.add(
        "POST", f"{API}/payments", 200, recorded_body("yookassa_payment_pending", payment_id=9)
    )
    outcome = _gateway(transport).start(PaymentRequest(9, "k", Money(150000, "RUB"), "d"))
    assert (outcome.status, outcome.reference) == (OutcomeStatus.PENDING, YK_ID)
    assert outcome.redirect_url.startswith("https://yoomoney.ru/checkout/payments/v2/contract")


def _notification(event: str, obj: dict[str, Any]) -> bytes:
    return json.dumps({"type": "notification", "event": event, "object": obj}).encode()


def _pending(client: Client, method: PaymentMethod) -> Payment:
    payment = actions.create_payment(
        client=client, amount=Money(150000, "RUB"), method=method, save_method=True
    )
    Payment.objects.filter(pk=payment.pk).update(
        status=PaymentStatus.PENDING, gateway_reference=YK_ID
    )
    return payment


def _fetch(status_file: str, payment_id: int) -> RecordedTransport:
    transport = RecordedTransport()
    transport.add(
        "GET", f"{API}/payments/{YK_ID}", 200, recorded_body(status_file, payment_id=payment_id)
    )
    return transport


@pytest.mark.django_db
def test_succeeded_notification_verified_by_fetch(
    client_account: Client, yookassa_method: PaymentMethod
) -> None:
    payment = _pending(client_account, yookassa_method)
    body = _notification(
        "payment.succeeded", load("yookassa_payment_succeeded", payment_id=payment.pk)
    )
    transport = _fetch("yookassa_payment_succeeded", payment.pk)
    with use_transport(transport):
        for _ in range(2):
            event = actions.handle_webhook(gateway="yookassa", headers={}, body=body)
    assert event.event_id == f"payment.succeeded:{YK_ID}"
    assert [c.url for c in transport.calls] == [f"{API}/payments/{YK_ID}"] * 2
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PAID
    assert LedgerTransaction.objects.filter(kind="payment").count() == 1
    assert balance(client_account, "RUB") == 150000
    saved = SavedPaymentMethod.objects.get(client=client_account)
    assert (saved.gateway_token, saved.label) == (YK_ID, "MasterCard •••• 4444")


@pytest.mark.django_db
def test_tampered_notification_is_not_confirmed(
    client_account: Client, yookassa_method: PaymentMethod
) -> None:
    # given a body claiming success while the API says the payment is still pending
    payment = _pending(client_account, yookassa_method)
    body = _notification(
        "payment.succeeded", load("yookassa_payment_succeeded", payment_id=payment.pk)
    )
    before = db_state()
    with (
        use_transport(_fetch("yookassa_payment_pending", payment.pk)),
        pytest.raises(WebhookError) as exc,
    ):
        actions.handle_webhook(gateway="yookassa", headers={}, body=body)
    assert exc.value.code == "webhook_not_verified"
    assert db_state() == before


@pytest.mark.django_db
def test_wrong_secret_cannot_verify(client_account: Client, yookassa_method: PaymentMethod) -> None:
    payment = _pending(client_account, yookassa_method)
    body = _notification("payment.succeeded", {"id": YK_ID, "status": "succeeded"})
    transport = RecordedTransport()
    transport.add(
        "GET", f"{API}/payments/{YK_ID}", 401, b'{"type": "error", "code": "invalid_credentials"}'
    )
    before = db_state()
    with use_transport(transport), pytest.raises(WebhookError) as exc:
        actions.handle_webhook(gateway="yookassa", headers={}, body=body)
    assert exc.value.code == "webhook_unverifiable"
    assert db_state() == before
    assert Payment.objects.get(pk=payment.pk).status == PaymentStatus.PENDING


@pytest.mark.django_db
def test_unknown_object_is_refused(client_account: Client, yookassa_method: PaymentMethod) -> None:
    body = _notification("payment.succeeded", {"id": "forged", "status": "succeeded"})
    transport = RecordedTransport()
    transport.add("GET", f"{API}/payments/forged", 404, b'{"type": "error", "code": "not_found"}')
    with use_transport(transport), pytest.raises(WebhookError) as exc:
        actions.handle_webhook(gateway="yookassa", headers={}, body=body)
    assert exc.value.code == "webhook_not_verified"
    assert WebhookEvent.objects.count() == 0


@pytest.mark.django_db
def test_canceled_notification_fails_payment(
    client_account: Client, yookassa_method: PaymentMethod
) -> None:
    payment = _pending(client_account, yookassa_method)
    body = _notification("payment.canceled", {"id": YK_ID, "status": "canceled"})
    with use_transport(_fetch("yookassa_payment_canceled", payment.pk)):
        actions.handle_webhook(gateway="yookassa", headers={}, body=body)
    payment.refresh_from_db()
    assert (payment.status, payment.failure_code) == (PaymentStatus.FAILED, "insufficient_funds")


@pytest.mark.django_db
def test_refund_succeeded_notification(
    client_account: Client, yookassa_method: PaymentMethod
) -> None:
    payment = _pending(client_account, yookassa_method)
    actions.mark_payment_paid(payment=payment)
    transport = RecordedTransport()
    transport.add(
        "POST",
        f"{API}/refunds",
        200,
        json.dumps(
            {
                "id": REFUND_ID,
                "payment_id": YK_ID,
                "status": "pending",
                "amount": {"value": "500.00", "currency": "RUB"},
            }
        ).encode(),
    )
    transport.add(
        "GET", f"{API}/refunds/{REFUND_ID}", 200, recorded_body("yookassa_refund_succeeded")
    )
    with use_transport(transport):
        refund = actions.refund_payment(
            payment=payment, amount=Money(50000, "RUB"), idempotency_key="r1"
        )
        assert (refund.status, refund.gateway_reference) == ("pending", REFUND_ID)
        body = _notification("refund.succeeded", {"id": REFUND_ID, "status": "succeeded"})
        actions.handle_webhook(gateway="yookassa", headers={}, body=body)
    refund.refresh_from_db()
    assert refund.status == "succeeded"
    assert balance(client_account, "RUB") == 100000


def test_malformed_notification() -> None:
    with pytest.raises(WebhookError) as exc:
        _gateway(RecordedTransport()).parse_webhook({}, b'{"type": "notification"}')
    assert exc.value.code == "webhook_malformed"


def test_refund_refusal_is_failed() -> None:
    transport = RecordedTransport()
    transport.add("POST", f"{API}/refunds", 400, b'{"type": "error", "code": "invalid_request"}')
    outcome = _gateway(transport).refund(RefundRequest(5, "k", YK_ID, Money(100, "RUB")))
    assert (outcome.status, outcome.code) == (OutcomeStatus.FAILED, "invalid_request")
