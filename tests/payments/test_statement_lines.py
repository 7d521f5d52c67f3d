"""Payments and refunds on the client's statement (``billow.payments.statement``): a top-up
names its method and gateway reference, a payment for an order names the order, a refund says
where the money went, and a refund the gateway declined says the money came back."""

from __future__ import annotations

import json

import pytest

from billow.accounts.models import Client
from billow.core.money import Money
from billow.ledger.selectors import list_statement_for_client
from billow.ledger.statement import describe_statement
from billow.payments import actions
from billow.payments.gateways.transport import RecordedTransport, use_transport
from billow.payments.models import Payment, PaymentMethod

pytestmark = pytest.mark.django_db


def _paid(client: Client, method: PaymentMethod, amount: int, reference: str = "") -> Payment:
    payment = actions.create_payment(
        client=client, amount=Money(amount, "USD"), method=method, reference=reference
    )
    return actions.mark_payment_paid(payment=payment, gateway_reference=f"gw-{payment.pk}")


def _lines(client: Client) -> list[tuple[str, int, int]]:
    entries = list_statement_for_client(client.pk)
    return [(x.description, x.amount_minor, x.balance_minor) for x in describe_statement(entries)]


def test_payments_and_refunds_say_what_happened(
    client_account: Client, sandbox: PaymentMethod, stripe_method: PaymentMethod
) -> None:
    topup = _paid(client_account, sandbox, 10_000)
    for_order = _paid(client_account, stripe_method, 2_000, reference="order:42")
    to_balance = actions.refund_payment(
        payment=topup,
        amount=Money(1_000, "USD"),
        idempotency_key="r-balance",
        destination="balance",
    )
    transport = RecordedTransport()
    refused = {"error": {"type": "invalid_request_error", "code": "charge_already_refunded"}}
    transport.add("POST", "https://api.stripe.com/v1/refunds", 400, json.dumps(refused).encode())
    with use_transport(transport):
        declined = actions.refund_payment(
            payment=for_order, amount=Money(500, "USD"), idempotency_key="r-declined"
        )

    assert to_balance.status == "succeeded" and declined.status == "failed"
    assert _lines(client_account) == [
        (f"Top-up via {sandbox.name} (gw-{topup.pk})", 10_000, 10_000),
        (
            f"Payment for order #42 via {stripe_method.name} (gw-{for_order.pk})",
            2_000,
            12_000,
        ),
        (f"Refund of payment #{topup.pk} to the balance", 1_000, 13_000),
        (f"Refund of payment #{for_order.pk} via {stripe_method.name}", -500, 12_500),
        (
            f"Refund of payment #{for_order.pk} declined by the payment system, "
            "returned to the balance",
            500,
            13_000,
        ),
    ]
