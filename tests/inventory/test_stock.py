"""Inventory writes: reserving servers and parts, expiry, assembly, deliveries."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from billow.inventory import actions, selectors
from billow.inventory.errors import ComponentNotFound, IncompatibleBuild, StockConflict
from billow.inventory.models import (
    Delivery,
    DeliveryLine,
    ReadyServer,
    ServerStatus,
    StockItem,
    StockStatus,
    Supplier,
)

from .conftest import Catalogue

T0 = datetime(2027, 5, 1, 10, 0, tzinfo=UTC)


def test_build_price_name_and_needs(cat: Catalogue) -> None:
    b = cat.small()
    # chassis 40.00 + cpu 35.00 + 2 x 8.00 + 2 x 12.50 = 116.00 a month
    assert b.monthly_price_minor == 11600
    assert b.configuration == "R250 1U / 1x Xeon E-2488 / 2x 32GB DDR5 / 2x 960GB SSD"
    assert b.needs() == {cat.chassis.pk: 1, cat.cpu.pk: 1, cat.ddr5.pk: 2, cat.ssd.pk: 2}
    assert selectors.from_parameters(b.as_parameters()).configuration == b.configuration


def test_unknown_component_and_incompatible_build_are_refused(cat: Catalogue) -> None:
    with pytest.raises(ComponentNotFound) as nf:
        selectors.choose(cat.chassis.pk, {999_999: 1})
    assert nf.value.details == {"ids": [999_999]}
    with pytest.raises(IncompatibleBuild) as bad:
        selectors.checked(
            selectors.choose(cat.chassis.pk, {cat.cpu.pk: 1, cat.ddr4.pk: 5, cat.ssd.pk: 1})
        )
    assert [r["code"] for r in bad.value.details["reasons"]] == [
        "memory_type_mismatch",
        "too_many_memory_modules",
        "memory_over_maximum",
    ]


def test_reserve_takes_one_free_server_once(cat: Catalogue) -> None:
    b = cat.small()
    server = cat.add_server(b)
    got = actions.reserve_server(configuration=b.configuration, service_id=7, now=T0)
    assert got is not None and got.pk == server.pk
    assert (got.status, got.service_id, got.reserved_until) == (
        ServerStatus.RESERVED,
        7,
        T0 + timedelta(hours=2),
    )
    # a replay for the same service returns the same server; another service gets none
    again = actions.reserve_server(configuration=b.configuration, service_id=7, now=T0)
    assert again is not None and again.pk == server.pk
    assert actions.reserve_server(configuration=b.configuration, service_id=8, now=T0) is None
    assert selectors.availability(b, now=T0).free_servers == 0


def test_an_expired_reservation_frees_the_server(cat: Catalogue) -> None:
    b = cat.small()
    cat.add_server(b)
    actions.reserve_server(configuration=b.configuration, service_id=7, now=T0)
    later = T0 + timedelta(hours=2)
    # past expiry another order may take it ...
    taken = actions.reserve_server(configuration=b.configuration, service_id=8, now=later)
    assert taken is not None and taken.service_id == 8
    # ... and the sweep returns expired holds to stock
    taken2 = ReadyServer.objects.get(pk=taken.pk)
    assert taken2.reserved_until == later + timedelta(hours=2)
    assert actions.expire_reservations(now=later + timedelta(hours=2)) == {"servers": 1, "parts": 0}
    assert ReadyServer.objects.get(pk=taken.pk).status == ServerStatus.FREE


def test_hand_over_and_release(cat: Catalogue) -> None:
    b = cat.small()
    server = cat.add_server(b)
    actions.reserve_server(configuration=b.configuration, service_id=7, now=T0)
    with pytest.raises(StockConflict):
        actions.hand_over(server_id=server.pk, service_id=8, now=T0)
    assert ReadyServer.objects.get(pk=server.pk).service_id == 7
    actions.hand_over(server_id=server.pk, service_id=7, now=T0)
    server.refresh_from_db()
    assert (server.status, server.service_id, server.reserved_until) == ("in_use", 7, None)
    assert actions.release_server(service_id=7, now=T0) == 1
    server.refresh_from_db()
    assert (server.status, server.service_id) == ("free", None)


def test_parts_are_held_then_missing_ones_reported(cat: Catalogue) -> None:
    b = cat.small()
    cat.add_stock(cat.chassis, 1)
    cat.add_stock(cat.ddr5, 1)
    assert selectors.availability(b, now=T0).missing == {
        cat.cpu.pk: 1,
        cat.ddr5.pk: 1,
        cat.ssd.pk: 2,
    }
    missing = actions.reserve_parts(
        needs=b.needs(), service_id=7, location_id=cat.location.pk, hold=timedelta(days=7), now=T0
    )
    assert missing == {cat.cpu.pk: 1, cat.ddr5.pk: 1, cat.ssd.pk: 2}
    assert StockItem.objects.filter(status=StockStatus.RESERVED, service_id=7).count() == 2
    # a replay holds nothing more
    again = actions.reserve_parts(
        needs=b.needs(), service_id=7, location_id=cat.location.pk, hold=timedelta(days=7), now=T0
    )
    assert again == missing
    assert StockItem.objects.filter(status=StockStatus.RESERVED).count() == 2


def test_delivery_then_assembly_for_the_service(cat: Catalogue) -> None:
    b = cat.small()
    cat.add_stock(cat.chassis, 1)
    cat.add_stock(cat.ddr5, 2)
    actions.reserve_parts(
        needs=b.needs(), service_id=7, location_id=cat.location.pk, hold=timedelta(days=7), now=T0
    )
    # assembling before the delivery refuses and writes nothing
    with pytest.raises(StockConflict):
        actions.assemble_server(
            location=cat.location,
            chassis=cat.chassis,
            parts=dict(b.needs()) | {cat.chassis.pk: 0},
            configuration=b.configuration,
            name="srv-7",
            service_id=7,
            now=T0,
        )
    assert ReadyServer.objects.count() == 0
    supplier = Supplier.objects.create(name="Parts Ltd")
    delivery = Delivery.objects.create(
        name="PO-1", supplier=supplier, location=cat.location, ordered_on=date(2027, 5, 1)
    )
    DeliveryLine.objects.create(delivery=delivery, model=cat.cpu, quantity=1)
    DeliveryLine.objects.create(delivery=delivery, model=cat.ssd, quantity=2)
    items = actions.receive_delivery(delivery=delivery, now=T0)
    assert (len(items), delivery.status, delivery.delivered_on) == (3, "closed", date(2027, 5, 1))
    with pytest.raises(StockConflict):
        actions.receive_delivery(delivery=delivery, now=T0)
    parts = {pk: n for pk, n in b.needs().items() if pk != cat.chassis.pk}
    server = actions.assemble_server(
        location=cat.location,
        chassis=cat.chassis,
        parts=parts,
        configuration=b.configuration,
        name="srv-7",
        service_id=7,
        now=T0,
    )
    assert (server.status, server.service_id) == ("reserved", 7)
    assert server.parts.count() == 6
    assert StockItem.objects.filter(server__isnull=True).count() == 0


def test_staff_mark_loose_parts(cat: Catalogue) -> None:
    cat.add_stock(cat.ssd, 1)
    item = StockItem.objects.get()
    assert actions.set_stock_status(item=item, status="broken").status == "broken"
    with pytest.raises(Exception) as exc:
        actions.set_stock_status(item=item, status="in_server")
    assert getattr(exc.value, "code", "") == "invalid_stock_status"
