"""Staff admin: bank transfer marked paid, refunds, write-only secrets, read-only history."""

from __future__ import annotations

from typing import Any

import pytest

from billow.accounts.models import Client, Provider
from billow.core.money import Money
from billow.payments import actions
from billow.payments.models import Payment, PaymentMethod, Refund
from billow.payments.secrets import get_secrets
from billow.payments.states import PaymentStatus
from tests.payments.conftest import balance

pytestmark = pytest.mark.django_db
CHANGELIST = "/admin/payments/payment/"


def _action(admin_client: Any, name: str, payment: Payment) -> Any:
    return admin_client.post(
        CHANGELIST, {"action": name, "_selected_action": [payment.pk]}, follow=True
    )


def test_mark_bank_transfer_paid(
    admin_client: Any, client_account: Client, bank: PaymentMethod
) -> None:
    payment = actions.start_payment(
        payment=actions.create_payment(
            client=client_account, amount=Money(10000, "USD"), method=bank
        )
    )
    response = _action(admin_client, "mark_paid", payment)
    assert response.status_code == 200
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PAID
    assert payment.events.last().actor_kind == "staff"  # type: ignore[union-attr]
    assert balance(client_account) == 10000


def test_mark_paid_refused_for_gateway_methods(
    admin_client: Any, client_account: Client, sandbox: PaymentMethod
) -> None:
    payment = actions.start_payment(
        payment=actions.create_payment(
            client=client_account, amount=Money(100, "USD"), method=sandbox
        )
    )
    response = _action(admin_client, "mark_paid", payment)
    assert "not_manual_method" in response.content.decode()
    assert Payment.objects.get(pk=payment.pk).status == PaymentStatus.PENDING


def test_refund_in_full_to_balance(
    admin_client: Any, client_account: Client, sandbox: PaymentMethod
) -> None:
    payment = actions.mark_payment_paid(
        payment=actions.create_payment(
            client=client_account, amount=Money(100, "USD"), method=sandbox
        )
    )
    _action(admin_client, "refund_to_balance", payment)
    refund = Refund.objects.get()
    assert (refund.amount_minor, refund.destination, refund.status) == (100, "balance", "succeeded")


def test_payments_are_read_only(
    admin_client: Any, client_account: Client, sandbox: PaymentMethod
) -> None:
    payment = actions.create_payment(
        client=client_account, amount=Money(100, "USD"), method=sandbox
    )
    assert admin_client.get(f"{CHANGELIST}{payment.pk}/change/").status_code == 200
    assert admin_client.get(f"{CHANGELIST}add/").status_code == 403
    for url in (
        "/admin/payments/refund/",
        "/admin/payments/webhookevent/",
        "/admin/payments/savedpaymentmethod/",
    ):
        assert admin_client.get(url).status_code == 200


def test_method_secrets_are_write_only(admin_client: Any, provider: Provider) -> None:
    data = {
        "provider": provider.pk,
        "gateway": "stripe",
        "name": "Cards",
        "currency": "USD",
        "fee_fixed_minor": 30,
        "fee_percent": "2.9",
        "min_amount_minor": 100,
        "max_amount_minor": "",
        "sort": 1,
        "is_active": "on",
        "supports_refunds": "on",
        "config": '{"success_url": "https://b.example.com/ok"}',
        "secrets": '{"secret_key": "sk_test_abc", "webhook_secret": "whsec_abc"}',
    }
    response = admin_client.post("/admin/payments/paymentmethod/add/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    method = PaymentMethod.objects.get(name="Cards")
    assert get_secrets(method) == {"secret_key": "sk_test_abc", "webhook_secret": "whsec_abc"}
    page = admin_client.get(f"/admin/payments/paymentmethod/{method.pk}/change/")
    assert "sk_test_abc" not in page.content.decode()
    bad = admin_client.post(
        "/admin/payments/paymentmethod/add/",
        {**data, "name": "Bad", "secrets": '{"password": "x"}'},
    )
    assert bad.status_code == 200
    assert "Unknown secrets: password" in bad.content.decode()
    assert not PaymentMethod.objects.filter(name="Bad").exists()
