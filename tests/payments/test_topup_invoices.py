"""A top-up gets one invoice that follows its payment: issued while a bank transfer is pending,
paid when the money arrives (issued paid for a card paid at once), cancelled if it fails."""

from __future__ import annotations

from typing import Any

import pytest

from billow.accounts.models import Client
from billow.core.money import Money
from billow.invoicing.models import Invoice, InvoiceLine
from billow.payments import actions
from billow.payments.models import PaymentMethod
from tests.payments.conftest import T0

pytestmark = pytest.mark.django_db


def invoices() -> list[tuple[Any, ...]]:
    return list(
        Invoice.objects.order_by("pk").values_list("reference", "status", "total_minor", "number")
    )


def lines(invoice_ref: str) -> list[tuple[Any, ...]]:
    return list(
        InvoiceLine.objects.filter(invoice__reference=invoice_ref)
        .order_by("position")
        .values_list("description", "total_minor", "tax_minor")
    )


def test_bank_transfer_top_up_is_invoiced_then_paid(
    client_account: Client, bank: PaymentMethod, django_capture_on_commit_callbacks: Any
) -> None:
    payment = actions.create_payment(client=client_account, amount=Money(10000, "USD"), method=bank)
    ref = f"payment:{payment.pk}"
    with django_capture_on_commit_callbacks(execute=True):
        actions.start_payment(payment=payment)
    # then the payer has an invoice to pay against: amount + the method's fixed commission
    assert invoices() == [(ref, "issued", 10050, 1)]
    assert lines(ref) == [("Balance top-up", 10000, 0), ("Payment commission", 50, 0)]
    with django_capture_on_commit_callbacks(execute=True):
        actions.mark_payment_paid(payment=payment, now=T0)
    assert invoices() == [(ref, "paid", 10050, 1)]
    assert Invoice.objects.get().paid_at == T0
    # a repeated hook (a webhook replay) changes nothing
    with django_capture_on_commit_callbacks(execute=True):
        actions.mark_payment_paid(payment=payment, now=T0)
    assert invoices() == [(ref, "paid", 10050, 1)]


def test_card_top_up_paid_at_once_is_issued_paid(
    client_account: Client, stripe_method: PaymentMethod, django_capture_on_commit_callbacks: Any
) -> None:
    payment = actions.create_payment(
        client=client_account, amount=Money(10000, "USD"), method=stripe_method
    )
    with django_capture_on_commit_callbacks(execute=True):
        actions.mark_payment_paid(payment=payment, now=T0)
    ref = f"payment:{payment.pk}"
    assert invoices() == [(ref, "paid", 10320, 1)]
    assert lines(ref) == [("Balance top-up", 10000, 0), ("Payment commission", 320, 0)]


def test_failed_top_up_cancels_its_invoice_and_orders_get_none(
    client_account: Client, bank: PaymentMethod, django_capture_on_commit_callbacks: Any
) -> None:
    payment = actions.create_payment(client=client_account, amount=Money(700, "USD"), method=bank)
    with django_capture_on_commit_callbacks(execute=True):
        actions.start_payment(payment=payment)
    with django_capture_on_commit_callbacks(execute=True):
        actions.mark_payment_cancelled(payment=payment, code="expired")
    assert invoices() == [(f"payment:{payment.pk}", "cancelled", 750, 1)]
    order_payment = actions.create_payment(
        client=client_account, amount=Money(700, "USD"), method=bank, reference="order:9"
    )
    with django_capture_on_commit_callbacks(execute=True):
        actions.start_payment(payment=order_payment)
        actions.mark_payment_paid(payment=order_payment)
    assert len(invoices()) == 1  # the order has its own invoice (issued at checkout)
