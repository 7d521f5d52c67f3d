"""The order form of a configurable dedicated tariff: a field per component kind, the live
price and availability (htmx partial), an incompatible build refused with its reason."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from django.utils.formats import date_format

from billow.catalog import actions as catalog
from billow.core import clock
from billow.inventory.models import ComponentModel, Location, ReadyServer
from billow.inventory.publish import publish_configurable_tariff, value_of
from billow.orders.models import CartItem
from tests.inventory.conftest import Catalogue, make_catalogue
from tests.web.conftest import WebWorld


def text(response: Any) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def dedicated(web: WebWorld) -> tuple[Catalogue, Any]:
    cat = make_catalogue()
    w = web.world
    pt = catalog.create_product_type(name="Dedicated", intname="dedicated")
    tariff = catalog.create_tariff(provider_id=w.provider.pk, product_type=pt, name="Own build")
    catalog.set_tariff_price(tariff=tariff, period="1m", currency="USD", amount_minor=0)
    publish_configurable_tariff(tariff=tariff, currency="USD")
    return cat, tariff


def build(cat: Catalogue, ram: str = "") -> dict[str, str]:
    return {
        "currency": "USD",
        "period": "1m",
        "addon_chassis": value_of(cat.chassis.pk, 1),
        "addon_cpu": value_of(cat.cpu.pk, 1),
        "addon_ram": ram or value_of(cat.ddr5.pk, 2),
        "addon_disk": value_of(cat.ssd.pk, 2),
        "addon_nic": "none",
        "addon_raid": "none",
        "addon_gpu": "none",
    }


def test_a_field_per_kind_live_price_and_availability(web: WebWorld) -> None:
    cat, tariff = dedicated(web)
    http = web.a.http
    page = text(http.get(f"/order/{tariff.pk}/"))
    for label in ("Chassis", "Processor", "Memory module", "Drive", "Network card", "GPU"):
        assert f">{label}" in page
    assert "2x 32GB DDR5" in page
    preview = text(http.get(f"/order/{tariff.pk}/preview/", build(cat)))
    assert "$116.00" in preview
    assert "Not in stock: assembled to order, expected by" in preview
    cat.add_server(cat.small(), name="ready-1")
    preview = text(http.get(f"/order/{tariff.pk}/preview/", build(cat)))
    assert "In stock: 1 server of this configuration, ready at once." in preview
    # more memory: the price follows (4 x 8.00 instead of 2 x 8.00), no ready server of it
    preview = text(http.get(f"/order/{tariff.pk}/preview/", build(cat, value_of(cat.ddr5.pk, 4))))
    assert "$132.00" in preview and "Not in stock" in preview


def test_an_incompatible_build_is_refused_with_the_reason(web: WebWorld) -> None:
    cat, tariff = dedicated(web)
    http = web.a.http
    bad = build(cat, value_of(cat.ddr4.pk, 5))
    preview = text(http.get(f"/order/{tariff.pk}/preview/", bad))
    assert "32GB DDR4 is DDR4; R250 1U takes DDR5." in preview
    assert "R250 1U has 4 memory slots; 5 modules chosen." in preview
    response = http.post(f"/order/{tariff.pk}/", bad)
    assert response.status_code == 200
    assert "(incompatible_build)" in text(response)
    assert not CartItem.objects.filter(cart__client=web.a.client).exists()


def options(page: str, name: str) -> list[tuple[str, str]]:
    """The (value, label) options of the select ``name`` in ``page``."""
    found = re.search(rf'<select name="{name}"[^>]*>(.*?)</select>', page)
    assert found, name
    return re.findall(r'<option value="([^"]*)"[^>]*>([^<]*)</option>', found.group(1))


def test_the_fields_offer_only_parts_that_fit_and_say_when_they_are_on_order(
    web: WebWorld,
) -> None:
    cat = make_catalogue()
    ddr4_box = ComponentModel.objects.create(
        kind="chassis",
        name="R240 1U",
        socket="LGA1700",
        memory_type="DDR4",
        tdp_watts=60,
        cpu_sockets=1,
        ram_slots=2,
        max_ram_gb=64,
        drive_bays=2,
        drive_form_factor="2.5",
        pcie_slots=0,
        psu_watts=300,
        monthly_price_minor=3000,
    )
    w = web.world
    pt = catalog.create_product_type(name="Dedicated", intname="dedicated")
    tariff = catalog.create_tariff(provider_id=w.provider.pk, product_type=pt, name="Own build")
    catalog.set_tariff_price(tariff=tariff, period="1m", currency="USD", amount_minor=0)
    publish_configurable_tariff(tariff=tariff, currency="USD")
    cat.add_stock(cat.ddr5, 2)
    http = web.a.http
    page = text(http.get(f"/order/{tariff.pk}/"))
    # the first chassis by name is the DDR4 one: the defaults fit it
    assert [v for v, _label in options(page, "addon_ram")] == [
        value_of(cat.ddr4.pk, n) for n in (1, 2)
    ]
    assert options(page, "addon_gpu") == [("none", "—")]  # no PCIe slot
    # the DDR5 chassis: DDR5 up to its 4 slots, the 2 in stock plain, the rest on order
    picks = build(cat)
    live = text(http.get(f"/order/{tariff.pk}/preview/", picks))
    assert 'hx-swap-oob="true"' in live
    day = date_format(clock.now().date() + timedelta(days=12), "DATE_FORMAT")
    ram = options(live, "addon_ram")
    assert [v for v, _label in ram] == [value_of(cat.ddr5.pk, n) for n in (1, 2, 3, 4)]
    assert [label for _v, label in ram] == [
        "1x 32GB DDR5",
        "2x 32GB DDR5",
        f"3x 32GB DDR5 — on order, expected by {day}",
        f"4x 32GB DDR5 — on order, expected by {day}",
    ]
    assert [v for v, _label in options(live, "addon_chassis")] == [
        value_of(ddr4_box.pk, 1),
        value_of(cat.chassis.pk, 1),
    ]
    # a forged DDR4 pick: listed as not fitting and refused by the quote with the reason
    forged = build(cat, value_of(cat.ddr4.pk, 2))
    live = text(http.get(f"/order/{tariff.pk}/preview/", forged))
    assert (value_of(cat.ddr4.pk, 2), "2x 32GB DDR4 — does not fit") in options(live, "addon_ram")
    assert "32GB DDR4 is DDR4; R250 1U takes DDR5." in live
    response = text(http.post(f"/order/{tariff.pk}/", forged))
    assert "(incompatible_build)" in response
    assert not CartItem.objects.filter(cart__client=web.a.client).exists()


def test_the_location_field_offers_locations_with_stock_first_by_default(web: WebWorld) -> None:
    cat = make_catalogue()  # ams1
    fra = Location.objects.create(code="fra1", name="Frankfurt 1")
    Location.objects.create(code="lon1", name="London 1")  # nothing there
    w = web.world
    pt = catalog.create_product_type(name="Dedicated", intname="dedicated")
    tariff = catalog.create_tariff(provider_id=w.provider.pk, product_type=pt, name="Own build")
    catalog.set_tariff_price(tariff=tariff, period="1m", currency="USD", amount_minor=0)
    publish_configurable_tariff(tariff=tariff, currency="USD")
    small = cat.small()
    cat.add_stock(cat.ssd, 1)  # ams1 has parts
    ReadyServer.objects.create(
        location=fra, name="fra-node", configuration=small.configuration, chassis=small.chassis
    )
    http = web.a.http
    page = text(http.get(f"/order/{tariff.pk}/"))
    assert options(page, "addon_location") == [("ams1", "Amsterdam 1"), ("fra1", "Frankfurt 1")]
    assert re.search(r'<option value="ams1" selected>', page)
    # availability follows the location
    at_ams = text(
        http.get(f"/order/{tariff.pk}/preview/", {**build(cat), "addon_location": "ams1"})
    )
    assert "Not in stock: assembled to order" in at_ams
    at_fra = text(
        http.get(f"/order/{tariff.pk}/preview/", {**build(cat), "addon_location": "fra1"})
    )
    assert "In stock: 1 server of this configuration, ready at once." in at_fra
    assert options(at_fra, "addon_location") == [("ams1", "Amsterdam 1"), ("fra1", "Frankfurt 1")]
