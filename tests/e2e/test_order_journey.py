"""The ordering path in a real browser: a new client signs up, orders a VPS with addons, enters
a promo code on the final checkout step and sees the price drop, pays on the sandbox gateway
page, lands on the paid order with the service active; the next order opens directly on the
final step with the saved payer and method. Saves the README screenshots."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from huey.contrib.djhuey import HUEY
from playwright.sync_api import Page, expect

from billow.accounts.actions import create_payer
from billow.accounts.models import Client
from billow.catalog import actions as catalog
from billow.catalog.models import Tariff
from billow.marketing.promos.actions import create_promo_code
from billow.marketing.promos.models import Promotion, PromotionDiscount
from billow.orders.models import Order
from billow.payments.actions import configure_payment_method
from billow.payments.models import Payment, PaymentMethod
from billow.services import actions as services
from billow.services.models import Service
from billow.services.modules.dummy import reset_store
from tests.billing.world import World
from tests.e2e.conftest import sign_up_and_verify

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
# Not the journey test's address: allauth rate-limits verification mails per address (cache).
EMAIL = "shopper@example.com"
PASSWORD = "a-long-order-2025"


@pytest.fixture
def jobs_at_once() -> Iterator[None]:
    """Module operations run inside the request that enqueues them (the live server's thread),
    so the opened service is active when the browser lands on the order page."""
    reset_store()
    previous = HUEY.immediate
    HUEY.immediate = True
    try:
        yield
    finally:
        HUEY.immediate = previous
        reset_store()


def open_shop(world: World) -> tuple[Tariff, PaymentMethod]:
    """VPS Pro (12.00 a month, 1 GB RAM and 1 vCPU included, each extra GB 2.00, each extra vCPU
    3.00; an OS to choose), a dummy module, a sandbox card method and promo code SPRING (-20 %)."""
    catalog.add_product_type_parameter(
        product_type=world.product_type,
        name="Operating system",
        intname="os",
        values=[("debian-12", "Debian 12"), ("ubuntu-24.04", "Ubuntu 24.04")],
    )
    vps = world.tariff("VPS Pro", {"1m": 1200, "12m": 12000})
    for intname, name, unit, price in (("ram", "RAM", "GB", 200), ("cpu", "CPU", "vCPU", 300)):
        catalog.create_addon(
            tariff=vps,
            intname=intname,
            name=name,
            unit=unit,
            value_type="int",
            billing_type="on_order",
            currency="USD",
            unit_price_minor=price,
            included=1,
            min_value=1,
            max_value=16,
            default_value=1,
        )
    services.create_module_instance(
        module="dummy", name="dummy-e2e", product_types=[world.product_type]
    )
    method = configure_payment_method(
        method=PaymentMethod(
            provider=world.provider, gateway="sandbox", name="Card (sandbox)", currency="USD"
        ),
        secrets={"webhook_secret": "sbx_e2e_secret"},
    )
    promo = Promotion.objects.create(provider=world.provider, name="Spring", title="Spring")
    PromotionDiscount.objects.create(promotion=promo, target="all", kind="percent", percent="20")
    create_promo_code(promotion=promo, code="SPRING")
    return vps, method


def configure_vps(page: Page, base: str, ram: str, cpu: str, total: str) -> None:
    page.goto(f"{base}/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Order").click()
    page.get_by_role("link", name="Configure VPS Pro").click()
    page.fill("#id_addon_ram", ram)
    page.fill("#id_addon_cpu", cpu)
    page.select_option("#id_param_os", label="Debian 12")
    expect(page.locator("#item-total")).to_have_text(total)
    page.get_by_role("button", name="Add to cart").click()
    expect(page.get_by_role("heading", name="Cart", exact=True)).to_be_visible()
    page.get_by_role("link", name="Checkout").click()


def test_order_a_vps_with_a_promo_code_pay_on_the_sandbox_page_and_reorder(
    live_server: Any, page: Page, smtp: Any, jobs_at_once: None
) -> None:
    base = live_server.url
    world = World()  # the provider sign-ups connect to
    vps, method = open_shop(world)
    page.set_viewport_size({"width": 1280, "height": 900})

    # a new client signs up and verifies the email; they have a payer
    sign_up_and_verify(page, base, smtp, EMAIL, PASSWORD)
    client = Client.objects.get(email=EMAIL)
    payer = create_payer(client=client, kind="individual", name="Jane Doe")

    # a VPS with 4 GB RAM and 2 vCPUs: 12.00 + 3 x 2.00 + 1 x 3.00 = 21.00
    configure_vps(page, base, ram="4", cpu="2", total="$21.00")
    # the first checkout asks for the payer and the method
    expect(page.locator("#checkout-details")).to_be_visible()
    page.select_option("#co-payer", label="Jane Doe")
    page.get_by_label("Card (sandbox)").check()
    page.get_by_role("button", name="Continue").click()

    # the final step: the promo code drops the price by 20 % (htmx)
    expect(page.locator("#checkout-total")).to_have_text("$21.00")
    page.fill("#promo-code", "spring")
    page.get_by_role("button", name="Apply").click()
    expect(page.locator("#checkout-total")).to_have_text("$16.80")
    expect(page.locator("#checkout-discount")).to_have_text("−$4.20")  # noqa: RUF001
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "checkout-final-step.png"), full_page=True)

    # pay on the sandbox gateway page
    page.get_by_role("button", name="Pay $16.80").click()
    expect(page.locator("#total")).to_contain_text("16.80")
    page.get_by_role("button", name="Succeed").click()

    # back on the order page: paid, the service active
    order = Order.objects.get(client=client)
    expect(page).to_have_url(f"{base}/orders/{order.pk}/")
    expect(page.locator("#order-status")).to_have_text("Paid")
    expect(page.locator("[data-service-status]")).to_have_text("Active")
    expect(page.get_by_text(f"order:{order.pk}")).to_be_visible()
    order.refresh_from_db()
    assert (order.status, order.total_minor, order.discount_minor) == ("paid", 1680, 420)
    assert (order.payer_id, order.payment_method) == (payer.pk, str(method.pk))
    payment = Payment.objects.get(reference=f"order:{order.pk}")
    assert (payment.status, payment.amount_minor) == ("paid", 1680)
    service = Service.objects.get(client=client)
    assert (service.status, service.addon_values, service.parameters) == (
        "active",
        {"ram": 4, "cpu": 2},
        {"os": "debian-12"},
    )
    page.screenshot(path=str(SHOTS / "order-paid.png"), full_page=True)

    # the next order opens directly on the final step with the saved payer and method
    configure_vps(page, base, ram="1", cpu="1", total="$12.00")
    expect(page.locator("#checkout-details")).to_have_count(0)
    expect(page.locator("#chosen-payer")).to_have_text("Jane Doe")
    expect(page.locator("#chosen-method")).to_have_text("Card (sandbox)")
    expect(page.locator("#checkout-total")).to_have_text("$12.00")

    # and the ordering pages fit a 375 px wide phone
    page.set_viewport_size({"width": 375, "height": 800})
    for path in ("/checkout/", "/order/", f"/order/{vps.pk}/", "/cart/", f"/orders/{order.pk}/"):
        page.goto(base + path)
        assert page.evaluate("document.documentElement.scrollWidth") <= 375, path
