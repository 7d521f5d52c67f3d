"""The client's documents in a real browser: open the invoice list, filter it by period,
download the renewal invoice's PDF and read it back (pypdf): the service period dates and the
VAT line are on it.

The renewal invoice is issued here through ``invoicing.actions.issue_invoice`` with a line that
carries its period and 19 % VAT, as the billing run's run-day invoice will (to be switched to a
real billing-run renewal once that run issues documents).
"""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from billow.accounts.models import Provider
from billow.invoicing.actions import InvoiceLineInput, issue_invoice
from billow.invoicing.models import Invoice
from tests.web import conftest as web_conftest
from tests.web.conftest import WebWorld

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
web = web_conftest.web  # the client-area world fixture
pypdf = pytest.importorskip("pypdf")


def renewal_invoice(web: WebWorld, *, issued: datetime, start: date, end: date) -> Invoice:
    """A paid run-day invoice of one service period (``end`` exclusive, as the billing run
    writes it): 10.00 net + 19 % VAT."""
    line = InvoiceLineInput(
        description="VPS S #1 (web01) renewal",
        quantity=1,
        unit_price_minor=1000,
        discount_minor=0,
        net_minor=1000,
        tax_rate=Decimal(19),
        tax_minor=190,
        total_minor=1190,
        period_from=start,
        period_to=end,
    )
    return issue_invoice(
        provider=web.world.provider,
        client=web.a.client,
        currency="USD",
        lines=[line],
        paid=True,
        reference="renewal",
        now=issued,
    )


def test_filter_the_invoice_list_by_period_and_download_the_renewal_pdf(
    live_server: Any, page: Page, web: WebWorld
) -> None:
    # given the provider's seller details, an October invoice and a November renewal
    Provider.objects.filter(pk=web.world.provider.pk).update(
        legal_name="Example Hosting GmbH", tax_id="DE811907980", iban="DE89370400440532013000"
    )
    web.world.provider.refresh_from_db()
    october = renewal_invoice(
        web,
        issued=datetime(2026, 10, 1, 3, 0, tzinfo=UTC),
        start=date(2026, 10, 1),
        end=date(2026, 11, 1),
    )
    november = renewal_invoice(
        web,
        issued=datetime(2026, 11, 1, 3, 0, tzinfo=UTC),
        start=date(2026, 11, 1),
        end=date(2026, 12, 1),
    )
    base = live_server.url
    session = web.a.http.cookies["sessionid"].value
    page.context.add_cookies([{"name": "sessionid", "value": session, "url": base}])

    # when the client opens the invoice list: both are there
    page.goto(f"{base}/billing/invoices/")
    expect(page.get_by_role("heading", name="Invoices and credit notes")).to_be_visible()
    rows = page.locator("#documents tbody tr")
    expect(rows).to_have_count(2)

    # and filters it by November
    page.fill("#f-from", "2026-11-01")
    page.fill("#f-to", "2026-11-30")
    page.get_by_role("button", name="Filter").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(november.display_number)
    expect(rows.first).to_contain_text("$11.90")
    expect(page.locator("#documents")).not_to_contain_text(october.display_number)

    # then the renewal's PDF downloads, and shows the period and the VAT line
    with page.expect_download() as info:
        rows.first.get_by_role("link", name="PDF").click()
    download = info.value
    assert download.suggested_filename == f"{november.display_number}.pdf"
    with open(download.path(), "rb") as pdf:
        reader = pypdf.PdfReader(io.BytesIO(pdf.read()))
    text = "\n".join(p.extract_text() for p in reader.pages)
    assert "Period: 2026-11-01 \u2013 2026-11-30" in text
    assert "VAT 19 % on 10.00 USD" in text
    assert "1.90 USD" in text and "11.90 USD" in text
    assert "Example Hosting GmbH" in text and "DE811907980" in text
