"""The meters of the usage tests (on the services' VPS tariff)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from billow.catalog import actions as catalog
from billow.catalog.models import Tariff
from billow.usage.actions import set_meter
from billow.usage.models import Meter


@pytest.fixture
def traffic(tariff: Tariff) -> Meter:
    """Traffic: in + out summed, 100 GiB included, 0.5 cents per GiB above, per month."""
    addon = catalog.create_addon(
        tariff=tariff,
        name="Traffic",
        intname="traffic",
        unit="GiB",
        value_type="int",
        billing_type="statistics",
        currency="USD",
        included=100,
        overage_price_minor=Decimal("0.5"),
    )
    return set_meter(addon=addon, parameters=["traffic_in", "traffic_out"], unit="GiB")


@pytest.fixture
def storage_meter(tariff: Tariff) -> Meter:
    """Storage: the largest sample of a day (max), the month's maximum."""
    addon = catalog.create_addon(
        tariff=tariff,
        name="Storage",
        intname="storage",
        unit="GiB",
        value_type="int",
        billing_type="statistics",
        currency="USD",
        aggregation="max",
    )
    return set_meter(addon=addon, parameters=["storage_gib"], unit="GiB")
