"""Scenario: an upgrade mid-period charges exactly the prorated difference."""

from __future__ import annotations

from datetime import date

import pytest

from billow.accounts.models import Client
from billow.billing.actions import change_tariff, delete_service
from billow.ledger.selectors import get_reconcile_report
from billow.services.models import Service
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


def _two_month_first_period(world: World, tariff_name: str = "A") -> tuple[Client, Service]:
    """A 100.00 calendar service ordered 27 March with pro-rata day 25: paid until 1 May."""
    small = world.tariff(tariff_name, {"1m": 10_000}, billing_mode="calendar", prorata_day=25)
    client = world.client(balance=100_000)
    service = world.service(client, small, date(2025, 3, 27))
    assert world.expenses(service) == [
        # 5 of March's 31 days (16.13) plus all of April
        ("charge", date(2025, 3, 27), date(2025, 5, 1), 10_000 + 1613)
    ]
    return client, service


def test_upgrade_inside_a_two_month_first_period_prorates_by_the_month_being_used() -> None:
    # given A 100.00 ordered 27 March (pro-rata day 25) and B 200.00
    world = World()
    client, service = _two_month_first_period(world)
    large = world.tariff("B", {"1m": 20_000}, billing_mode="calendar", prorata_day=25)
    # when it upgrades on 16 April (15 of April's 30 days left)
    change_tariff(service=service, tariff=large, now=at(date(2025, 4, 16)))
    # then (200 - 100) x 15/30 = 50.00, not the 49.77 of a spread over 27 March .. 1 May
    assert world.expenses(service)[-1] == ("charge", date(2025, 4, 16), date(2025, 5, 1), 5000)
    assert world.balance(client) == 100_000 - 11_613 - 5000
    assert get_reconcile_report().ok


def test_refund_inside_a_two_month_first_period_is_the_rest_of_the_month_being_used() -> None:
    # given the same service
    world = World()
    client, service = _two_month_first_period(world)
    # when the client deletes it on 16 April with a refund
    delete_service(service=service, when="now", refund=True, now=at(date(2025, 4, 16)))
    # then 100.00 x 15/30 = 50.00 comes back
    assert world.expenses(service)[-1] == ("refund", date(2025, 4, 16), date(2025, 5, 1), 5000)
    assert world.balance(client) == 100_000 - 11_613 + 5000
    assert get_reconcile_report().ok


def test_upgrade_in_the_march_stub_of_a_two_month_first_period_counts_april_whole() -> None:
    # given the same service, upgraded on 30 March (2 of March's 31 days left, then April)
    world = World()
    _, service = _two_month_first_period(world)
    large = world.tariff("B", {"1m": 20_000}, billing_mode="calendar", prorata_day=25)
    change_tariff(service=service, tariff=large, now=at(date(2025, 3, 30)))
    # then 100.00 x (2/31 + 1) = 106.45
    assert world.expenses(service)[-1] == ("charge", date(2025, 3, 30), date(2025, 5, 1), 10_645)
