"""Scenario: quarterly and yearly periods, including a leap-day order."""

from __future__ import annotations

from datetime import date

import pytest

from tests.billing.world import World

pytestmark = pytest.mark.django_db


def test_quarterly_service_renews_every_three_months() -> None:
    # given a tariff at 27.00 per quarter, ordered on 30 November
    world = World()
    tariff = world.tariff("Q", {"1m": 1000, "3m": 2700})
    client = world.client(balance=20_000)
    service = world.service(client, tariff, date(2024, 11, 30), period="3m")
    # when the run passes each quarter end
    for day in (date(2025, 2, 28), date(2025, 5, 30), date(2025, 8, 30)):
        world.bill(day)
    # then each quarter was charged once, anchored on the 30th
    assert world.expenses(service) == [
        ("charge", date(2024, 11, 30), date(2025, 2, 28), 2700),
        ("charge", date(2025, 2, 28), date(2025, 5, 30), 2700),
        ("charge", date(2025, 5, 30), date(2025, 8, 30), 2700),
        ("charge", date(2025, 8, 30), date(2025, 11, 30), 2700),
    ]
    assert world.balance(client) == 20_000 - 4 * 2700


def test_yearly_service_ordered_on_a_leap_day() -> None:
    # given a yearly tariff ordered on 29 February 2024
    world = World()
    tariff = world.tariff("Y", {"12m": 9600})
    client = world.client(balance=40_000)
    service = world.service(client, tariff, date(2024, 2, 29), period="12m")
    # when the run passes the next two anniversaries
    world.bill(date(2025, 2, 28))
    world.bill(date(2026, 2, 28))
    # then it renews on 28 Feb in common years and back on 29 Feb in 2028
    assert world.expenses(service) == [
        ("charge", date(2024, 2, 29), date(2025, 2, 28), 9600),
        ("charge", date(2025, 2, 28), date(2026, 2, 28), 9600),
        ("charge", date(2026, 2, 28), date(2027, 2, 28), 9600),
    ]
    world.bill(date(2027, 2, 28))
    assert world.refresh(service).paid_until == date(2028, 2, 29)


def test_auto_renew_for_a_longer_period_than_ordered() -> None:
    # given a monthly order that auto-renews for a quarter
    world = World()
    tariff = world.tariff("Q", {"1m": 1000, "3m": 2700})
    client = world.client(balance=10_000)
    service = world.service(client, tariff, date(2025, 1, 15), auto_renew="3m")
    world.bill(date(2025, 2, 15))
    assert world.expenses(service) == [
        ("charge", date(2025, 1, 15), date(2025, 2, 15), 1000),
        ("charge", date(2025, 2, 15), date(2025, 5, 15), 2700),
    ]
