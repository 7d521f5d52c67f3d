"""Scenario: a credit-limit client past its respite and block-in days is suspended by the run
and resumed by a payment (reference §1.14)."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine

from billow.billing.actions import renew_service, resume_paid_services, set_client_billing_settings
from billow.billing.errors import InsufficientFundsError
from billow.billing.monthly import issue_monthly_invoices
from billow.billing.overdue import OverdueState
from billow.billing.terms import get_overdue
from billow.core.money import Money
from billow.invoicing.models import Invoice, InvoiceStatus
from billow.payments import actions as payments
from billow.services.states import ServiceStatus
from tests.billing.world import World, at, db_state
from tests.payments.conftest import make_method

pytestmark = pytest.mark.django_db


def test_blocked_after_respite_and_block_in_days_then_resumed_by_a_payment() -> None:
    # given a client with a 100.00 credit limit, a 5-day respite and block-in 25 days, and a
    # 30.00/month service opened on 3 March on credit
    world = World()
    tariff = world.tariff("VPS", {"1m": 3000})
    client = world.client()
    set_client_billing_settings(
        client=client, currency="USD", credit_limit_minor=10_000, respite_days=5, block_days=25
    )
    service = world.service(client, tariff, date(2025, 3, 3))
    assert world.balance(client) == -3000
    # when April begins: the debt of March is invoiced, due 14 days later (the default)
    world.bill(date(2025, 4, 1))
    report = issue_monthly_invoices(day=date(2025, 4, 1), now=at(date(2025, 4, 1), 0))
    # (its charges were documented when charged: this one asks for the money)
    (invoice,) = Invoice.objects.filter(client=client, reference__startswith="debt:")
    assert report.as_dict() == {"postpaid": 0, "debts": 1}
    assert (invoice.total_minor, invoice.tax_minor, invoice.status) == (3000, 0, "issued")
    assert invoice.due_on == date(2025, 4, 15)
    # and a second start of the month issues nothing more
    again = issue_monthly_invoices(day=date(2025, 4, 1), now=at(date(2025, 4, 1), 1))
    assert again.as_dict() == {"postpaid": 0, "debts": 0}
    # when April renews on credit and the due date passes
    world.bill(date(2025, 4, 3))
    assert world.balance(client) == -6000
    assert get_overdue(client.pk, "USD", date(2025, 4, 15)).state == OverdueState.NONE
    assert get_overdue(client.pk, "USD", date(2025, 4, 16)).state == OverdueState.IN_RESPITE
    assert get_overdue(client.pk, "USD", date(2025, 4, 20)).state == OverdueState.IN_RESPITE
    assert get_overdue(client.pk, "USD", date(2025, 4, 21)).state == OverdueState.RESPITE_OVER
    # then the service keeps running through the respite and until the block date
    run = world.bill(date(2025, 4, 25))
    assert world.refresh(service).status == ServiceStatus.ACTIVE
    assert run.report["suspended"] == 0
    # when the block date comes (issued 1 April + 25 days = 26 April)
    assert get_overdue(client.pk, "USD", date(2025, 4, 26)).state == OverdueState.BLOCKED
    run = world.bill(date(2025, 4, 26))
    # then the run suspends the service for non-payment and charges nothing
    service = world.refresh(service)
    assert service.status == ServiceStatus.SUSPENDED_NONPAYMENT
    assert service.paid_until == date(2025, 5, 3)
    assert run.report["suspended"] == 1
    assert world.balance(client) == -6000
    # and the next day's run keeps it suspended
    world.bill(date(2025, 4, 27))
    assert world.refresh(service).status == ServiceStatus.SUSPENDED_NONPAYMENT
    # and a blocked client cannot renew by hand on its credit either: nothing changes
    before = db_state()
    with (
        time_machine.travel(at(date(2025, 4, 27)), tick=False),
        pytest.raises(InsufficientFundsError),
    ):
        renew_service(service=world.refresh(service))
    assert db_state() == before
    # when the client pays 20.00 (not the 30.00 of March): still blocked
    world.topup(client, 2000)
    assert (
        resume_paid_services(client_id=client.pk, currency="USD", now=at(date(2025, 4, 28))) == []
    )
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.ISSUED
    # when it pays 10.00 more through a payment method: March is paid, the invoice settled and
    # the service resumed in the payment's transaction
    method = make_method(world.provider, "sandbox", secrets={"webhook_secret": "s"})
    payment = payments.create_payment(client=client, amount=Money(1000, "USD"), method=method)
    payments.mark_payment_paid(payment=payment, now=at(date(2025, 4, 29)))
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID
    service = world.refresh(service)
    assert (service.status, service.paid_until) == (ServiceStatus.ACTIVE, date(2025, 5, 3))
    assert world.balance(client) == -3000  # April's 30.00 stays owed, within the limit
    assert world.events(service)[-2:] == [
        ("service.suspended", "active", "suspended_nonpayment"),
        ("service.resumed", "suspended_nonpayment", "active"),
    ]
