"""The janitor resolves unknown and stale pending payments by asking the gateway."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from billow.accounts.models import Client
from billow.core.money import Money
from billow.jobs.schedule import SCHEDULE
from billow.payments import actions
from billow.payments.gateways.transport import RecordedTransport, use_transport
from billow.payments.models import Payment, PaymentMethod
from billow.payments.states import PaymentStatus
from tests.payments.conftest import T0, balance
from tests.payments.gateways.recorded import body as recorded_body

pytestmark = pytest.mark.django_db
API = "https://api.yookassa.ru/v3"
YK_ID = "2e5f8a41-000f-5000-9000-1c7a2b3d4e5f"


def _unknown_yookassa(client: Client, method: PaymentMethod) -> Payment:
    # given a start that timed out: no answer, so the payment is unknown
    payment = actions.create_payment(
        client=client, amount=Money(150000, "RUB"), method=method, now=T0
    )
    with use_transport(RecordedTransport()):  # nothing recorded: the call "times out"
        payment = actions.start_payment(payment=payment, now=T0)
    assert (payment.status, payment.failure_code) == (PaymentStatus.UNKNOWN, "gateway_unreachable")
    return payment


def test_unknown_without_reference_is_started_again(
    client_account: Client, yookassa_method: PaymentMethod
) -> None:
    payment = _unknown_yookassa(client_account, yookassa_method)
    transport = RecordedTransport()
    transport.add(
        "POST",
        f"{API}/payments",
        200,
        recorded_body("yookassa_payment_succeeded", payment_id=payment.pk),
    )
    with use_transport(transport):
        report = actions.resolve_open_payments(now=T0 + timedelta(minutes=1))
    assert report == {"paid": 1}
    # the same Idempotence-Key as the first try: the gateway returns the same payment
    assert transport.calls[0].headers["Idempotence-Key"] == (
        f"billow-payment-{payment.idempotency_key}"
    )
    payment.refresh_from_db()
    assert (payment.status, payment.gateway_reference) == (PaymentStatus.PAID, YK_ID)
    assert balance(client_account, "RUB") == 150000


def test_unknown_with_reference_is_fetched(
    client_account: Client, yookassa_method: PaymentMethod
) -> None:
    payment = _unknown_yookassa(client_account, yookassa_method)
    Payment.objects.filter(pk=payment.pk).update(gateway_reference=YK_ID)
    transport = RecordedTransport()
    transport.add(
        "GET",
        f"{API}/payments/{YK_ID}",
        200,
        recorded_body("yookassa_payment_canceled", payment_id=payment.pk),
    )
    with use_transport(transport):
        assert actions.resolve_open_payments(now=T0) == {"failed": 1}
    assert Payment.objects.get(pk=payment.pk).status == PaymentStatus.FAILED


def test_still_unreachable_stays_unknown(
    client_account: Client, yookassa_method: PaymentMethod
) -> None:
    payment = _unknown_yookassa(client_account, yookassa_method)
    with use_transport(RecordedTransport()):
        assert actions.resolve_open_payments(now=T0) == {"still_unknown": 1}
    assert Payment.objects.get(pk=payment.pk).status == PaymentStatus.UNKNOWN


def test_stale_pending_fetched_then_expired(
    client_account: Client, yookassa_method: PaymentMethod
) -> None:
    payment = actions.create_payment(
        client=client_account, amount=Money(150000, "RUB"), method=yookassa_method, now=T0
    )
    transport = RecordedTransport()
    transport.add(
        "POST",
        f"{API}/payments",
        200,
        recorded_body("yookassa_payment_pending", payment_id=payment.pk),
    )
    transport.add(
        "GET",
        f"{API}/payments/{YK_ID}",
        200,
        recorded_body("yookassa_payment_pending", payment_id=payment.pk),
    )
    with use_transport(transport):
        actions.start_payment(payment=payment, now=T0)
        # fresh pending: not asked yet
        assert actions.resolve_open_payments(now=T0 + timedelta(minutes=5)) == {}
        # stale: asked, still pending
        assert actions.resolve_open_payments(now=T0 + timedelta(minutes=20)) == {"pending": 1}
        # a week later: cancelled as expired
        report = actions.resolve_open_payments(now=T0 + timedelta(days=7, minutes=1))
    assert report == {"cancelled": 1}
    payment.refresh_from_db()
    assert (payment.status, payment.failure_code) == (PaymentStatus.CANCELLED, "expired")
    assert [c.method for c in transport.calls] == ["POST", "GET", "GET"]


def test_bank_transfers_wait_for_staff(client_account: Client, bank: PaymentMethod) -> None:
    payment = actions.create_payment(
        client=client_account, amount=Money(100, "USD"), method=bank, now=T0
    )
    actions.start_payment(payment=payment, now=T0)
    report = actions.resolve_open_payments(now=T0 + timedelta(days=30))
    assert report == {"awaiting_staff": 1}
    assert Payment.objects.get(pk=payment.pk).status == PaymentStatus.PENDING


def test_janitor_is_scheduled() -> None:
    rows = {row.name: row for row in SCHEDULE}
    assert rows["payments_janitor"].target == "billow.payments.tasks.resolve_payments"
    assert rows["payments_janitor"].cron == "*/5 * * * *"
    assert json.dumps(rows["payments_janitor"].cron)
