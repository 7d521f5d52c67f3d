"""Scenario: increasing an addon mid-period charges the prorated difference."""

from __future__ import annotations

from datetime import date

import pytest

from billow.billing.actions import change_addons
from billow.catalog import actions as catalog
from tests.billing.world import World, at

pytestmark = pytest.mark.django_db


def test_more_ram_on_day_16_charges_half_a_month_of_the_extra_units() -> None:
    # given a 30.00 tariff with RAM: 2 GiB included, 1.00 per extra GiB per month
    world = World()
    tariff = world.tariff("VPS", {"1m": 3000})
    catalog.create_addon(
        tariff=tariff,
        name="RAM",
        intname="ram",
        unit="GiB",
        value_type="int",
        billing_type="on_order",
        currency="USD",
        unit_price_minor=100,
        included=2,
        min_value=1,
        max_value=64,
        step=1,
        edit_policy="increase_only",
    )
    client = world.client(balance=10_000)
    service = world.service(client, tariff, date(2025, 4, 1), addon_values={"ram": 4})
    assert world.expenses(service) == [("charge", date(2025, 4, 1), date(2025, 5, 1), 3200)]
    # when RAM goes from 4 to 8 GiB on 16 April (15 of 30 days left)
    service = change_addons(service=service, addon_values={"ram": 8}, now=at(date(2025, 4, 16)))
    # then 4 GiB x 1.00 x 15/30 = 2.00 is charged and the renewal prices 8 GiB
    assert service.addon_values == {"ram": 8}
    assert world.expenses(service)[-1] == ("charge", date(2025, 4, 16), date(2025, 5, 1), 200)
    world.bill(date(2025, 5, 1))
    assert world.expenses(service)[-1] == ("charge", date(2025, 5, 1), date(2025, 6, 1), 3600)
    assert world.balance(client) == 10_000 - 3200 - 200 - 3600
