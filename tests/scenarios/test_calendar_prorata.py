"""Scenario: calendar billing with a pro-rata day (reference §1.8), ordered before and after it."""

from __future__ import annotations

from datetime import date

import pytest

from tests.billing.world import World

pytestmark = pytest.mark.django_db


def test_ordered_before_the_prorata_day_pays_to_the_month_end() -> None:
    # given a calendar tariff at 30.00/month with pro-rata day 20
    world = World()
    tariff = world.tariff("Cal", {"1m": 3000}, billing_mode="calendar", prorata_day=20)
    client = world.client(balance=10_000)
    # when a service is ordered on 10 April (before the 20th)
    service = world.service(client, tariff, date(2025, 4, 10))
    # then it pays 21/30 of a month, to 1 May, then whole months aligned to the 1st
    world.bill(date(2025, 5, 1))
    world.bill(date(2025, 6, 1))
    assert world.expenses(service) == [
        ("charge", date(2025, 4, 10), date(2025, 5, 1), 2100),
        ("charge", date(2025, 5, 1), date(2025, 6, 1), 3000),
        ("charge", date(2025, 6, 1), date(2025, 7, 1), 3000),
    ]
    assert world.balance(client) == 10_000 - 8100


def test_ordered_on_or_after_the_prorata_day_pays_to_the_end_of_next_month() -> None:
    # given the same tariff
    world = World()
    tariff = world.tariff("Cal", {"1m": 3000}, billing_mode="calendar", prorata_day=20)
    client = world.client(balance=20_000)
    # when services are ordered on the 20th and on 25 April
    on_day = world.service(client, tariff, date(2025, 4, 20))
    after = world.service(client, tariff, date(2025, 4, 25))
    # then each pays its partial month plus all of May, and renews on 1 June
    world.bill(date(2025, 5, 1))  # nothing due yet
    world.bill(date(2025, 6, 1))
    assert world.expenses(on_day) == [
        ("charge", date(2025, 4, 20), date(2025, 6, 1), 3000 + 1100),
        ("charge", date(2025, 6, 1), date(2025, 7, 1), 3000),
    ]
    assert world.expenses(after) == [
        ("charge", date(2025, 4, 25), date(2025, 6, 1), 3000 + 600),
        ("charge", date(2025, 6, 1), date(2025, 7, 1), 3000),
    ]


def test_an_order_on_the_first_is_a_whole_month() -> None:
    world = World()
    tariff = world.tariff("Cal", {"1m": 3000}, billing_mode="calendar", prorata_day=1)
    client = world.client(balance=10_000)
    service = world.service(client, tariff, date(2025, 2, 1))
    assert world.expenses(service) == [("charge", date(2025, 2, 1), date(2025, 3, 1), 3000)]
