"""Refunds: full / partial, to the gateway or the balance, limits, failures, idempotency."""

from __future__ import annotations

import json

import pytest

from billow.accounts.models import Client, Provider
from billow.core.money import Money
from billow.ledger.models import AccountKind, LedgerEntry, LedgerTransaction
from billow.payments import actions
from billow.payments.errors import PaymentConflictError, RefundError
from billow.payments.gateways.transport import RecordedTransport, use_transport
from billow.payments.models import Payment, PaymentMethod, RefundStatus
from tests.payments.conftest import balance, db_state, make_method

pytestmark = pytest.mark.django_db


def usd(minor: int) -> Money:
    return Money(minor, "USD")


def _paid(client: Client, method: PaymentMethod, amount: int = 10000) -> Payment:
    payment = actions.create_payment(client=client, amount=usd(amount), method=method)
    return actions.mark_payment_paid(payment=payment)


def _legs(key: str) -> list[tuple[str, int]]:
    txn = LedgerTransaction.objects.get(idempotency_key=key)
    return sorted(
        LedgerEntry.objects.filter(transaction=txn).values_list("account__kind", "amount_minor")
    )


def test_partial_refunds_up_to_the_amount(client_account: Client, sandbox: PaymentMethod) -> None:
    payment = _paid(client_account, sandbox)
    first = actions.refund_payment(payment=payment, amount=usd(3000), idempotency_key="r1")
    assert first.status == RefundStatus.SUCCEEDED
    assert _legs(f"refund:{first.pk}") == [
        (AccountKind.CLIENT_BALANCE, -3000),
        (AccountKind.GATEWAY_CLEARING, 3000),
    ]
    rest = actions.refund_payment(payment=payment, idempotency_key="r2")  # the rest: 70.00
    assert rest.amount_minor == 7000
    payment.refresh_from_db()
    assert payment.refunded_minor == 10000
    assert balance(client_account) == 0
    before = db_state()
    with pytest.raises(RefundError) as exc:
        actions.refund_payment(payment=payment, amount=usd(1), idempotency_key="r3")
    assert exc.value.code == "refund_exceeds_payment"
    assert db_state() == before


def test_refund_above_what_is_left(client_account: Client, sandbox: PaymentMethod) -> None:
    payment = _paid(client_account, sandbox)
    actions.refund_payment(payment=payment, amount=usd(6000), idempotency_key="r1")
    before = db_state()
    with pytest.raises(RefundError) as exc:
        actions.refund_payment(payment=payment, amount=usd(4001), idempotency_key="r2")
    assert (exc.value.code, exc.value.details) == ("refund_exceeds_payment", {"refundable": 4000})
    assert db_state() == before


def test_refund_to_balance(client_account: Client, sandbox: PaymentMethod) -> None:
    payment = _paid(client_account, sandbox)
    refund = actions.refund_payment(
        payment=payment, amount=usd(2500), destination="balance", idempotency_key="r1"
    )
    assert refund.status == RefundStatus.SUCCEEDED
    assert _legs(f"refund:{refund.pk}") == [
        (AccountKind.CLIENT_BALANCE, 2500),
        (AccountKind.PROVIDER_REVENUE, -2500),
    ]
    assert balance(client_account) == 12500


def test_refund_idempotency(client_account: Client, sandbox: PaymentMethod) -> None:
    payment = _paid(client_account, sandbox)
    first = actions.refund_payment(payment=payment, amount=usd(100), idempotency_key="r1")
    again = actions.refund_payment(payment=payment, amount=usd(100), idempotency_key="r1")
    assert again.pk == first.pk
    assert balance(client_account) == 9900
    with pytest.raises(PaymentConflictError) as exc:
        actions.refund_payment(payment=payment, amount=usd(200), idempotency_key="r1")
    assert exc.value.code == "idempotency_key_reused"


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"amount": Money(100, "EUR")}, "refund_currency_mismatch"),
        ({"amount": Money(0, "USD")}, "invalid_amount"),
        ({"destination": "cash"}, "invalid_refund_destination"),
        ({"idempotency_key": ""}, "idempotency_key_required"),
    ],
)
def test_refund_refusals_write_nothing(
    client_account: Client, sandbox: PaymentMethod, kwargs: dict[str, object], code: str
) -> None:
    payment = _paid(client_account, sandbox)
    before = db_state()
    with pytest.raises(RefundError) as exc:
        actions.refund_payment(**{"payment": payment, "idempotency_key": "r", **kwargs})  # type: ignore[arg-type]
    assert exc.value.code == code
    assert db_state() == before


def test_unpaid_payment_cannot_be_refunded(client_account: Client, sandbox: PaymentMethod) -> None:
    payment = actions.create_payment(client=client_account, amount=usd(100), method=sandbox)
    with pytest.raises(RefundError) as exc:
        actions.refund_payment(payment=payment, idempotency_key="r")
    assert exc.value.code == "payment_not_paid"


def test_spent_balance_cannot_go_back_to_the_gateway(
    client_account: Client, sandbox: PaymentMethod
) -> None:
    # given the client spent 80.00 of a 100.00 payment
    payment = _paid(client_account, sandbox)
    from billow.ledger.actions import adjust_client_balance
    from billow.ledger.models import LedgerAccount

    account = LedgerAccount.objects.get(client=client_account, kind=AccountKind.CLIENT_BALANCE)
    adjust_client_balance(
        account=account, amount_minor=8000, direction="debit", reason="spent", nonce="n1"
    )
    before = db_state()
    with pytest.raises(RefundError) as exc:
        actions.refund_payment(payment=payment, amount=usd(2001), idempotency_key="r")
    assert exc.value.code == "insufficient_balance"
    assert db_state() == before
    # but to the balance it can
    refund = actions.refund_payment(
        payment=payment, amount=usd(5000), destination="balance", idempotency_key="rb"
    )
    assert refund.status == RefundStatus.SUCCEEDED


def test_no_refunds_on_method_without_support(client_account: Client, provider: Provider) -> None:
    method = make_method(provider, "sandbox", secrets={"webhook_secret": "x"})
    payment = _paid(client_account, method)
    with pytest.raises(RefundError) as exc:
        actions.refund_payment(payment=payment, idempotency_key="r")
    assert exc.value.code == "refunds_not_supported"


def test_gateway_refusal_reverses_the_debit(
    client_account: Client, stripe_method: PaymentMethod
) -> None:
    payment = _paid(client_account, stripe_method)
    transport = RecordedTransport()
    transport.add(
        "POST",
        "https://api.stripe.com/v1/refunds",
        400,
        json.dumps(
            {"error": {"type": "invalid_request_error", "code": "charge_already_refunded"}}
        ).encode(),
    )
    with use_transport(transport):
        refund = actions.refund_payment(payment=payment, amount=usd(4000), idempotency_key="r1")
    assert (refund.status, refund.failure_code) == (RefundStatus.FAILED, "charge_already_refunded")
    assert _legs(f"refund:{refund.pk}:reversal") == [
        (AccountKind.CLIENT_BALANCE, 4000),
        (AccountKind.GATEWAY_CLEARING, -4000),
    ]
    payment.refresh_from_db()
    assert payment.refunded_minor == 0
    assert balance(client_account) == 10000
