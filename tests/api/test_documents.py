"""The client's documents through the API: one list of invoices and credit notes with the
client area's filters (issue days, status, kind), paginated; invoice and credit note detail
with the seller and buyer blocks and line periods; PDFs; another client's documents are 404."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from billow.invoicing.actions import (
    InvoiceLineInput,
    issue_credit_note,
    issue_invoice,
    mark_invoice_paid,
)
from tests.api.test_commerce import Buyer, usd
from tests.orders import shop as shop_fixtures
from tests.orders.shop import Shop

pytestmark = pytest.mark.django_db
_isolated = shop_fixtures._isolated
shop = shop_fixtures.shop
MARCH = datetime(2027, 3, 10, 12, 0, tzinfo=UTC)
APRIL = datetime(2027, 4, 2, 9, 0, tzinfo=UTC)


def line(net: int, tax: int, **kw: Any) -> InvoiceLineInput:
    return InvoiceLineInput("VPS-S renewal", 1, net, 0, net, Decimal(19), tax, net + tax, **kw)


@pytest.fixture
def docs(shop: Shop) -> dict[str, Any]:
    """Buyer 1: a March invoice (issued, with a period), an April invoice (paid) and a credit
    note on it; buyer 2: an invoice and a credit note of its own."""
    a, b = Buyer(shop, n=1), Buyer(shop, n=2)
    march = issue_invoice(
        provider=shop.provider,
        client=a.client,
        currency="USD",
        lines=[line(1000, 190, period_from=date(2027, 3, 10), period_to=date(2027, 4, 10))],
        now=MARCH,
    )
    april = issue_invoice(
        provider=shop.provider, client=a.client, currency="USD", lines=[line(2000, 380)], now=APRIL
    )
    mark_invoice_paid(invoice=april, now=APRIL)
    note = issue_credit_note(invoice=april, amount_minor=1190, reason="downgrade", now=APRIL)
    theirs = issue_invoice(
        provider=shop.provider, client=b.client, currency="USD", lines=[line(500, 95)], now=APRIL
    )
    their_note = issue_credit_note(invoice=theirs, amount_minor=100, now=APRIL)
    return {
        "a": a,
        "b": b,
        "march": march,
        "april": april,
        "note": note,
        "theirs": theirs,
        "their_note": their_note,
    }


def numbers(response: Any) -> list[str]:
    assert response.status_code == 200, response.json()
    return [row["number"] for row in response.json()["results"]]


def test_the_document_list(docs: dict[str, Any]) -> None:
    body = docs["a"].get("documents/").json()
    assert body["count"] == 3
    first, second, third = body["results"]
    assert first == {
        "kind": "invoice",
        "id": docs["april"].pk,
        "number": "INV-2027-000002",
        "status": "paid",
        "provider_id": docs["april"].provider_id,
        "invoice_id": None,
        "currency": "USD",
        "total": usd(2380),
        "issued_at": "2027-04-02T09:00:00Z",
        "pdf": f"/api/v1/invoices/{docs['april'].pk}/pdf/",
    }
    assert (second["kind"], second["number"], second["status"]) == (
        "credit_note",
        "CN-2027-000001",
        "issued",
    )
    assert (second["invoice_id"], second["total"]) == (docs["april"].pk, usd(1190))
    assert second["pdf"] == f"/api/v1/credit-notes/{docs['note'].pk}/pdf/"
    assert third["number"] == "INV-2027-000001"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("date_from=2027-04-01", ["INV-2027-000002", "CN-2027-000001"]),
        ("date_to=2027-03-31", ["INV-2027-000001"]),
        ("status=paid", ["INV-2027-000002"]),
        ("status=issued", ["CN-2027-000001", "INV-2027-000001"]),
        ("kind=credit_note", ["CN-2027-000001"]),
        ("kind=invoice&status=issued", ["INV-2027-000001"]),
        ("page_size=1&page=2", ["CN-2027-000001"]),
    ],
)
def test_document_filters(docs: dict[str, Any], query: str, expected: list[str]) -> None:
    assert numbers(docs["a"].get(f"documents/?{query}")) == expected


def test_invoice_list_takes_the_same_day_filters(docs: dict[str, Any]) -> None:
    assert numbers(docs["a"].get("invoices/?date_from=2027-04-01")) == ["INV-2027-000002"]
    assert numbers(docs["a"].get("invoices/?date_to=2027-03-10")) == ["INV-2027-000001"]


@pytest.mark.parametrize(
    "query", ["date_from=2027-04-02&date_to=2027-04-01", "kind=receipt", "status=lost"]
)
def test_a_bad_filter_is_a_validation_error(docs: dict[str, Any], query: str) -> None:
    response = docs["a"].get(f"documents/?{query}")
    assert (response.status_code, response.json()["code"]) == (400, "validation_error")


def test_invoice_detail_has_both_parties_and_line_periods(docs: dict[str, Any]) -> None:
    body = docs["a"].get(f"invoices/{docs['march'].pk}/").json()
    assert body["seller"]["name"] == "Cloudy"
    assert body["buyer"] == {"name": "Buyer 1", "email": "buyer1@example.com", "country": "DE"}
    (only,) = body["lines"]
    assert (only["period_from"], only["period_to"]) == ("2027-03-10", "2027-04-10")
    assert (only["net"], only["tax_rate"], only["tax"]) == (usd(1000), "19.000", usd(190))


def test_credit_note_detail_and_pdf(docs: dict[str, Any]) -> None:
    pypdf = pytest.importorskip("pypdf")
    note = docs["note"]
    body = docs["a"].get(f"credit-notes/{note.pk}/").json()
    assert body == {
        "id": note.pk,
        "number": "CN-2027-000001",
        "invoice_id": docs["april"].pk,
        "invoice_number": "INV-2027-000002",
        "provider_id": note.provider_id,
        "currency": "USD",
        "amount": usd(1190),
        "reason": "downgrade",
        "reference": "",
        "issued_at": "2027-04-02T09:00:00Z",
        "seller": body["seller"],
        "buyer": {"name": "Buyer 1", "email": "buyer1@example.com", "country": "DE"},
    }
    assert body["seller"]["name"] == "Cloudy"
    pdf = docs["a"].get(f"credit-notes/{note.pk}/pdf/")
    assert (pdf.status_code, pdf["Content-Type"]) == (200, "application/pdf")
    assert pdf["Content-Disposition"] == 'inline; filename="CN-2027-000001.pdf"'
    text = "".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf.content)).pages)
    assert "Credited 11.90 USD" in text


def test_another_clients_documents_are_404_and_never_listed(docs: dict[str, Any]) -> None:
    b = docs["b"]
    assert numbers(b.get("documents/")) == ["INV-2027-000003", "CN-2027-000002"]
    for url in (
        f"invoices/{docs['march'].pk}/",
        f"invoices/{docs['march'].pk}/pdf/",
        f"credit-notes/{docs['note'].pk}/",
        f"credit-notes/{docs['note'].pk}/pdf/",
    ):
        assert b.get(url).status_code == 404, url
    assert docs["a"].get(f"credit-notes/{docs['their_note'].pk}/").status_code == 404
