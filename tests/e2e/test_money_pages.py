"""The money pages in a real browser at 375 px: the htmx commission preview, a sandbox top-up
paid on the hosted page, a bank transfer's instructions; no page scrolls sideways."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.payments.conftest import balance
from tests.web import conftest as web_conftest
from tests.web.conftest import WebWorld
from tests.web.money_world import money_world

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
#: Set BILLOW_SHOTS to a folder to keep screenshots of the pages.
SHOTS = os.environ.get("BILLOW_SHOTS", "")
web = web_conftest.web  # the client-area world fixture


def fits(page: Page, name: str) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= 375, name
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"money-{name}.png"), full_page=True)


def test_top_up_preview_sandbox_and_bank_transfer_at_375px(
    live_server: Any, page: Page, web: WebWorld
) -> None:
    m = money_world(web)
    base = live_server.url
    session = web.a.http.cookies["sessionid"].value
    page.context.add_cookies([{"name": "sessionid", "value": session, "url": base}])
    page.set_viewport_size({"width": 375, "height": 800})

    # the preview follows the amount and the method (htmx)
    page.goto(f"{base}/billing/top-up/")
    page.fill("#id_amount", "100")
    expect(page.locator("#q-total")).to_have_text("$103.20")
    expect(page.locator("#id_save_method")).to_be_visible()
    expect(page.get_by_role("button", name="Pay $103.20 with Visa •••• 4242")).to_be_visible()
    fits(page, "top-up")
    page.get_by_label("Bank transfer").check()
    expect(page.locator("#q-total")).to_have_text("$100.50")
    expect(page.locator("#id_save_method")).to_have_count(0)

    # a bank transfer: the payment page with the instructions
    page.get_by_role("button", name="Continue to payment").click()
    expect(page.locator("#instructions")).to_contain_text("Transfer 100.50 USD")
    fits(page, "bank-transfer")

    # a sandbox top-up, paid on the hosted page, back to the payment: paid
    page.goto(f"{base}/billing/top-up/")
    page.fill("#id_amount", "20")
    expect(page.locator("#q-total")).to_have_text("$20.88")  # 0.30 + 0.58
    page.get_by_role("button", name="Continue to payment").click()
    expect(page.locator("#total")).to_have_text("20.88 USD")
    page.locator("button[value=succeed]").click()
    expect(page.locator("#status")).to_have_text("Paid")
    assert balance(web.a.client) == 49000 + 2000
    fits(page, "payment")

    for name, url in [
        ("payments", "/billing/payments/"),
        ("invoices", "/billing/invoices/"),
        ("invoice", f"/billing/invoices/{m.invoice.pk}/"),
        ("methods", "/billing/methods/"),
        ("statement", "/billing/"),
    ]:
        page.goto(f"{base}{url}")
        fits(page, name)
