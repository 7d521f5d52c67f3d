"""Ordering a dedicated server of one's own configuration: reserved and provisioned on the
local DCImanager at once; or not available with procurement and assembly Tasks, provisioned
after staff complete them; two concurrent orders for the last server (PostgreSQL)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.test import Client as HttpClient
from django.urls import reverse

from billow.accounts.models import Client, Provider
from billow.catalog import actions as catalog
from billow.catalog.models import Currency, Tariff
from billow.core import clock
from billow.inventory import actions as stock
from billow.inventory.dedicated import complete_dedicated_task, open_dedicated_tasks, place_service
from billow.inventory.errors import IncompatibleBuild, StockConflict
from billow.inventory.models import (
    Delivery,
    DeliveryLine,
    ReadyServer,
    StockItem,
    Supplier,
)
from billow.inventory.selectors import choose
from billow.services import actions as services
from billow.services import runner
from billow.services.models import Service, ServiceOperation, Task
from billow.services.modules.dcimanager6 import reveal_credentials
from billow.services.modules.dcimanager6.client import reset_tokens
from billow.services.modules.dcimanager6.testserver import DciState, LocalDci

from .conftest import Catalogue, make_catalogue

T0 = datetime(2027, 5, 3, 9, 0, tzinfo=UTC)


@pytest.fixture
def panel() -> Iterator[LocalDci]:
    reset_tokens()
    with LocalDci(DciState()) as dci:
        yield dci


def make_shop(panel: LocalDci) -> tuple[Client, Tariff]:
    if not Currency.objects.filter(code="USD").exists():
        catalog.create_currency(code="USD", name="US dollar", symbol="$")
    provider = Provider.objects.create(name="Hosting", code="hosting")
    client = Client.objects.create(name="Ada", email="ada@example.com")
    client.providers.add(provider)
    pt = catalog.create_product_type(name="Dedicated", intname="dedicated")
    tariff = catalog.create_tariff(provider_id=provider.pk, product_type=pt, name="Own build")
    catalog.set_tariff_price(tariff=tariff, period="1m", currency="USD", amount_minor=0)
    services.create_module_instance(
        module="dcimanager6",
        name="dci",
        config={
            "url": panel.url,
            "email": "admin@example.com",
            "location_id": 1,
            "task_poll_seconds": 0.0,
        },
        secrets={"password": "secret"},
        department="dc",
        product_types=[pt],
    )
    return client, tariff


def order(client: Client, tariff: Tariff, cat: Catalogue) -> Service:
    """What the checkout does for a dedicated item: create the service, then place it."""
    with transaction.atomic():
        svc = services.create_service(client=client, tariff=tariff, period="1m", currency="USD")
        return place_service(service=svc, chosen=cat.small(), location=cat.location)


def run_open(svc: Service) -> ServiceOperation:
    op = ServiceOperation.objects.get(service=svc, operation="open")
    runner.execute_operation(operation_id=op.pk)
    op.refresh_from_db()
    svc.refresh_from_db()
    return op


@pytest.fixture
def world(db: Any, panel: LocalDci) -> Iterator[tuple[Catalogue, Client, Tariff]]:
    with clock.use_clock(clock.FixedClock(T0)):
        cat = make_catalogue()
        client, tariff = make_shop(panel)
        yield cat, client, tariff


def test_order_with_stock_is_reserved_and_provisioned_at_once(
    world: tuple[Catalogue, Client, Tariff], panel: LocalDci
) -> None:
    cat, client, tariff = world
    b = cat.small()
    remote = panel.state.add_server(b.configuration, name="node-7")
    server = cat.add_server(b, name="node-7", dci_server_id=remote["id"])
    svc = order(client, tariff, cat)
    server.refresh_from_db()
    assert (server.status, server.service_id) == ("reserved", svc.pk)
    assert svc.parameters["dci_server_id"] == remote["id"]
    assert svc.parameters["configuration"] == b.configuration
    op = run_open(svc)
    assert (op.status, svc.status, svc.external_id) == ("succeeded", "active", str(remote["id"]))
    assert op.result["ip"] == f"192.0.2.{remote['id']}"
    assert reveal_credentials(op.result["credentials"])["username"] == "root"
    assert remote["comment"] == f"billow:{svc.pk}"
    assert Task.objects.filter(service=svc).count() == 0


def test_order_without_stock_waits_with_exact_tasks_then_is_provisioned(
    world: tuple[Catalogue, Client, Tariff], panel: LocalDci
) -> None:
    cat, client, tariff = world
    b = cat.small()
    cat.add_stock(cat.chassis, 1)
    cat.add_stock(cat.ddr5, 1)
    svc = order(client, tariff, cat)
    assert svc.status == "not_available"
    # expected: 10 days to buy, 2 to assemble
    assert svc.parameters["expected_on"] == "2027-05-15"
    assert not ServiceOperation.objects.filter(service=svc).exists()
    buy, assemble = open_dedicated_tasks(svc)
    assert buy.title == f"Buy parts for dedicated server of service #{svc.pk}"
    assert buy.department == "dc"
    assert buy.instructions == "\n".join(
        [
            "Buy and receive into Amsterdam 1:",
            f"1 x Xeon E-2488 (#{cat.cpu.pk})",
            f"1 x 32GB DDR5 (#{cat.ddr5.pk})",
            f"2 x 960GB SSD (#{cat.ssd.pk})",
        ]
    )
    assert assemble.instructions == "\n".join(
        [
            f"Into chassis R250 1U (#{cat.chassis.pk}) at Amsterdam 1, fit:",
            f"1 x Xeon E-2488 (#{cat.cpu.pk})",
            f"2 x 32GB DDR5 (#{cat.ddr5.pk})",
            f"2 x 960GB SSD (#{cat.ssd.pk})",
            f"Configuration name: {b.configuration}",
        ]
    )
    assert StockItem.objects.filter(service_id=svc.pk, status="reserved").count() == 2
    # staff buy and receive the parts
    complete_dedicated_task(task=buy)
    svc.refresh_from_db()
    assert svc.status == "not_available"
    # assembling before the parts arrived is refused and leaves the task open
    with pytest.raises(StockConflict):
        complete_dedicated_task(task=assemble)
    assemble.refresh_from_db()
    assert assemble.status == "open"
    delivery = Delivery.objects.create(
        name="PO-7",
        supplier=Supplier.objects.create(name="Parts"),
        location=cat.location,
        ordered_on=date(2027, 5, 3),
    )
    for model, n in ((cat.cpu, 1), (cat.ddr5, 1), (cat.ssd, 2)):
        DeliveryLine.objects.create(delivery=delivery, model=model, quantity=n)
    stock.receive_delivery(delivery=delivery)
    # the assembled server is registered in DCImanager by the data center staff
    panel.state.add_server(b.configuration, name="dedicated")
    svc = complete_dedicated_task(task=assemble)
    assert svc.status == "in_progress"
    server = ReadyServer.objects.get(service_id=svc.pk)
    assert (server.status, server.configuration, server.parts.count()) == (
        "reserved",
        b.configuration,
        6,
    )
    op = run_open(svc)
    assert (op.status, svc.status) == ("succeeded", "active")


def test_staff_complete_the_tasks_on_the_inventory_admin_page(
    world: tuple[Catalogue, Client, Tariff], panel: LocalDci
) -> None:
    cat, client, tariff = world
    b = cat.small()
    for model, n in b.needs().items():
        StockItem.objects.bulk_create(
            StockItem(model_id=model, location=cat.location) for _ in range(n)
        )
    svc = order(client, tariff, cat)
    # every part was in stock: only the assembly Task
    (assemble,) = open_dedicated_tasks(svc)
    panel.state.add_server(b.configuration, name="dedicated")
    User = get_user_model()
    staff = User.objects.create_superuser("ops", "ops@example.com", "pw")
    http = HttpClient()
    http.force_login(staff, backend="django.contrib.auth.backends.ModelBackend")
    url = reverse("admin:inventory_dedicatedtask_changelist")
    assert f"Assemble dedicated server for service #{svc.pk}" in http.get(url).content.decode()
    http.post(url, {"action": "complete", "_selected_action": [assemble.pk]})
    svc.refresh_from_db()
    assert svc.status == "in_progress"
    assert ReadyServer.objects.get(service_id=svc.pk).status == "reserved"


def test_the_generic_task_admin_refuses_to_close_a_dedicated_task(
    world: tuple[Catalogue, Client, Tariff],
) -> None:
    cat, client, tariff = world
    svc = order(client, tariff, cat)  # nothing in stock: buy and assemble
    buy, assemble = open_dedicated_tasks(svc)
    page = reverse("admin:inventory_dedicatedtask_changelist")
    assert (buy.link, assemble.link) == (page, page)
    User = get_user_model()
    staff = User.objects.create_superuser("ops", "ops@example.com", "pw")
    http = HttpClient()
    http.force_login(staff, backend="django.contrib.auth.backends.ModelBackend")
    generic = reverse("admin:services_task_changelist")
    for action in ("complete_tasks", "fail_tasks", "cancel_tasks"):
        answer = http.post(
            generic, {"action": action, "_selected_action": [buy.pk, assemble.pk]}, follow=True
        )
        shown = [str(m) for m in answer.context["messages"]]
        assert shown == [
            f"#{task.pk}: task_owned_elsewhere: close this task on {page}: it also changes the"
            " stock there"
            for task in sorted((buy, assemble), key=lambda t: -t.pk)
        ]
    # nothing closed, the service still waits
    assert open_dedicated_tasks(svc) == [buy, assemble]
    svc.refresh_from_db()
    assert svc.status == "not_available"
    with pytest.raises(services.TaskOwnedElsewhere) as exc:
        services.complete_task(task=buy)
    assert exc.value.details == {"page": page}


def test_an_incompatible_build_is_refused_with_its_reason(
    world: tuple[Catalogue, Client, Tariff],
) -> None:
    cat, client, tariff = world
    bad = choose(cat.chassis.pk, {cat.cpu.pk: 1, cat.ddr4.pk: 1, cat.ssd.pk: 1})
    with transaction.atomic():
        svc = services.create_service(client=client, tariff=tariff, period="1m", currency="USD")
    with pytest.raises(IncompatibleBuild) as exc:
        place_service(service=svc, chosen=bad, location=cat.location)
    assert exc.value.details["reasons"] == [
        {
            "code": "memory_type_mismatch",
            "message": "32GB DDR4 is DDR4; R250 1U takes DDR5.",
            "component": "32GB DDR4",
        }
    ]
    svc.refresh_from_db()
    assert (svc.status, svc.parameters) == ("ordered", {})


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_orders_for_the_last_server_one_gets_it(panel: LocalDci) -> None:
    cat = make_catalogue()
    client, tariff = make_shop(panel)
    server = cat.add_server(cat.small(), name="last")
    with transaction.atomic():
        pair = [
            services.create_service(client=client, tariff=tariff, period="1m", currency="USD")
            for _ in range(2)
        ]
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def place(svc: Service) -> None:
        try:
            barrier.wait()
            with transaction.atomic():
                locked = Service.objects.select_for_update().get(pk=svc.pk)
                place_service(service=locked, chosen=cat.small(), location=cat.location)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=place, args=(s,)) for s in pair]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    statuses = sorted(
        Service.objects.filter(pk__in=[s.pk for s in pair]).values_list("status", flat=True)
    )
    assert statuses == ["in_progress", "not_available"]
    server.refresh_from_db()
    winner = Service.objects.get(status="in_progress")
    loser = Service.objects.get(status="not_available")
    assert server.service_id == winner.pk
    assert len(open_dedicated_tasks(loser)) == 2
    assert open_dedicated_tasks(winner) == []
