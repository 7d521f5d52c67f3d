"""Invoices ahead of renewals (LowMoneyNoticePeriod rule) and the recommended amount."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from billow.accounts import actions as accounts
from billow.accounts.models import Client, InvoiceGeneration, Payer
from billow.billing.actions import resume_paid_services, set_client_billing_settings
from billow.billing.auto_invoice import (
    Renewal,
    issue_auto_invoices,
    recommended_payments,
    uncovered,
)
from billow.billing.models import BillingPolicy
from billow.invoicing.models import Invoice, InvoiceStatus, TaxRule
from tests.billing.world import World, at

D = date(2025, 5, 1)


def test_uncovered_spends_the_balance_in_order() -> None:
    a = Renewal(1, D, date(2025, 6, 1), 1000)
    b = Renewal(2, date(2025, 5, 3), date(2025, 6, 3), 1000)
    assert uncovered([a, b], 2000) == []
    assert uncovered([a, b], 300) == [Renewal(1, D, date(2025, 6, 1), 700), b]
    assert uncovered([a, b], 1000) == [b]
    assert uncovered([a, b], -500) == [Renewal(1, D, date(2025, 6, 1), 1000), b]


def paying_by_invoice(world: World, balance: int) -> Client:
    client = world.client(balance=balance)
    accounts.create_payer(client=client, kind="company", name="Acme Ltd", legal_country="DE")
    return client


@pytest.mark.django_db
def test_an_invoice_for_the_renewals_the_balance_does_not_cover() -> None:
    # given auto-invoices on, a client paying by invoice with 3.00 left after two 10.00
    # services renewing on 5 and 8 May (the window is 10 days)
    world = World()
    BillingPolicy.objects.create(provider=world.provider, currency="USD", auto_invoice=True)
    tariff = world.tariff("VPS", {"1m": 1000})
    client = paying_by_invoice(world, 2300)
    world.service(client, tariff, date(2025, 4, 5), name="alpha")
    world.service(client, tariff, date(2025, 4, 8), name="beta")
    assert world.balance(client) == 300
    assert [(r.amount_minor, r.need_minor) for r in recommended_payments(client.pk, day=D)] == [
        (1700, 2000)
    ]
    # when the day's job runs
    (invoice,) = issue_auto_invoices(day=D, now=at(D, 1))
    # then one invoice asks for 17.00: 7.00 of alpha's renewal and beta's 10.00, no due date
    assert (invoice.total_minor, invoice.tax_minor, invoice.status, invoice.due_on) == (
        1700,
        0,
        InvoiceStatus.ISSUED,
        None,
    )
    lines = list(invoice.lines.values_list("description", "total_minor"))
    assert [amount for _, amount in lines] == [700, 1000]
    assert lines[0][0].startswith("Renewal of alpha #")
    assert invoice.reference.startswith("auto:")
    # when the job runs again within the window: no second invoice
    assert issue_auto_invoices(day=date(2025, 5, 2), now=at(date(2025, 5, 2), 1)) == []
    # when the client pays it: the invoice is settled once the balance holds its total
    world.topup(client, 1700)
    resume_paid_services(client_id=client.pk, currency="USD", now=at(date(2025, 5, 2), 2))
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID


@pytest.mark.django_db
def test_no_auto_invoice_without_the_policy_a_payer_or_on_credit() -> None:
    world = World()
    policy = BillingPolicy.objects.create(provider=world.provider, currency="USD")
    tariff = world.tariff("VPS", {"1m": 1000})
    no_payer = world.client()
    on_credit = paying_by_invoice(world, 0)
    set_client_billing_settings(client=on_credit, currency="USD", credit_limit_minor=5000)
    by_card = paying_by_invoice(world, 0)
    Payer.objects.filter(client=by_card).update(invoice_generation=InvoiceGeneration.POSTPAID)
    plain = paying_by_invoice(world, 0)
    for client in (no_payer, on_credit, by_card, plain):
        world.service(client, tariff, date(2025, 4, 5), charge=False, paid_until=date(2025, 5, 5))
    # when the policy has auto-invoices off: none
    assert issue_auto_invoices(day=D, now=at(D, 1)) == []
    # when it is on: only the client paying by invoice on advance payments gets one
    policy.auto_invoice = True
    policy.save()
    (invoice,) = issue_auto_invoices(day=D, now=at(D, 1))
    assert (invoice.client_id, invoice.total_minor) == (plain.pk, 1000)
    assert Invoice.objects.count() == 1


@pytest.mark.django_db
def test_the_amounts_include_the_tax_added_on_top() -> None:
    # given 19 % VAT added and a client with 2.00 left before a 10.00 renewal in the window
    world = World()
    TaxRule.objects.create(provider=world.provider, name="VAT", rate=Decimal(19))
    BillingPolicy.objects.create(provider=world.provider, currency="USD", auto_invoice=True)
    client = paying_by_invoice(world, 0)
    world.service(
        client,
        world.tariff("VPS", {"1m": 1000}),
        date(2025, 4, 5),
        charge=False,
        paid_until=date(2025, 5, 5),
    )
    world.set_balance(client, 200)
    # then the renewal takes 11.90: 9.90 is recommended and invoiced
    (rec,) = recommended_payments(client.pk, day=D)
    assert (rec.need_minor, rec.available_minor, rec.amount_minor) == (1190, 200, 990)
    (invoice,) = issue_auto_invoices(day=D, now=at(D, 1))
    assert (invoice.total_minor, invoice.tax_minor) == (990, 0)
