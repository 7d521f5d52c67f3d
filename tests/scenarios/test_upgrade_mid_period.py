"""Scenario: an upgrade mid-period charges exactly the prorated difference."""

from __future__ import annotations

from datetime import date

import pytest

from billow.billing.actions import change_tariff
from billow.ledger.selectors import get_reconcile_report
from tests.billing.world import World, at

pytestmark = pytest.mark.django_db


def test_upgrade_on_day_16_of_a_30_day_period_charges_half_the_difference() -> None:
    # given a 30.00 tariff opened on 1 April (30-day period) and a 60.00 tariff
    world = World()
    small = world.tariff("S", {"1m": 3000})
    large = world.tariff("L", {"1m": 6000})
    client = world.client(balance=20_000)
    service = world.service(client, small, date(2025, 4, 1))
    # when the client upgrades on 16 April (15 of 30 days left)
    service = change_tariff(service=service, tariff=large, now=at(date(2025, 4, 16)))
    # then exactly (60.00 - 30.00) x 15/30 = 15.00 is charged, and the tariff is L now
    assert service.tariff_id == large.pk
    assert world.expenses(service) == [
        ("charge", date(2025, 4, 1), date(2025, 5, 1), 3000),
        ("charge", date(2025, 4, 16), date(2025, 5, 1), 1500),
    ]
    assert world.balance(client) == 20_000 - 4500
    # and the next renewal is charged at the new price
    world.bill(date(2025, 5, 1))
    assert world.expenses(service)[-1] == ("charge", date(2025, 5, 1), date(2025, 6, 1), 6000)
    assert world.events(service)[-1][0] == "service.plan_changed"
    assert get_reconcile_report().ok


def test_upgrade_of_a_calendar_first_period_prorates_on_the_whole_month() -> None:
    # given a calendar service opened on 10 April (21/30 of a month charged)
    world = World()
    small = world.tariff("S", {"1m": 3000}, billing_mode="calendar", prorata_day=20)
    large = world.tariff("L", {"1m": 6000}, billing_mode="calendar", prorata_day=20)
    client = world.client(balance=20_000)
    service = world.service(client, small, date(2025, 4, 10))
    # when it upgrades on 21 April (10 days left of April's 30)
    change_tariff(service=service, tariff=large, now=at(date(2025, 4, 21)))
    # then the charge is 30.00 x 10/30
    assert world.expenses(service)[-1] == ("charge", date(2025, 4, 21), date(2025, 5, 1), 1000)
