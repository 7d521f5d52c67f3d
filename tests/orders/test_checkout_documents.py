"""A checkout's charges carry their tax and are documented by the order's invoice, so a later
refund gives back its share of the tax with a credit note against that invoice (issue 12)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

import pytest

from billow.accounts.actions import create_payer
from billow.billing.actions import delete_service
from billow.billing.models import Expense
from billow.invoicing.models import CreditNote, Invoice, ProviderTaxProfile, TaxRule
from billow.ledger.models import AccountKind, LedgerAccount
from billow.ledger.selectors import get_reconcile_report
from billow.orders import actions, selectors
from billow.services.models import Service
from tests.orders.shop import Shop
from tests.orders.test_checkout import add

pytestmark = pytest.mark.django_db


def test_a_checkout_charge_records_its_tax_and_a_refund_gives_its_share_back(
    shop: Shop, django_capture_on_commit_callbacks: Any
) -> None:
    # given 19 % VAT added for German payers and a 16.00 VPS bought from the balance
    TaxRule.objects.create(provider=shop.provider, name="VAT DE", country="DE", rate=19)
    client = shop.client(balance=5000)
    add(shop, client)
    with django_capture_on_commit_callbacks(execute=True):  # the module opens it
        order = actions.checkout(client=client, provider_id=shop.provider.pk).order
    svc = Service.objects.get(client=client)
    charge = Expense.objects.get(service=svc)
    # then the charge records 3.04 tax added on 16.00 and the order's invoice documents it
    assert (charge.amount_minor, charge.tax_minor, charge.tax_added_minor) == (1600, 304, 304)
    assert charge.invoice_id == order.invoice_id
    assert shop.balance(client) == 5000 - 1904
    # when the service is deleted with a refund on 25 March (16 of 31 days unused)
    delete_service(
        service=svc,
        when="now",
        refund=True,
        now=datetime.combine(date(2027, 3, 25), time(12), tzinfo=UTC),
    )
    # then 16.00 x 16/31 = 8.26 comes back with 8.26 x 304/1600 = 1.57 of the tax
    refund = Expense.objects.get(service=svc, kind="refund")
    assert (refund.amount_minor, refund.tax_minor, refund.gross_minor) == (826, 157, 983)
    assert shop.balance(client) == 5000 - 1904 + 983
    payable = LedgerAccount.objects.get(kind=AccountKind.TAX_PAYABLE, provider=shop.provider)
    assert payable.balance_minor == 304 - 157
    # and a credit note corrects the order's invoice
    note = CreditNote.objects.get()
    assert (note.invoice_id, note.amount_minor, note.subtotal_minor, note.tax_minor) == (
        order.invoice_id,
        983,
        826,
        157,
    )
    assert refund.credit_note_id == note.pk
    assert get_reconcile_report().ok


def test_the_checkout_quote_applies_a_personal_rate(shop: Shop) -> None:
    # given 19 % for Germany and a personal 0 % for one client
    TaxRule.objects.create(provider=shop.provider, name="VAT DE", country="DE", rate=19)
    client = shop.client(balance=5000)
    TaxRule.objects.create(provider=shop.provider, name="Exempt", client=client, rate=0)
    add(shop, client)
    # when the cart is priced, then no tax is added for that client
    quote = selectors.get_cart_quote(client=client, provider_id=shop.provider.pk)
    assert (quote.tax.amount_minor, quote.total.amount_minor) == (0, 1600)


def test_a_checkout_by_an_eu_company_is_reverse_charged(shop: Shop) -> None:
    # given a provider registered for VAT in France with 20 % for French payers, and a German
    # company with a valid VAT number as the payer
    ProviderTaxProfile.objects.create(provider=shop.provider, country="FR")
    TaxRule.objects.create(provider=shop.provider, name="VAT DE", country="DE", rate=19)
    client = shop.client(balance=5000)
    payer = create_payer(
        client=client,
        kind="company",
        name="ACME GmbH",
        tax_id="DE136695976",
        country="DE",
        legal_country="DE",
    )
    add(shop, client)
    # when it checks out
    order = actions.checkout(client=client, provider_id=shop.provider.pk, payer=payer).order
    # then no VAT: the invoice says reverse charge and the charge records it
    assert (order.tax_minor, order.total_minor) == (0, 1600)
    invoice = Invoice.objects.get(pk=order.invoice_id)
    assert (invoice.reverse_charge, invoice.tax_minor) == (True, 0)
    charge = Expense.objects.get(client=client)
    assert (charge.reverse_charge, charge.tax_minor) == (True, 0)
    assert shop.balance(client) == 5000 - 1600
