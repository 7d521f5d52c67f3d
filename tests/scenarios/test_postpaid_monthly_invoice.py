"""Scenario: a post-paid client's charges of March are invoiced once, on 1 April, unpaid with a
due date; a payment settles the invoice (reference §1.12, §1.14)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from billow.billing.actions import resume_paid_services, set_client_billing_settings
from billow.billing.models import BillingPolicy, Expense
from billow.billing.monthly import issue_monthly_invoices
from billow.invoicing.models import Invoice, InvoiceStatus, TaxRule
from billow.services.states import ServiceStatus
from tests.billing.world import World, at

pytestmark = pytest.mark.django_db


def test_one_invoice_on_april_1_with_the_march_charges_and_the_due_date() -> None:
    # given a post-paid client (invoices due in 10 days) with a 30.00/month VPS opened on
    # 5 March and a 1.00/day service opened on 25 March, billed every day
    world = World()
    BillingPolicy.objects.create(provider=world.provider, currency="USD", invoice_due_days=10)
    client = world.client()
    set_client_billing_settings(client=client, currency="USD", postpaid=True, block_days=0)
    vps = world.service(client, world.tariff("VPS", {"1m": 3000}), date(2025, 3, 5))
    daily = world.service(
        client, world.tariff("Daily", {"day": 100}), date(2025, 3, 25), period="day", auto_renew=""
    )
    for d in range(26, 32):
        world.bill(date(2025, 3, d))
    # then nothing is documented during the month
    assert not Invoice.objects.filter(client=client).exists()
    # when April begins: the run charges 1 April, then the monthly invoices are issued
    world.bill(date(2025, 4, 1))
    report = issue_monthly_invoices(day=date(2025, 4, 1), now=at(date(2025, 4, 1), 0))
    # then ONE invoice holds March's charges: 30.00 + 7 days x 1.00, due 11 April, unpaid
    (invoice,) = Invoice.objects.filter(client=client)
    assert report.as_dict() == {"postpaid": 1, "debts": 0}
    assert (invoice.subtotal_minor, invoice.tax_minor, invoice.total_minor) == (3700, 0, 3700)
    assert (invoice.status, invoice.due_on) == (InvoiceStatus.ISSUED, date(2025, 4, 11))
    lines = list(invoice.lines.values_list("period_from", "period_to", "total_minor"))
    assert lines == [
        (date(2025, 3, 5), date(2025, 4, 5), 3000),
        *[(date(2025, 3, d), date(2025, 3, d + 1), 100) for d in range(25, 31)],
        (date(2025, 3, 31), date(2025, 4, 1), 100),
    ]
    assert sum(line[2] for line in lines) == invoice.total_minor
    march = Expense.objects.filter(client=client, period_from__lt=date(2025, 4, 1))
    assert set(march.values_list("invoice_id", flat=True)) == {invoice.pk}
    # and 1 April's charge waits for May's invoice
    april = Expense.objects.get(client=client, service=daily, period_from=date(2025, 4, 1))
    assert april.invoice_id is None
    # when the job runs again that month: nothing more
    again = issue_monthly_invoices(day=date(2025, 4, 2), now=at(date(2025, 4, 2), 0))
    assert again.as_dict() == {"postpaid": 0, "debts": 0}
    assert Invoice.objects.filter(client=client).count() == 1
    # when the invoice is overdue: post-paid services are never suspended
    world.bill(date(2025, 4, 20))
    assert world.refresh(vps).status == ServiceStatus.ACTIVE
    assert world.refresh(daily).status == ServiceStatus.ACTIVE
    # when the client pays the 37.00 of March
    assert world.balance(client) == -3700 - 20 * 100 - 3000  # + 1-20 April daily, April's VPS
    world.topup(client, 3700)
    resume_paid_services(client_id=client.pk, currency="USD", now=at(date(2025, 4, 21)))
    # then the invoice is paid
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID


def test_the_monthly_invoice_carries_the_tax_and_is_settled_by_the_gross() -> None:
    # given a post-paid client, 19 % VAT added, a 30.00/month VPS opened on 5 March
    world = World()
    TaxRule.objects.create(provider=world.provider, name="VAT", rate=Decimal(19))
    client = world.client()
    set_client_billing_settings(client=client, currency="USD", postpaid=True)
    world.service(client, world.tariff("VPS", {"1m": 3000}), date(2025, 3, 5))
    # when April begins and April's period is charged on the 5th
    world.bill(date(2025, 4, 1))
    (invoice,) = [
        Invoice.objects.get(pk=pk)
        for pk in issue_monthly_invoices(day=date(2025, 4, 1), now=at(date(2025, 4, 1), 0)).postpaid
    ]
    world.bill(date(2025, 4, 5))
    # then March's invoice: net 30.00, VAT 5.70, total 35.70, due in 14 days (no policy)
    assert (invoice.subtotal_minor, invoice.tax_minor, invoice.total_minor) == (3000, 570, 3570)
    assert invoice.due_on == date(2025, 4, 15)
    assert list(invoice.lines.values_list("net_minor", "tax_minor", "total_minor")) == [
        (3000, 570, 3570)
    ]
    assert world.balance(client) == -2 * 3570
    # when the client pays one cent less than March's gross: still unpaid
    world.topup(client, 3569)
    resume_paid_services(client_id=client.pk, currency="USD", now=at(date(2025, 4, 6)))
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.ISSUED
    # when the last cent comes: paid (April's 35.70 stays owed for May's invoice)
    world.topup(client, 1)
    resume_paid_services(client_id=client.pk, currency="USD", now=at(date(2025, 4, 7)))
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID
    assert world.balance(client) == -3570
