"""The client area's document list: invoices and credit notes together, filtered by the days
they were issued, status and type, money formatted, a PDF for each; only the client's own."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest

from billow.invoicing.actions import issue_credit_note, issue_invoice, mark_invoice_paid
from tests.web.conftest import WebWorld
from tests.web.money_world import T_INVOICE, MoneyWorld, invoice_line, money_world

pytestmark = pytest.mark.django_db
APRIL = datetime(2027, 4, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def m(web: WebWorld) -> MoneyWorld:
    return money_world(web)


def documents(html: str) -> list[str]:
    """The document numbers of the page, in order."""
    import re

    table = html[html.index('<table id="documents">') :]
    return re.findall(r">((?:INV|CN)-\d{4}-\d{6})<", table)


@pytest.fixture
def april(web: WebWorld, m: MoneyWorld) -> None:
    """Besides A's March invoice (issued): an April invoice paid, a credit note on it; B has
    an invoice and a credit note of its own."""
    paid = issue_invoice(
        provider=web.world.provider,
        client=web.a.client,
        currency="USD",
        lines=[invoice_line(2000, 380)],
        now=APRIL,
    )
    mark_invoice_paid(invoice=paid, now=APRIL)
    issue_credit_note(invoice=paid, amount_minor=1190, reason="downgrade", now=APRIL)
    theirs = issue_invoice(
        provider=web.world.provider,
        client=web.b.client,
        currency="USD",
        lines=[invoice_line(5000, 950)],
        now=APRIL,
    )
    issue_credit_note(invoice=theirs, amount_minor=100, now=APRIL)


def test_invoices_and_credit_notes_newest_first_with_formatted_money(
    web: WebWorld, april: None
) -> None:
    html = web.a.http.get("/billing/invoices/").content.decode()
    # INV-2025-000001: the opening charge of A's service (web world), paid from the balance
    assert documents(html) == [
        "INV-2027-000002",
        "CN-2027-000001",
        "INV-2027-000001",
        "INV-2025-000001",
    ]
    assert '<td data-label="Total" class="num">$23.80</td>' in html
    assert '<td data-label="Total" class="num">\u2212$11.90</td>' in html
    assert '<span class="pill s-paid">Paid</span>' in html
    assert "Credit note" in html


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("date_from=2027-04-01", ["INV-2027-000002", "CN-2027-000001"]),
        ("date_to=2027-03-31", ["INV-2027-000001", "INV-2025-000001"]),
        ("date_from=2027-03-10&date_to=2027-03-10", ["INV-2027-000001"]),
        ("status=paid", ["INV-2027-000002", "INV-2025-000001"]),
        ("status=issued", ["CN-2027-000001", "INV-2027-000001"]),
        ("status=cancelled", []),
        ("kind=credit_note", ["CN-2027-000001"]),
        ("kind=invoice&date_from=2027-04-01", ["INV-2027-000002"]),
    ],
)
def test_filters(web: WebWorld, april: None, query: str, expected: list[str]) -> None:
    response = web.a.http.get(f"/billing/invoices/?{query}")
    assert response.status_code == 200
    assert documents(response.content.decode()) == expected


def test_a_bad_filter_shows_the_error_and_no_rows(web: WebWorld, april: None) -> None:
    response = web.a.http.get("/billing/invoices/?date_from=2027-04-02&date_to=2027-04-01")
    assert response.status_code == 400
    html = response.content.decode()
    assert "The end date is before the start date." in html
    assert documents(html) == []


def test_pdfs_of_invoices_and_credit_notes(web: WebWorld, april: None) -> None:
    pypdf = pytest.importorskip("pypdf")
    html = web.a.http.get("/billing/invoices/?kind=credit_note").content.decode()
    note_url = html[html.index("/billing/credit-notes/") :].split('"')[0]
    response = web.a.http.get(note_url)
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="CN-2027-000001.pdf"'
    text = "".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(response.content)).pages)
    assert "Credit note CN-2027-000001" in text and "Credited 11.90 USD" in text


def test_client_b_never_sees_a_document_of_client_a(
    web: WebWorld, m: MoneyWorld, april: None
) -> None:
    theirs = web.b.http.get("/billing/invoices/").content.decode()
    assert documents(theirs) == ["INV-2027-000003", "CN-2027-000002", "INV-2025-000002"]
    note_of_a = m.invoice.credit_notes.model.objects.get(invoice__client=web.a.client)
    assert web.b.http.get(f"/billing/credit-notes/{note_of_a.pk}/pdf/").status_code == 404
    assert web.b.http.get(f"/billing/invoices/{m.invoice.pk}/pdf/").status_code == 404
    for query in ("kind=credit_note", "status=paid", "date_from=2027-03-01"):
        page = web.b.http.get(f"/billing/invoices/?{query}").content.decode()
        assert not {"INV-2027-000001", "INV-2027-000002", "CN-2027-000001"} & set(documents(page))


def test_the_list_pages_and_keeps_the_filters(web: WebWorld, m: MoneyWorld) -> None:
    for day in range(1, 53):
        issue_invoice(
            provider=web.world.provider,
            client=web.a.client,
            currency="USD",
            lines=[invoice_line(100, 19)],
            now=T_INVOICE.replace(month=5, day=1 + day % 28),
        )
    html = web.a.http.get("/billing/invoices/?kind=invoice").content.decode()
    assert len(documents(html)) == 50
    assert 'href="?kind=invoice&amp;page=2"' in html
    second = web.a.http.get("/billing/invoices/?kind=invoice&page=2").content.decode()
    assert documents(second)[-2:] == ["INV-2027-000001", "INV-2025-000001"]
    assert len(documents(second)) == 4


def test_the_invoice_page_shows_each_lines_service_period(web: WebWorld, m: MoneyWorld) -> None:
    from datetime import date

    from billow.invoicing.actions import InvoiceLineInput

    line = InvoiceLineInput(
        "VPS S renewal",
        1,
        1000,
        0,
        1000,
        invoice_line(1, 0).tax_rate,
        190,
        1190,
        period_from=date(2027, 4, 1),
        period_to=date(2027, 5, 1),
    )
    inv = issue_invoice(
        provider=web.world.provider, client=web.a.client, currency="USD", lines=[line], now=APRIL
    )
    html = web.a.http.get(f"/billing/invoices/{inv.pk}/").content.decode()
    assert '<span class="muted period">Apr 1, 2027 \u2013 Apr 30, 2027</span>' in html
