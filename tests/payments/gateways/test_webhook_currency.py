"""A signed event reporting the right amount in another currency is rejected, for every gateway
that reports amounts (sandbox, Stripe, YooKassa): nothing credited, the payment still pending.
(Bank transfers are marked paid by staff: no gateway report to compare.)"""

from __future__ import annotations

import json

import pytest

from billow.accounts.models import Client
from billow.core.money import Money
from billow.payments import actions
from billow.payments.gateways.sandbox import webhooks as sandbox_events
from billow.payments.gateways.transport import RecordedTransport, use_transport
from billow.payments.models import Payment, PaymentMethod, WebhookEvent
from billow.payments.states import PaymentStatus
from tests.payments.conftest import SANDBOX_SECRET, balance, db_state
from tests.payments.gateways.recorded import load
from tests.payments.gateways.test_stripe import SESSION, no_http, signed
from tests.payments.gateways.test_yookassa import API, YK_ID, _notification

pytestmark = pytest.mark.django_db


def _pending(client: Client, method: PaymentMethod, amount: Money, reference: str) -> Payment:
    payment = actions.create_payment(client=client, amount=amount, method=method)
    Payment.objects.filter(pk=payment.pk).update(
        status=PaymentStatus.PENDING, gateway_reference=reference
    )
    payment.refresh_from_db()
    return payment


def _rejected(payment: Payment, event: WebhookEvent, before: dict[str, object]) -> None:
    assert (event.status, event.result_code) == ("rejected", "currency_mismatch")
    assert Payment.objects.get(pk=payment.pk).status == PaymentStatus.PENDING
    after = db_state()
    assert after["balances"] == before["balances"]
    assert after["ledger_ledgertransaction"] == before["ledger_ledgertransaction"]


def test_sandbox_eur_for_a_usd_payment(client_account: Client, sandbox: PaymentMethod) -> None:
    payment = _pending(client_account, sandbox, Money(2500, "USD"), "sbx_x")
    headers, body = sandbox_events.build_event(
        payment_id=payment.pk,
        reference="sbx_x",
        amount_minor=payment.total_minor,
        currency="EUR",
        succeeded=True,
        save_method=False,
        secret=SANDBOX_SECRET,
    )
    before = db_state()
    event = actions.handle_webhook(gateway="sandbox", headers=headers, body=body)
    _rejected(payment, event, before)
    assert balance(client_account) == 0


def test_stripe_eur_for_a_usd_payment(client_account: Client, stripe_method: PaymentMethod) -> None:
    payment = _pending(client_account, stripe_method, Money(10000, "USD"), SESSION)
    data = load("checkout_session_completed", payment_id=payment.pk, save=0)
    data["data"]["object"]["currency"] = "eur"
    data["data"]["object"]["amount_total"] = payment.total_minor
    body = json.dumps(data).encode()
    before = db_state()
    with use_transport(no_http):
        event = actions.handle_webhook(gateway="stripe", headers=signed(body), body=body)
    _rejected(payment, event, before)


def test_yookassa_usd_for_a_rub_payment(
    client_account: Client, yookassa_method: PaymentMethod
) -> None:
    payment = _pending(client_account, yookassa_method, Money(150000, "RUB"), YK_ID)
    fetched = load("yookassa_payment_succeeded", payment_id=payment.pk)
    fetched["amount"] = {"value": "1500.00", "currency": "USD"}
    transport = RecordedTransport()
    transport.add("GET", f"{API}/payments/{YK_ID}", 200, json.dumps(fetched).encode())
    body = _notification("payment.succeeded", {"id": YK_ID, "status": "succeeded"})
    before = db_state()
    with use_transport(transport):
        event = actions.handle_webhook(gateway="yookassa", headers={}, body=body)
    _rejected(payment, event, before)
