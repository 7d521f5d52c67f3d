"""Webhook idempotency: verify -> dedupe by event id -> apply (sandbox-signed events)."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection

from billow.accounts.models import Client
from billow.core.money import Money
from billow.ledger.models import LedgerTransaction
from billow.payments import actions
from billow.payments.errors import WebhookError
from billow.payments.gateways.sandbox import webhooks as sandbox_events
from billow.payments.models import Payment, PaymentMethod, WebhookEvent
from billow.payments.states import PaymentStatus
from tests.payments.conftest import SANDBOX_SECRET, HookRecorder, balance, db_state


def _event(
    payment: Payment,
    succeeded: bool = True,
    amount: int | None = None,
    secret: str = SANDBOX_SECRET,
) -> tuple[dict[str, str], bytes]:
    return sandbox_events.build_event(
        payment_id=payment.pk,
        reference=f"sbx_{payment.pk}",
        amount_minor=payment.total_minor if amount is None else amount,
        currency="USD",
        succeeded=succeeded,
        save_method=False,
        secret=secret,
    )


def _started(client: Client, method: PaymentMethod, amount: int = 2500) -> Payment:
    payment = actions.create_payment(client=client, amount=Money(amount, "USD"), method=method)
    return actions.start_payment(payment=payment)


@pytest.mark.django_db
def test_same_event_50_times_credits_once(
    client_account: Client,
    sandbox: PaymentMethod,
    recorded_hooks: HookRecorder,
    django_capture_on_commit_callbacks: Any,
) -> None:
    payment = _started(client_account, sandbox)
    headers, body = _event(payment)
    with django_capture_on_commit_callbacks(execute=True):
        events = [
            actions.handle_webhook(gateway="sandbox", headers=headers, body=body) for _ in range(50)
        ]
    assert len({e.pk for e in events}) == 1
    assert WebhookEvent.objects.count() == 1
    assert LedgerTransaction.objects.filter(kind="payment").count() == 1
    assert balance(client_account) == 2500
    assert len(recorded_hooks.credited) == 1


@pytest.mark.django_db
def test_failed_after_paid_keeps_paid(client_account: Client, sandbox: PaymentMethod) -> None:
    payment = _started(client_account, sandbox)
    paid_h, paid_b = _event(payment, succeeded=True)
    fail_h, fail_b = _event(payment, succeeded=False)
    actions.handle_webhook(gateway="sandbox", headers=paid_h, body=paid_b)
    late = actions.handle_webhook(gateway="sandbox", headers=fail_h, body=fail_b)
    assert (late.status, late.result_code) == ("ignored", "payment_already_paid")
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PAID
    assert balance(client_account) == 2500


@pytest.mark.django_db
def test_failed_then_paid_ends_paid(client_account: Client, sandbox: PaymentMethod) -> None:
    payment = _started(client_account, sandbox)
    for succeeded in (False, True):
        headers, body = _event(payment, succeeded=succeeded)
        actions.handle_webhook(gateway="sandbox", headers=headers, body=body)
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PAID
    assert balance(client_account) == 2500


@pytest.mark.django_db
def test_amount_mismatch_is_rejected(client_account: Client, sandbox: PaymentMethod) -> None:
    payment = _started(client_account, sandbox)
    headers, body = _event(payment, amount=1)
    event = actions.handle_webhook(gateway="sandbox", headers=headers, body=body)
    assert (event.status, event.result_code) == ("rejected", "amount_mismatch")
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PENDING
    assert balance(client_account) == 0


@pytest.mark.django_db
def test_unknown_payment_is_ignored(client_account: Client, sandbox: PaymentMethod) -> None:
    payment = _started(client_account, sandbox)
    headers, body = sandbox_events.build_event(
        payment_id=999999,
        reference="sbx_999999",
        amount_minor=1,
        currency="USD",
        succeeded=True,
        save_method=False,
        secret=SANDBOX_SECRET,
    )
    event = actions.handle_webhook(gateway="sandbox", headers=headers, body=body)
    assert (event.status, event.result_code, event.payment_id) == (
        "ignored",
        "payment_not_found",
        None,
    )
    assert Payment.objects.get(pk=payment.pk).status == PaymentStatus.PENDING


@pytest.mark.django_db
def test_wrong_secret_writes_nothing(client_account: Client, sandbox: PaymentMethod) -> None:
    payment = _started(client_account, sandbox)
    headers, body = _event(payment, secret="not-the-secret")
    before = db_state()
    with pytest.raises(WebhookError) as exc:
        actions.handle_webhook(gateway="sandbox", headers=headers, body=body)
    assert exc.value.code == "webhook_signature_invalid"
    assert db_state() == before


@pytest.mark.django_db
def test_bank_transfer_has_no_webhooks(bank: PaymentMethod) -> None:
    with pytest.raises(WebhookError) as exc:
        actions.handle_webhook(gateway="bank_transfer", headers={}, body=b"{}")
    assert exc.value.code == "webhooks_not_supported"


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_concurrent_deliveries_credit_once(client_account: Client, sandbox: PaymentMethod) -> None:
    # given one event delivered by 20 threads at once
    payment = _started(client_account, sandbox)
    headers, body = _event(payment)
    barrier = threading.Barrier(20)
    errors: list[BaseException] = []

    def deliver() -> None:
        try:
            barrier.wait()
            actions.handle_webhook(gateway="sandbox", headers=headers, body=body)
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # then one event row, one ledger transaction, the balance credited once
    assert errors == []
    assert WebhookEvent.objects.count() == 1
    assert LedgerTransaction.objects.filter(kind="payment").count() == 1
    assert balance(client_account) == 2500
