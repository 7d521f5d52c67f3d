"""The bonus program in a real browser: a new client accepts the program's terms (the welcome
bonus arrives), orders a VPS whose final checkout step says "you will earn 120 Club points",
pays 5.00 of it with points and the rest from the balance, and finds every movement, with its
source, on the bonus page."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from huey.contrib.djhuey import HUEY
from playwright.sync_api import Page, expect

from billow.accounts.models import Client
from billow.marketing.bonus.models import BonusAccount, BonusRule
from billow.orders.models import Order
from billow.services import actions as services
from billow.services.modules.dummy import reset_store
from tests.billing.world import World
from tests.e2e.conftest import sign_up_and_verify
from tests.marketing.bonus_world import program

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
EMAIL = "loyal@example.com"
PASSWORD = "a-long-bonus-2026"


@pytest.fixture
def jobs_at_once() -> Iterator[None]:
    reset_store()
    previous = HUEY.immediate
    HUEY.immediate = True
    try:
        yield
    finally:
        HUEY.immediate = previous
        reset_store()


def test_consent_earn_pay_partly_with_points_and_history(
    live_server: Any, page: Page, smtp: Any, jobs_at_once: None
) -> None:
    base = live_server.url
    world = World()
    vps = world.tariff("VPS Basic", {"1m": 1200})
    services.create_module_instance(
        module="dummy", name="dummy-bonus", product_types=[world.product_type]
    )
    p = program(
        world,
        consent_required=True,
        consent_text="Club points are not money and expire after a year.",
        consent_version="2026-1",
        welcome_enabled=True,
        welcome_points=500,
        max_share_percent=Decimal(50),
    )
    BonusRule.objects.create(
        program=p, name="10%", trigger="first_purchase", kind="percent", percent=Decimal(10)
    )
    page.set_viewport_size({"width": 1280, "height": 900})
    sign_up_and_verify(page, base, smtp, EMAIL, PASSWORD)
    client = Client.objects.get(email=EMAIL)
    world.topup(client, 2000)

    # consent: the terms, a tick, the welcome bonus
    page.goto(f"{base}/billing/bonus/")
    expect(page.get_by_text("Club points are not money")).to_be_visible()
    # the account was opened at sign-up; the welcome bonus waits for the consent
    expect(page.locator("#bonus-status")).to_have_text("Waiting for your consent")
    expect(page.locator("#bonus-balance")).to_have_text("0")
    page.locator("#bonus-agree").check()
    page.get_by_role("button", name="Join the program").click()
    expect(page.locator("#bonus-status")).to_have_text("Active")
    expect(page.locator("#bonus-balance")).to_have_text("500")
    account = BonusAccount.objects.get(client=client)
    assert account.consent_version == "2026-1" and account.consent_ip == "127.0.0.1"

    # the order: "you will earn", then 500 points pay 5.00 of the 12.00
    page.goto(f"{base}/order/{vps.pk}/")
    page.get_by_role("button", name="Add to cart").click()
    page.get_by_role("link", name="Checkout").click()
    page.get_by_label("Pay from the balance").check()
    page.get_by_role("button", name="Continue").click()
    expect(page.locator("#checkout-total")).to_have_text("$12.00")
    expect(page.locator("#checkout-earn")).to_contain_text(
        "You will earn 120 Club points with this order."
    )
    page.fill("#bonus-points", "500")
    page.locator("#bonus-apply").click()
    expect(page.locator("#checkout-bonus")).to_have_text("−$5.00")  # noqa: RUF001
    expect(page.locator("#checkout-due")).to_have_text("$7.00")
    page.get_by_role("button", name="Pay $7.00").click()
    order = Order.objects.get(client=client)
    expect(page).to_have_url(f"{base}/orders/{order.pk}/")
    expect(page.locator("#order-status")).to_have_text("Paid")
    assert world.balance(client) == 2000 - 700

    # the history: welcome, paid with points, accrued on the order
    page.goto(f"{base}/billing/bonus/")
    expect(page.locator("#bonus-balance")).to_have_text("120")
    rows = page.locator("#bonus-history tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.nth(0)).to_contain_text("+120")
    expect(rows.nth(1)).to_contain_text("Paid with points")
    expect(rows.nth(1)).to_contain_text("-500")
    expect(rows.nth(2)).to_contain_text("Welcome bonus")
    page.set_viewport_size({"width": 375, "height": 800})
    page.goto(f"{base}/billing/bonus/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
