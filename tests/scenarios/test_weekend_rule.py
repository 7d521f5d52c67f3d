"""Scenario: product types with no-suspend-on-weekends defer suspensions to Monday."""

from __future__ import annotations

from datetime import date

import pytest

from billow.services.states import ServiceStatus
from tests.billing.world import World

pytestmark = pytest.mark.django_db

SATURDAY, SUNDAY, MONDAY = date(2025, 3, 1), date(2025, 3, 2), date(2025, 3, 3)


def test_unpaid_renewal_on_a_saturday_suspends_on_monday() -> None:
    # given a service of a no-weekend-suspension type whose unpaid renewal falls on a Saturday
    world = World(no_suspend_weekends=True)
    tariff = world.tariff("VPS", {"1m": 1000})
    client = world.client(balance=1000)
    service = world.service(client, tariff, date(2025, 2, 1))
    # when the run happens on Saturday and Sunday
    sat = world.bill(SATURDAY)
    world.bill(SUNDAY)
    # then the service stays active (deferred), and is suspended on Monday
    assert sat.report["deferred"] == 1
    assert world.refresh(service).status == ServiceStatus.ACTIVE
    mon = world.bill(MONDAY)
    assert mon.report["suspended"] == 1
    assert world.refresh(service).status == ServiceStatus.SUSPENDED_NONPAYMENT


def test_other_product_types_are_suspended_on_saturday() -> None:
    world = World(no_suspend_weekends=False)
    tariff = world.tariff("VPS", {"1m": 1000})
    client = world.client(balance=1000)
    service = world.service(client, tariff, date(2025, 2, 1))
    world.bill(SATURDAY)
    assert world.refresh(service).status == ServiceStatus.SUSPENDED_NONPAYMENT


def test_a_top_up_over_the_weekend_renews_without_suspension() -> None:
    world = World(no_suspend_weekends=True)
    tariff = world.tariff("VPS", {"1m": 1000})
    client = world.client(balance=1000)
    service = world.service(client, tariff, date(2025, 2, 1))
    world.bill(SATURDAY)
    world.topup(client, 1000)
    world.bill(SUNDAY)
    service = world.refresh(service)
    assert service.status == ServiceStatus.ACTIVE
    assert service.paid_until == date(2025, 4, 1)
