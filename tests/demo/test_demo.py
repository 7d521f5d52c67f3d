"""The demo seed: it runs on an empty database, is idempotent, and its sample invoice renders
as a PDF with the right text (provider, payer, lines, tax, total)."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from typing import Any

import pytest
from huey.contrib.djhuey import HUEY

from billow.core import clock
from billow.demo.seed import seed_demo
from billow.invoicing.models import Invoice, InvoiceStatus
from billow.invoicing.pdf import render_invoice_pdf
from billow.ledger.selectors import get_reconcile_report
from billow.orders.models import Order, OrderStatus
from billow.payments.models import PaymentMethod
from billow.services.models import Service

pytestmark = pytest.mark.django_db
T0 = datetime(2027, 3, 1, 10, 0, tzinfo=UTC)


@pytest.fixture
def immediate_jobs() -> Any:
    previous = HUEY.immediate
    HUEY.immediate = True
    yield
    HUEY.immediate = previous


def test_demo_seeds_once_and_its_invoice_pdf_reads_right(
    immediate_jobs: Any, django_capture_on_commit_callbacks: Any
) -> None:
    pypdf = pytest.importorskip("pypdf")
    with clock.use_clock(clock.FixedClock(T0)), django_capture_on_commit_callbacks(execute=True):
        assert seed_demo() is True
    assert seed_demo() is False  # idempotent
    assert sorted(PaymentMethod.objects.values_list("gateway", "currency")) == [
        ("bank_transfer", "EUR"),
        ("sandbox", "EUR"),
        ("sandbox", "USD"),
    ]
    order = Order.objects.get(client__email="ops@globex.example")
    # VPS Pro, 13.90 EUR a month, calendar billing ordered on the 1st: a whole month, plus
    # 19 % German VAT (Globex's payer is in Germany): 2.641 -> 2.64 EUR.
    assert order.status == OrderStatus.PAID
    assert (order.subtotal_minor, order.tax_minor, order.total_minor) == (1390, 264, 1654)
    invoice = Invoice.objects.get(pk=order.invoice_id)
    assert (invoice.status, invoice.total_minor) == (InvoiceStatus.PAID, order.total_minor)
    service = Service.objects.get(pk=order.items.get().service_id)
    assert service.status == "active"
    pdf = render_invoice_pdf(invoice)
    assert pdf[:5] == b"%PDF-"
    text = "".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf)).pages)
    for expected in (
        str(invoice),
        "Billow Cloud",
        "Globex GmbH",
        "DE123456789",
        "VPS Pro",
        "13.90 EUR",
        "2.64 EUR",
        "16.54 EUR",
    ):
        assert expected in text, expected
    assert get_reconcile_report().ok
