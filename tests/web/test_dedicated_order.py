"""The order form of a configurable dedicated tariff: a field per component kind, the live
price and availability (htmx partial), an incompatible build refused with its reason."""

from __future__ import annotations

import re
from typing import Any

from billow.catalog import actions as catalog
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
