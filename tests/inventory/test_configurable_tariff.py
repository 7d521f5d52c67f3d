"""The configurable tariff through the ordinary cart and checkout: a field (enum addon) per
component kind, the price is the parts' sum, an incompatible build is refused with its
reason, a paid order is reserved and provisioned or waits with its Tasks."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from billow.catalog import actions as catalog
from billow.catalog.models import Tariff
from billow.core.errors import BillowError
from billow.inventory.dedicated import open_dedicated_tasks
from billow.inventory.errors import IncompatibleBuild
from billow.inventory.models import Location, ReadyServer
from billow.inventory.publish import location_from_addons, publish_configurable_tariff, value_of
from billow.orders import actions as orders
from billow.orders import selectors as order_selectors
from billow.services import actions as services
from billow.services import runner
from billow.services.models import Service, ServiceOperation
from billow.services.modules.dcimanager6.client import reset_tokens
from billow.services.modules.dcimanager6.testserver import DciState, LocalDci
from tests.orders.shop import Shop

from .conftest import Catalogue, make_catalogue


@pytest.fixture
def panel() -> Iterator[LocalDci]:
    reset_tokens()
    with LocalDci(DciState()) as dci:
        yield dci


@pytest.fixture
def shop(db: Any) -> Shop:
    return Shop()


@pytest.fixture
def dedicated(shop: Shop, panel: LocalDci) -> tuple[Catalogue, Tariff]:
    cat = make_catalogue()
    pt = catalog.create_product_type(name="Dedicated", intname="dedicated")
    tariff = catalog.create_tariff(provider_id=shop.provider.pk, product_type=pt, name="Own build")
    catalog.set_tariff_price(tariff=tariff, period="1m", currency="USD", amount_minor=0)
    publish_configurable_tariff(tariff=tariff, currency="USD")
    services.create_module_instance(
        module="dcimanager6",
        name="dci",
        config={"url": panel.url, "email": "admin@example.com", "task_poll_seconds": 0.0},
        secrets={"password": "secret"},
        product_types=[pt],
    )
    return cat, tariff


def small(cat: Catalogue, ram: Any = None) -> dict[str, str]:
    return {
        "chassis": value_of(cat.chassis.pk, 1),
        "cpu": value_of(cat.cpu.pk, 1),
        "ram": ram or value_of(cat.ddr5.pk, 2),
        "disk": value_of(cat.ssd.pk, 2),
        "nic": "none",
        "raid": "none",
        "gpu": "none",
    }


def test_the_price_is_the_sum_of_the_parts(shop: Shop, dedicated: tuple[Catalogue, Tariff]) -> None:
    cat, tariff = dedicated
    client = shop.client(balance=20000)
    item = orders.add_to_cart(
        client=client, tariff=tariff, period="1m", currency="USD", addon_values=small(cat)
    )
    quote = order_selectors.get_cart_quote(client=client, provider_id=shop.provider.pk)
    # chassis 40.00 + cpu 35.00 + 2 x 8.00 + 2 x 12.50 = 116.00
    assert quote.total.amount_minor == 11600
    assert item.addon_values["ram"] == value_of(cat.ddr5.pk, 2)


def test_an_incompatible_build_is_refused_in_the_cart(
    shop: Shop, dedicated: tuple[Catalogue, Tariff]
) -> None:
    cat, tariff = dedicated
    client = shop.client(balance=20000)
    with pytest.raises(IncompatibleBuild) as exc:
        orders.add_to_cart(
            client=client,
            tariff=tariff,
            period="1m",
            currency="USD",
            addon_values=small(cat, ram=value_of(cat.ddr4.pk, 5)),
        )
    assert [r["code"] for r in exc.value.details["reasons"]] == [
        "memory_type_mismatch",
        "too_many_memory_modules",
        "memory_over_maximum",
    ]
    assert exc.value.message.startswith("32GB DDR4 is DDR4; R250 1U takes DDR5.")


def test_paid_order_with_stock_is_provisioned_and_without_waits(
    shop: Shop,
    dedicated: tuple[Catalogue, Tariff],
    panel: LocalDci,
    django_capture_on_commit_callbacks: Any,
) -> None:
    cat, tariff = dedicated
    build = cat.small()
    remote = panel.state.add_server(build.configuration, name="node-1")
    cat.add_server(build, name="node-1", dci_server_id=remote["id"])
    first, second = shop.client(balance=20000, n=1), shop.client(balance=20000, n=2)
    for client in (first, second):
        orders.add_to_cart(
            client=client, tariff=tariff, period="1m", currency="USD", addon_values=small(cat)
        )
        with django_capture_on_commit_callbacks(execute=True):
            result = orders.checkout(client=client, provider_id=shop.provider.pk)
        assert result.paid and result.order.total_minor == 11600
    got = Service.objects.get(client=first)
    waits = Service.objects.get(client=second)
    op = ServiceOperation.objects.get(service=got, operation="open")
    runner.execute_operation(operation_id=op.pk)
    op.refresh_from_db()
    got.refresh_from_db()
    assert (op.status, got.status) == ("succeeded", "active")
    assert op.result["ip"] == f"192.0.2.{remote['id']}"
    assert waits.status == "not_available"
    assert waits.parameters["expected_on"]
    assert len(open_dedicated_tasks(waits)) == 2


def test_the_location_chosen_on_the_order_is_where_the_server_is_reserved(
    shop: Shop, panel: LocalDci, django_capture_on_commit_callbacks: Any
) -> None:
    cat = make_catalogue()  # ams1
    fra = Location.objects.create(code="fra1", name="Frankfurt 1", dci_location_id=2)
    pt = catalog.create_product_type(name="Dedicated", intname="dedicated")
    tariff = catalog.create_tariff(provider_id=shop.provider.pk, product_type=pt, name="Own build")
    catalog.set_tariff_price(tariff=tariff, period="1m", currency="USD", amount_minor=0)
    publish_configurable_tariff(tariff=tariff, currency="USD")
    services.create_module_instance(
        module="dcimanager6",
        name="dci",
        config={"url": panel.url, "email": "admin@example.com", "task_poll_seconds": 0.0},
        secrets={"password": "secret"},
        product_types=[pt],
    )
    build = cat.small()
    ams_server = cat.add_server(build, name="ams-node")
    fra_server = ReadyServer.objects.create(
        location=fra, name="fra-node", configuration=build.configuration, chassis=build.chassis
    )
    # no location named: the first one
    assert location_from_addons(small(cat)) == cat.location
    client = shop.client(balance=20000)
    orders.add_to_cart(
        client=client,
        tariff=tariff,
        period="1m",
        currency="USD",
        addon_values={**small(cat), "location": "fra1"},
    )
    with django_capture_on_commit_callbacks(execute=True):
        result = orders.checkout(client=client, provider_id=shop.provider.pk)
    assert result.paid and result.order.total_minor == 11600  # the location costs nothing
    svc = Service.objects.get(client=client)
    fra_server.refresh_from_db()
    ams_server.refresh_from_db()
    assert (fra_server.status, fra_server.service_id) == ("reserved", svc.pk)
    assert (ams_server.status, ams_server.service_id) == ("free", None)
    assert svc.parameters["location"] == "fra1"
    with pytest.raises(BillowError) as exc:
        location_from_addons({**small(cat), "location": "nowhere"})
    assert exc.value.code == "location_not_found"
