"""Invoices: gapless numbers, credit notes, tax rule selection (PDF: test_pdf, email:
test_delivery)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from billow.accounts.models import ClientGroup
from billow.core.errors import BillowError
from billow.invoicing.actions import InvoiceLineInput, issue_credit_note, issue_invoice
from billow.invoicing.models import CreditNote, Invoice, TaxRule
from billow.invoicing.selectors import list_tax_rules_for_payer
from tests.orders.shop import T0, Shop

pytestmark = pytest.mark.django_db


def line(net: int = 1000, tax: int = 190) -> InvoiceLineInput:
    return InvoiceLineInput("VPS-S (1m)", 1, net, 0, net, Decimal(19), tax, net + tax)


def test_numbers_are_consecutive_per_provider_and_year(shop: Shop) -> None:
    client = shop.client()
    nums = [
        issue_invoice(
            provider=shop.provider, client=client, currency="USD", lines=[line()]
        ).display_number
        for _ in range(3)
    ]
    assert nums == ["INV-2027-000001", "INV-2027-000002", "INV-2027-000003"]
    with pytest.raises(BillowError) as exc:
        issue_invoice(provider=shop.provider, client=client, currency="USD", lines=[])
    assert exc.value.code == "invoice_empty"
    nxt = issue_invoice(
        provider=shop.provider,
        client=client,
        currency="USD",
        lines=[line()],
        now=T0.replace(year=2028),
    )
    assert nxt.display_number == "INV-2028-000001"
    assert Invoice.objects.count() == 4


def test_credit_notes_never_exceed_the_invoice(shop: Shop) -> None:
    inv = issue_invoice(
        provider=shop.provider, client=shop.client(), currency="USD", lines=[line()]
    )
    cn = issue_credit_note(invoice=inv, amount_minor=1000, reason="refund")
    assert (cn.display_number, cn.amount_minor) == ("CN-2027-000001", 1000)
    for amount, code in ((191, "credit_note_exceeds_invoice"), (0, "invalid_credit_amount")):
        with pytest.raises(BillowError) as exc:
            issue_credit_note(invoice=inv, amount_minor=amount)
        assert exc.value.code == code
    assert CreditNote.objects.count() == 1
    assert issue_credit_note(invoice=inv, amount_minor=190).number == 2


def test_tax_rule_selection(shop: Shop) -> None:
    p = shop.provider
    eu = ClientGroup.objects.create(name="EU business")
    TaxRule.objects.create(provider=p, name="any", rate=5)
    TaxRule.objects.create(provider=p, name="DE", country="DE", rate=19)
    TaxRule.objects.create(provider=p, name="US", country="US", rate=0)
    TaxRule.objects.create(provider=p, name="US-NY", country="US", region="NY", rate=4)
    TaxRule.objects.create(provider=p, name="reverse", client_group=eu, country="DE", rate=0)

    def names(group_ids: list[int], country: str, region: str = "") -> list[str]:
        rules = list_tax_rules_for_payer(
            provider_id=p.pk, group_ids=group_ids, country=country, region=region
        )
        return sorted(r.name for r in rules)

    assert names([], "DE") == ["DE"]
    assert names([], "FR") == ["any"]
    assert names([], "US", "NY") == ["US", "US-NY"]
    assert names([], "US", "CA") == ["US"]
    assert names([eu.pk], "DE") == ["reverse"]
