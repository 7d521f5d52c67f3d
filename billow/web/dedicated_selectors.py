"""The availability line of a dedicated server assembled on the order form (issue 18)."""

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
