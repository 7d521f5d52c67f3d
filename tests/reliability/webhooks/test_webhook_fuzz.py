"""Webhook replay and reordering fuzz, for every gateway that sends webhooks (sandbox, Stripe,
YooKassa): the genuine "paid" event, its duplicates, a "failed" event, forgeries and events with
the amount or the currency changed, delivered in seeded random orders. Every round: credited
exactly once (the exact amount), forgeries refused with nothing written, the ledger reconciled.
"""

from __future__ import annotations

import json
import os
import random
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from billow.accounts.models import Client
from billow.core.money import Money
from billow.ledger.models import LedgerTransaction
from billow.ledger.selectors import get_reconcile_report
from billow.payments import actions
from billow.payments.errors import WebhookError
from billow.payments.gateways.sandbox import webhooks as sandbox_events
from billow.payments.gateways.transport import RecordedTransport, use_transport
from billow.payments.models import Payment, PaymentMethod
from billow.payments.states import PaymentStatus
from tests.payments.conftest import SANDBOX_SECRET, balance, db_state
from tests.payments.gateways.recorded import load
from tests.payments.gateways.test_stripe import SESSION, no_http, signed
from tests.payments.gateways.test_yookassa import API, YK_ID, _notification

pytestmark = pytest.mark.django_db

SEED = int(os.environ.get("RELIABILITY_SEED", "22"))
ROUNDS = 6
KINDS = ["genuine", "genuine", "genuine", "failed", "forged", "amount", "currency"]

#: How each gateway refuses a forgery: a bad signature, or (YooKassa) a claim its API contradicts.
FORGED = {
    "sandbox": "webhook_signature_invalid",
    "stripe": "webhook_signature_invalid",
    "yookassa": "webhook_not_verified",
}


def _pending(client: Client, method: PaymentMethod, amount: Money, reference: str) -> Payment:
    payment = actions.create_payment(
        client=client, amount=amount, method=method, idempotency_key=uuid.uuid4().hex
    )
    Payment.objects.filter(pk=payment.pk).update(
        status=PaymentStatus.PENDING, gateway_reference=reference
    )
    payment.refresh_from_db()
    return payment


def _sandbox(payment: Payment, kind: str) -> Callable[[], Any]:
    headers, body = sandbox_events.build_event(
        payment_id=payment.pk,
        reference=payment.gateway_reference,
        amount_minor=1 if kind == "amount" else payment.total_minor,
        currency="EUR" if kind == "currency" else "USD",
        succeeded=kind != "failed",
        save_method=False,
        secret="forged-secret" if kind == "forged" else SANDBOX_SECRET,
    )
    return lambda: actions.handle_webhook(gateway="sandbox", headers=headers, body=body)


def _stripe(payment: Payment, kind: str) -> Callable[[], Any]:
    data = load("checkout_session_completed", payment_id=payment.pk, save=0)
    data["id"] = f"evt_{uuid.uuid4().hex}"
    obj = data["data"]["object"]
    obj["id"] = payment.gateway_reference
    obj["amount_total"] = 1 if kind == "amount" else payment.total_minor
    obj["currency"] = "eur" if kind == "currency" else "usd"
    if kind == "failed":
        data["type"] = "checkout.session.async_payment_failed"
        obj["payment_status"] = "unpaid"
    body = json.dumps(data).encode()
    headers = signed(body, secret="whsec_forged") if kind == "forged" else signed(body)

    def deliver() -> Any:
        with use_transport(no_http):
            return actions.handle_webhook(gateway="stripe", headers=headers, body=body)

    return deliver


def _yookassa(payment: Payment, kind: str) -> Callable[[], Any]:
    # YooKassa signs nothing: a notification is verified by fetching the payment, and the fetch
    # is the truth (here: succeeded, for the genuine amount and currency). So a replay is a
    # duplicate, and a forgery or a reordered "canceled" is a claim the fetch contradicts.
    fetched = load("yookassa_payment_succeeded", payment_id=payment.pk)
    ref = fetched["id"] = payment.gateway_reference
    transport = RecordedTransport()
    transport.add("GET", f"{API}/payments/{ref}", 200, json.dumps(fetched).encode())
    claim = "canceled" if kind in ("failed", "forged") else "succeeded"
    body = _notification(f"payment.{claim}", {"id": ref, "status": claim})

    def deliver() -> Any:
        with use_transport(transport):
            return actions.handle_webhook(gateway="yookassa", headers={}, body=body)

    return deliver


def _refused(gateway: str, kind: str) -> bool:
    """Whether this delivery must be refused (WebhookError, nothing written)."""
    return kind == "forged" or (gateway == "yookassa" and kind == "failed")


GATEWAYS: dict[str, tuple[str, Money, str, Callable[[Payment, str], Callable[[], Any]]]] = {
    "sandbox": ("sandbox", Money(2500, "USD"), "sbx_fuzz", _sandbox),
    "stripe": ("stripe_method", Money(10000, "USD"), SESSION[:-2], _stripe),
    "yookassa": ("yookassa_method", Money(150000, "RUB"), YK_ID[:-2], _yookassa),
}


@pytest.mark.parametrize("gateway", list(GATEWAYS))
def test_replayed_reordered_forged_and_altered_events_credit_exactly_once(
    gateway: str,
    client_account: Client,
    request: pytest.FixtureRequest,
    attempts: Callable[[int], None],
) -> None:
    fixture, amount, reference, build = GATEWAYS[gateway]
    method: PaymentMethod = request.getfixturevalue(fixture)
    rng = random.Random(f"{SEED}:{gateway}")
    delivered = 0
    for round_ in range(ROUNDS):
        payment = _pending(client_account, method, amount, f"{reference}{round_:02d}")
        before = balance(client_account, amount.currency)
        paid_before = LedgerTransaction.objects.filter(kind="payment").count()
        kinds = KINDS + rng.sample(KINDS, 3)
        rng.shuffle(kinds)
        for kind in kinds:
            deliver = build(payment, kind)
            delivered += 1
            if _refused(gateway, kind):
                state = db_state()
                with pytest.raises(WebhookError) as refused:
                    deliver()
                assert refused.value.code == FORGED[gateway], (round_, kinds)
                assert db_state() == state
            else:
                deliver()
        payment.refresh_from_db()
        assert payment.status == PaymentStatus.PAID, (round_, kinds)
        assert balance(client_account, amount.currency) - before == amount.amount_minor
        assert LedgerTransaction.objects.filter(kind="payment").count() == paid_before + 1
    attempts(delivered)
    assert get_reconcile_report().ok
