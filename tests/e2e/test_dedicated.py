"""A dedicated server of one's own configuration in a real browser: the client assembles it
on the order form (a field per component kind), sees the price and the availability follow
each choice (htmx), orders and pays it; the ready server is reserved and provisioned on the
local DCImanager 6. Saves docs/screenshots/dedicated-configure.png."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from huey.contrib.djhuey import HUEY
from playwright.sync_api import Page, expect

from billow.accounts.actions import create_payer
from billow.accounts.models import Client
from billow.catalog import actions as catalog
from billow.inventory.models import ReadyServer
from billow.inventory.publish import publish_configurable_tariff, value_of
from billow.orders.models import Order
from billow.payments.actions import configure_payment_method
from billow.payments.models import PaymentMethod
from billow.services import actions as services
from billow.services.models import Service
from billow.services.modules.dcimanager6.client import reset_tokens
from billow.services.modules.dcimanager6.testserver import DciState, LocalDci
from tests.billing.world import World
from tests.e2e.conftest import sign_up_and_verify
from tests.inventory.conftest import make_catalogue

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
EMAIL = "builder@example.com"
PASSWORD = "a-long-dedicated-2026"


@pytest.fixture
def panel() -> Iterator[LocalDci]:
    reset_tokens()
    previous = HUEY.immediate
    HUEY.immediate = True
    with LocalDci(DciState()) as dci:
        try:
            yield dci
        finally:
            HUEY.immediate = previous


def test_assemble_a_server_see_price_and_availability_and_order_it(
    live_server: Any, page: Page, smtp: Any, panel: LocalDci
) -> None:
    base = live_server.url
    world = World()
    cat = make_catalogue()
    pt = catalog.create_product_type(name="Dedicated servers", intname="dedicated")
    tariff = catalog.create_tariff(provider_id=world.provider.pk, product_type=pt, name="Own build")
    catalog.set_tariff_price(tariff=tariff, period="1m", currency="USD", amount_minor=0)
    publish_configurable_tariff(tariff=tariff, currency="USD")
    services.create_module_instance(
        module="dcimanager6",
        name="dci-e2e",
        config={"url": panel.url, "email": "admin@example.com", "task_poll_seconds": 0.0},
        secrets={"password": "secret"},
        product_types=[pt],
    )
    configure_payment_method(
        method=PaymentMethod(
            provider=world.provider, gateway="sandbox", name="Card (sandbox)", currency="USD"
        ),
        secrets={"webhook_secret": "sbx_e2e_secret"},
    )
    # one ready server of the small build, known to DCImanager
    small = cat.small()
    remote = panel.state.add_server(small.configuration, name="node-1")
    cat.add_server(small, name="node-1", dci_server_id=remote["id"])

    page.set_viewport_size({"width": 1280, "height": 900})
    sign_up_and_verify(page, base, smtp, EMAIL, PASSWORD)
    client = Client.objects.get(email=EMAIL)
    create_payer(client=client, kind="individual", name="Jane Doe")

    page.goto(f"{base}/order/{tariff.pk}/")
    page.select_option("#id_addon_chassis", value_of(cat.chassis.pk, 1))
    page.select_option("#id_addon_cpu", value_of(cat.cpu.pk, 1))
    page.select_option("#id_addon_disk", value_of(cat.ssd.pk, 2))
    # four modules: 40.00 + 35.00 + 4 x 8.00 + 2 x 12.50 = 132.00, assembled to order
    page.select_option("#id_addon_ram", value_of(cat.ddr5.pk, 4))
    expect(page.locator("#item-total")).to_have_text("$132.00")
    expect(page.locator("#dedicated-availability")).to_contain_text("Not in stock")
    # the memory field offers only what fits the DDR5 board, and says what is on order: the
    # two-module build is a ready server, four modules are bought first
    ram = "#id_addon_ram option[value='{}']"
    expect(page.locator(ram.format(value_of(cat.ddr4.pk, 2)))).to_have_count(0)
    expect(page.locator(ram.format(value_of(cat.ddr5.pk, 5)))).to_have_count(0)
    expect(page.locator(ram.format(value_of(cat.ddr5.pk, 2)))).to_have_text("2x 32GB DDR5")
    expect(page.locator(ram.format(value_of(cat.ddr5.pk, 4)))).to_contain_text(
        "4x 32GB DDR5 — on order, expected by"
    )
    # two modules: 116.00 and one ready server in stock
    page.select_option("#id_addon_ram", value_of(cat.ddr5.pk, 2))
    expect(page.locator("#item-total")).to_have_text("$116.00")
    expect(page.locator("#dedicated-availability")).to_have_text(
        "In stock: 1 server of this configuration, ready at once."
    )
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "dedicated-configure.png"), full_page=True)

    page.get_by_role("button", name="Add to cart").click()
    expect(page.get_by_role("heading", name="Cart", exact=True)).to_be_visible()
    page.get_by_role("link", name="Checkout").click()
    page.select_option("#co-payer", label="Jane Doe")
    page.get_by_label("Card (sandbox)").check()
    page.get_by_role("button", name="Continue").click()
    expect(page.locator("#checkout-total")).to_have_text("$116.00")
    page.get_by_role("button", name="Pay $116.00").click()
    page.get_by_role("button", name="Succeed").click()

    order = Order.objects.get(client=client)
    expect(page).to_have_url(f"{base}/orders/{order.pk}/")
    expect(page.locator("#order-status")).to_have_text("Paid")
    expect(page.locator("[data-service-status]")).to_have_text("Active")
    service = Service.objects.get(client=client)
    assert (service.status, service.external_id) == ("active", str(remote["id"]))
    assert ReadyServer.objects.get(name="node-1").service_id == service.pk
    assert remote["comment"] == f"billow:{service.pk}"

    # the service page: the server's IP, and the root password shown once
    page.goto(f"{base}/services/{service.pk}/")
    expect(page.locator("#server-ip")).to_have_text(f"192.0.2.{remote['id']}")
    page.locator("#show-credentials").click()
    expect(page.locator("#server-user")).to_have_text("root")
    expect(page.locator("#server-password")).to_have_text(re.compile(r"^[0-9a-f]{20}$"))
    page.goto(f"{base}/services/{service.pk}/")
    expect(page.locator("#show-credentials")).to_have_count(0)
    expect(page.locator("#dedicated-server")).to_contain_text("shown once")
