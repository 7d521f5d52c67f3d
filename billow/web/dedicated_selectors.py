"""Dedicated servers on the client pages (issue 18): the availability line of a build on the
order form, and the server facts on the service page."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from billow.core import clock
from billow.core.errors import BillowError
from billow.inventory.dedicated import expected_date
from billow.inventory.publish import build_from_addons, is_configurable
from billow.inventory.selectors import availability, default_location
from billow.services.models import OperationStatus, Service, ServiceOperation


@dataclass(frozen=True)
class DedicatedAvailability:
    in_stock: int
    expected_on: date


def dedicated_availability(addon_values: Mapping[str, Any]) -> DedicatedAvailability | None:
    """Free ready servers of the build now, or the date it can be ready (None when the item
    is not a server build or the build is not valid: the quote shows why)."""
    if not is_configurable(addon_values):
        return None
    try:
        chosen = build_from_addons(addon_values)
        where = availability(chosen, location_id=default_location().pk)
    except BillowError:
        return None
    today = clock.now().date()
    if where.in_stock:
        return DedicatedAvailability(where.free_servers, today)
    return DedicatedAvailability(0, expected_date(today, where.missing))


@dataclass(frozen=True)
class ServerFacts:
    """What the service page shows of a dedicated server (from its open's result)."""

    name: str
    ip: str
    configuration: str
    credentials_waiting: bool
    credentials_taken: bool
    expected_on: str


def server_facts(service: Service) -> ServerFacts | None:
    """The facts of a ``dcimanager6`` service, or None for any other module."""
    instance = service.module_instance
    if instance is None or instance.module != "dcimanager6":
        return None
    op = (
        ServiceOperation.objects.filter(
            service=service, operation="open", status=OperationStatus.SUCCEEDED
        )
        .order_by("-id")
        .first()
    )
    result = op.result if op is not None else {}
    return ServerFacts(
        name=str(result.get("name", "")),
        ip=str(result.get("ip", "")),
        configuration=str(
            result.get("configuration") or service.parameters.get("configuration", "")
        ),
        credentials_waiting=bool(result.get("credentials")),
        credentials_taken=bool(result.get("credentials_taken")),
        expected_on=str(service.parameters.get("expected_on", "")),
    )
