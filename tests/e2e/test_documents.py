"""The client's documents in a real browser: open the invoice list, filter it by period,
download the renewal invoice's PDF and read it back (pypdf): the service period dates and the
VAT line are on it. The renewals are the billing run's own: the run of each renewal day issues
the client's run-day invoice with the period's line and its 19 % VAT.
"""

from __future__ import annotations

import io
from datetime import date
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from billow.accounts.models import Provider
from billow.billing.run import run_billing
from billow.invoicing.models import Invoice, TaxRule
from billow.services.models import Service
from tests.web import conftest as web_conftest
from tests.web.conftest import WebWorld

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
web = web_conftest.web  # the client-area world fixture
pypdf = pytest.importorskip("pypdf")


def renewed_vps(web: WebWorld) -> Service:
    """Client A's VPS S (10.00 a month) opened on 10 September 2026 with 19 % VAT added, then
    renewed by the billing runs of 10 October and 10 November. (A's older web-1 service is
    paid far ahead, so the runs renew only this one.)"""
    TaxRule.objects.create(provider=web.world.provider, name="VAT 19 %", rate=19)
    Service.objects.filter(pk=web.a.service.pk).update(paid_until=date(2030, 1, 1))
    web.world.topup(web.a.client, 10_000)
    vps = web.world.service(web.a.client, web.tariff, date(2026, 9, 10), name="web01")
    run_billing(day=date(2026, 10, 10))
    run_billing(day=date(2026, 11, 10))
    return vps


def test_filter_the_invoice_list_by_period_and_download_the_renewal_pdf(
    live_server: Any, page: Page, web: WebWorld
) -> None:
    # given the provider's seller details and a VPS the October and November runs renewed
    Provider.objects.filter(pk=web.world.provider.pk).update(
        legal_name="Example Hosting GmbH", tax_id="DE811907980", iban="DE89370400440532013000"
    )
    web.world.provider.refresh_from_db()
    vps = renewed_vps(web)
    mine = Invoice.objects.filter(client=web.a.client, lines__service=vps).order_by("issued_at")
    september, october, november = mine
    assert [i.issued_at.date() for i in mine] == [
        date(2026, 9, 10),
        date(2026, 10, 10),
        date(2026, 11, 10),
    ]
    base = live_server.url
    session = web.a.http.cookies["sessionid"].value
    page.context.add_cookies([{"name": "sessionid", "value": session, "url": base}])

    # when the client opens the invoice list: the opening and both renewals are there (and
    # the opening invoice of A's older service)
    page.goto(f"{base}/billing/invoices/")
    expect(page.get_by_role("heading", name="Invoices and credit notes")).to_be_visible()
    rows = page.locator("#documents tbody tr")
    expect(rows).to_have_count(4)

    # and filters it by November
    page.fill("#f-from", "2026-11-01")
    page.fill("#f-to", "2026-11-30")
    page.get_by_role("button", name="Filter").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(november.display_number)
    expect(rows.first).to_contain_text("$11.90")
    expect(page.locator("#documents")).not_to_contain_text(october.display_number)
    expect(page.locator("#documents")).not_to_contain_text(september.display_number)

    # then the renewal's PDF downloads, and shows the period and the VAT line
    with page.expect_download() as info:
        rows.first.get_by_role("link", name="PDF").click()
    download = info.value
    assert download.suggested_filename == f"{november.display_number}.pdf"
    with open(download.path(), "rb") as pdf:
        reader = pypdf.PdfReader(io.BytesIO(pdf.read()))
    text = "\n".join(p.extract_text() for p in reader.pages)
    assert "Period: 2026-11-10 \u2013 2026-12-09" in text
    assert "VAT 19 % on 10.00 USD" in text
    assert "1.90 USD" in text and "11.90 USD" in text
    assert "Example Hosting GmbH" in text and "DE811907980" in text
