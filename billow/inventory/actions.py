"""Inventory writes: reserving a ready server or loose parts for a service (exactly one
taker even under concurrent orders), handing a server over and taking it back, assembling a
server from parts, receiving a delivery, expiring reservations.

Taking a server is a conditional update (``status`` still free, no service) after a
``select_for_update(skip_locked=True)`` pick on PostgreSQL: two orders for the last server
never both get it; the loser sees no row and waits for procurement.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import Q

from billow.core import clock
from billow.inventory.errors import InventoryValidationError, StockConflict
from billow.inventory.models import (
    ComponentKind,
    ComponentModel,
    Delivery,
    DeliveryStatus,
    Location,
    ReadyServer,
    ServerStatus,
    StockItem,
    StockStatus,
)
from billow.inventory.selectors import free_servers, takeable

#: How long an order holds a ready server before provisioning takes it (or it is free again).
DEFAULT_HOLD = timedelta(hours=2)


def reserve_server(
    *,
    configuration: str,
    service_id: int,
    location_id: int | None = None,
    hold: timedelta = DEFAULT_HOLD,
    now: datetime | None = None,
) -> ReadyServer | None:
    """Reserve a free server of ``configuration`` for ``service_id`` until ``now + hold``; the
    one already reserved for it when there is one (a replay); None when none is free."""
    moment = clock.now(now)
    mine = ReadyServer.objects.filter(service_id=service_id).exclude(status=ServerStatus.GONE)
    existing = mine.first()
    if existing is not None:
        return existing
    with transaction.atomic():
        candidates = free_servers(configuration, location_id=location_id, now=moment)
        if connection.vendor == "postgresql":
            candidates = candidates.select_for_update(skip_locked=True)
        for server_id in candidates.values_list("id", flat=True)[:5]:
            taken = ReadyServer.objects.filter(takeable(moment), pk=server_id).update(
                status=ServerStatus.RESERVED,
                service_id=service_id,
                reserved_until=moment + hold,
                updated_at=moment,
            )
            if taken:
                return ReadyServer.objects.get(pk=server_id)
    return None


def hand_over(*, server_id: int, service_id: int, now: datetime | None = None) -> ReadyServer:
    """The server reserved for ``service_id`` is now in use by it (provisioning finished)."""
    moment = clock.now(now)
    with transaction.atomic():
        server = ReadyServer.objects.select_for_update().get(pk=server_id)
        if server.service_id not in (None, service_id) or server.status == ServerStatus.GONE:
            raise StockConflict("the server belongs to another service", server=server_id)
        server.status, server.service_id, server.reserved_until = (
            ServerStatus.IN_USE,
            service_id,
            None,
        )
        server.updated_at = moment
        server.save(update_fields=["status", "service_id", "reserved_until", "updated_at"])
    return server


def release_server(*, service_id: int, now: datetime | None = None) -> int:
    """The servers of ``service_id`` go back to stock (closed, or its order dropped)."""
    moment = clock.now(now)
    return (
        ReadyServer.objects.filter(service_id=service_id)
        .exclude(status=ServerStatus.GONE)
        .update(
            status=ServerStatus.FREE,
            service_id=None,
            reserved_until=None,
            owner_email="",
            updated_at=moment,
        )
    )


def reserve_parts(
    *,
    needs: Mapping[int, int],
    service_id: int,
    location_id: int,
    hold: timedelta,
    now: datetime | None = None,
) -> dict[int, int]:
    """Hold the loose parts ``needs`` (model id -> quantity) that are in stock for
    ``service_id`` until ``now + hold``; returns what is still missing (to procure)."""
    moment = clock.now(now)
    missing: dict[int, int] = {}
    with transaction.atomic():
        for model_id, wanted in sorted(needs.items()):
            held = StockItem.objects.filter(
                model_id=model_id, service_id=service_id, status=StockStatus.RESERVED
            ).count()
            free = StockItem.objects.filter(
                model_id=model_id, location_id=location_id, server__isnull=True
            ).filter(
                Q(status=StockStatus.IN_STOCK)
                | Q(status=StockStatus.RESERVED, reserved_until__lte=moment)
            )
            if connection.vendor == "postgresql":
                free = free.select_for_update(skip_locked=True)
            ids = list(free.values_list("id", flat=True)[: max(wanted - held, 0)])
            got = StockItem.objects.filter(pk__in=ids).update(
                status=StockStatus.RESERVED, service_id=service_id, reserved_until=moment + hold
            )
            if held + got < wanted:
                missing[model_id] = wanted - held - got
    return missing


def expire_reservations(*, now: datetime | None = None) -> dict[str, int]:
    """Reservations past their expiry go back to free / in stock."""
    moment = clock.now(now)
    servers = ReadyServer.objects.filter(
        status=ServerStatus.RESERVED, reserved_until__lte=moment
    ).update(status=ServerStatus.FREE, service_id=None, reserved_until=None, updated_at=moment)
    parts = StockItem.objects.filter(
        status=StockStatus.RESERVED, reserved_until__lte=moment
    ).update(status=StockStatus.IN_STOCK, service_id=None, reserved_until=None)
    return {"servers": servers, "parts": parts}


def assemble_server(
    *,
    location: Location,
    chassis: ComponentModel,
    parts: Mapping[int, int],
    configuration: str,
    name: str,
    service_id: int | None = None,
    now: datetime | None = None,
) -> ReadyServer:
    """Build a server from loose parts at ``location``: the chassis and ``parts`` (model id ->
    quantity) move into it (parts held for ``service_id`` first). The server is free, or
    reserved for ``service_id``. ``stock_conflict`` (nothing written) when parts are short."""
    moment = clock.now(now)
    if chassis.kind != ComponentKind.CHASSIS:
        raise InventoryValidationError(f"{chassis} is not a chassis", code="not_a_chassis")
    needs = dict(parts)
    needs[chassis.pk] = needs.get(chassis.pk, 0) + 1
    with transaction.atomic():
        chosen: list[int] = []
        for model_id, wanted in sorted(needs.items()):
            usable = StockItem.objects.select_for_update().filter(
                model_id=model_id, location=location, server__isnull=True
            )
            held = Q(status=StockStatus.RESERVED, service_id=service_id) if service_id else Q()
            free = Q(status=StockStatus.IN_STOCK) | Q(
                status=StockStatus.RESERVED, reserved_until__lte=moment
            )
            ids = (
                list(usable.filter(held).values_list("id", flat=True)[:wanted])
                if service_id
                else []
            )
            ids += list(
                usable.filter(free)
                .exclude(pk__in=ids)
                .values_list("id", flat=True)[: wanted - len(ids)]
            )
            if len(ids) < wanted:
                raise StockConflict(
                    "not enough parts in stock to assemble",
                    model=model_id,
                    missing=wanted - len(ids),
                )
            chosen += ids
        server = ReadyServer.objects.create(
            location=location,
            name=name,
            configuration=configuration,
            chassis=chassis,
            status=ServerStatus.RESERVED if service_id else ServerStatus.FREE,
            service_id=service_id,
            reserved_until=moment + DEFAULT_HOLD if service_id else None,
            updated_at=moment,
        )
        StockItem.objects.filter(pk__in=chosen).update(
            status=StockStatus.IN_SERVER, server=server, service_id=None, reserved_until=None
        )
    return server


def receive_delivery(*, delivery: Delivery, now: datetime | None = None) -> list[StockItem]:
    """The delivery arrived: one stock item per unit of each line, the delivery closed.
    ``stock_conflict`` when it is not pending or open."""
    moment = clock.now(now)
    with transaction.atomic():
        d = Delivery.objects.select_for_update().get(pk=delivery.pk)
        if d.status not in (DeliveryStatus.PENDING, DeliveryStatus.OPEN):
            raise StockConflict("the delivery is closed", code="delivery_closed")
        items = [
            StockItem(model_id=line.model_id, location_id=d.location_id, delivery=d)
            for line in d.lines.all()
            for _unit in range(line.quantity)
        ]
        StockItem.objects.bulk_create(items)
        d.status, d.delivered_on = DeliveryStatus.CLOSED, moment.date()
        d.save(update_fields=["status", "delivered_on"])
    delivery.refresh_from_db()
    return items


def set_stock_status(*, item: StockItem, status: str) -> StockItem:
    """Staff mark a loose part written off, broken, under maintenance or back in stock."""
    allowed = {
        StockStatus.IN_STOCK,
        StockStatus.WRITTEN_OFF,
        StockStatus.BROKEN,
        StockStatus.MAINTENANCE,
    }
    if status not in allowed:
        raise InventoryValidationError(f"cannot set {status} by hand", code="invalid_stock_status")
    updated = StockItem.objects.filter(pk=item.pk, server__isnull=True).update(
        status=status, service_id=None, reserved_until=None
    )
    if not updated:
        raise StockConflict("the part is inside a server", code="part_in_server")
    item.refresh_from_db()
    return item
