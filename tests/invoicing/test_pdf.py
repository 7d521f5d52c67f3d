"""Invoice and credit note PDFs: seller and buyer blocks from the snapshots, service periods,
VAT lines per rate, totals, reverse charge, due date; read back with pypdf."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse

from billow.accounts.actions import create_payer, update_payer
from billow.accounts.models import Client, Payer, Provider
from billow.invoicing.actions import InvoiceLineInput, issue_credit_note, issue_invoice
from billow.invoicing.models import Invoice
from billow.invoicing.pdf import (
    last_day,
    render_credit_note_pdf,
    render_invoice_pdf,
    tax_lines,
)
from tests.orders.shop import Shop

pytestmark = pytest.mark.django_db
pypdf = pytest.importorskip("pypdf")


def pdf_text(pdf: bytes) -> str:
    assert pdf[:5] == b"%PDF-"
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages)


def seller(provider: Provider) -> Provider:
    provider.legal_name = "Cloudy Hosting GmbH"
    provider.legal_address = "Hauptstr. 1\n10115 Berlin"
    provider.country = "DE"
    provider.tax_id = "DE811907980"
    provider.bank_name = "Sparkasse Berlin"
    provider.iban = "DE89370400440532013000"
    provider.bic = "COBADEFFXXX"
    provider.save()
    return provider


def buyer(client: Client) -> Payer:
    return create_payer(
        client=client,
        kind="company",
        name="Acme SARL",
        email="ap@acme.test",
        tax_id="FR40303265045",
        legal_country="FR",
        legal_city="Paris",
        legal_postcode="75001",
        legal_address="1 rue de Rivoli",
    )


def renewal_line(net: int, rate: int, tax: int, **kw: object) -> InvoiceLineInput:
    return InvoiceLineInput(
        description="VPS-S #17 renewal",
        quantity=1,
        unit_price_minor=net,
        discount_minor=0,
        net_minor=net,
        tax_rate=Decimal(rate),
        tax_minor=tax,
        total_minor=net + tax,
        **kw,  # type: ignore[arg-type]
    )


def test_invoice_pdf_has_both_parties_periods_vat_lines_and_totals(shop: Shop) -> None:
    # given a seller with legal and bank details, a company payer, two rates
    provider = seller(shop.provider)
    client = shop.client()
    payer = buyer(client)
    inv = issue_invoice(
        provider=provider,
        client=client,
        payer=payer,
        currency="USD",
        paid=True,
        lines=[
            renewal_line(1000, 19, 190, period_from=date(2027, 3, 10), period_to=date(2027, 4, 10)),
            renewal_line(500, 19, 95),
            renewal_line(250, 7, 18),
        ],
    )
    # when the provider and payer change after the issue
    provider.legal_name = "Renamed AG"
    provider.save()
    update_payer(payer=payer, name="Renamed SARL")
    text = pdf_text(render_invoice_pdf(Invoice.objects.get(pk=inv.pk)))
    # then the PDF shows the parties as they were at issue
    for expected in (
        "Invoice INV-2027-000001",
        "Cloudy Hosting GmbH",
        "Hauptstr. 1",
        "DE811907980",
        "DE89370400440532013000",
        "COBADEFFXXX",
        "Payment reference: INV-2027-000001",
        "Acme SARL",
        "1 rue de Rivoli",
        "FR40303265045",
        "Period: 2027-03-10 \u2013 2027-04-09",
        "VAT 19 % on 15.00 USD",
        "2.85 USD",
        "VAT 7 % on 2.50 USD",
        "0.18 USD",
        "17.50 USD",
        "20.53 USD",
        "Paid (2027-03-10)",
    ):
        assert expected in text, expected
    assert "Renamed" not in text
    assert "Reverse charge" not in text
    assert text.count("Period:") == 1


def test_reverse_charge_note_and_due_date_when_the_invoice_has_them(shop: Shop) -> None:
    inv = issue_invoice(
        provider=seller(shop.provider),
        client=shop.client(),
        currency="USD",
        lines=[renewal_line(1000, 0, 0)],
    )
    # the flag and the date other branches add: read with getattr, shown when set
    inv.reverse_charge = True  # type: ignore[attr-defined]
    inv.due_on = date(2027, 3, 24)  # type: ignore[attr-defined]
    text = pdf_text(render_invoice_pdf(inv))
    assert "Reverse charge" in text
    assert "Due date: 2027-03-24" in text
    assert "VAT 0 % on 10.00 USD" in text


def test_invoice_pdf_in_the_clients_language(shop: Shop) -> None:
    inv = issue_invoice(
        provider=seller(shop.provider),
        client=shop.client(),
        currency="USD",
        lines=[renewal_line(1000, 19, 190, period_from=date(2027, 3, 10))],
    )
    ru = pdf_text(render_invoice_pdf(inv, language="ru"))
    es = pdf_text(render_invoice_pdf(inv, language="es"))
    assert "Счёт INV-2027-000001" in ru and "НДС 19 %" in ru
    assert "Factura INV-2027-000001" in es and "IVA 19 %" in es


def test_credit_note_pdf(shop: Shop) -> None:
    provider = seller(shop.provider)
    client = shop.client()
    inv = issue_invoice(
        provider=provider,
        client=client,
        payer=buyer(client),
        currency="USD",
        lines=[renewal_line(1000, 19, 190)],
    )
    note = issue_credit_note(invoice=inv, amount_minor=595, reason="Service deleted")
    text = pdf_text(render_credit_note_pdf(note))
    for expected in (
        "Credit note CN-2027-000001",
        "Corrects invoice INV-2027-000001 of 2027-03-10",
        "Reason: Service deleted",
        "Cloudy Hosting GmbH",
        "Acme SARL",
        "Credited 5.95 USD",
    ):
        assert expected in text, expected
    assert note.provider_snapshot["name"] == "Cloudy Hosting GmbH"
    assert note.payer_snapshot == inv.payer_snapshot


def test_tax_lines_group_by_rate_in_order_of_appearance() -> None:
    class L:
        def __init__(self, rate: str, net: int, tax: int) -> None:
            self.tax_rate, self.net_minor, self.tax_minor = Decimal(rate), net, tax

    rows = tax_lines([L("19.000", 1000, 190), L("7", 100, 7), L("19", 1, 0)], "EUR")
    assert [(r.rate, r.base, r.tax) for r in rows] == [
        (Decimal(19), "10.01 EUR", "1.90 EUR"),
        (Decimal(7), "1.00 EUR", "0.07 EUR"),
    ]


def test_staff_download_invoice_and_credit_note_pdfs_from_the_admin(
    shop: Shop, admin_client: Any
) -> None:
    inv = issue_invoice(
        provider=shop.provider,
        client=shop.client(),
        currency="USD",
        lines=[renewal_line(1000, 19, 190)],
    )
    note = issue_credit_note(invoice=inv, amount_minor=100)
    listing = admin_client.get(reverse("admin:invoicing_creditnote_changelist")).content.decode()
    assert reverse("admin:invoicing_creditnote_pdf", args=[note.pk]) in listing
    for name, pk, filename in (
        ("admin:invoicing_invoice_pdf", inv.pk, "INV-2027-000001.pdf"),
        ("admin:invoicing_creditnote_pdf", note.pk, "CN-2027-000001.pdf"),
    ):
        response = admin_client.get(reverse(name, args=[pk]))
        assert response["Content-Disposition"] == f'attachment; filename="{filename}"'
        assert response.content[:5] == b"%PDF-"


def test_last_day_of_a_period_whose_end_is_exclusive() -> None:
    assert last_day(date(2027, 3, 1), date(2027, 4, 1)) == date(2027, 3, 31)
    assert last_day(date(2027, 3, 1), date(2027, 3, 2)) == date(2027, 3, 1)
    assert last_day(date(2027, 3, 1), date(2027, 3, 1)) == date(2027, 3, 1)
    assert last_day(None, date(2027, 3, 1)) == date(2027, 2, 28)
    assert last_day(date(2027, 3, 1), None) is None


def test_a_credit_note_with_net_and_tax_parts_shows_them(shop: Shop) -> None:
    inv = issue_invoice(
        provider=shop.provider,
        client=shop.client(),
        currency="USD",
        lines=[renewal_line(1000, 19, 190)],
    )
    note = issue_credit_note(invoice=inv, amount_minor=595)
    # the parts other branches add to credit notes: read with getattr, shown when set
    note.subtotal_minor, note.tax_minor = 500, 95  # type: ignore[attr-defined]
    text = pdf_text(render_credit_note_pdf(note))
    assert "Net total 5.00 USD" in text
    assert "VAT 0.95 USD" in text
    assert "Credited 5.95 USD" in text
