"""Scenario: anniversary monthly renewal over month ends, 31 Jan -> 28/29 Feb -> 31 Mar."""

from __future__ import annotations

from datetime import date

import pytest

from billow.ledger.selectors import get_reconcile_report
from billow.services.states import ServiceStatus
from tests.billing.world import World

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("year", "february_end"),
    [(2025, date(2025, 2, 28)), (2024, date(2024, 2, 29))],
)
def test_monthly_service_ordered_on_the_31st_renews_on_month_ends(
    year: int, february_end: date
) -> None:
    # given a 10.00/month VPS ordered on 31 January by a client with 100.00
    world = World()
    tariff = world.tariff("VPS-M", {"1m": 1000})
    client = world.client(balance=10_000)
    service = world.service(client, tariff, date(year, 1, 31))
    assert service.paid_until == february_end

    # when the billing runs every day from the opening to the first days of May
    for day in range(date(year, 2, 1).toordinal(), date(year, 5, 3).toordinal()):
        world.bill(date.fromordinal(day))

    # then it was charged for exactly four periods, each anchored back on the 31st
    assert world.expenses(service) == [
        ("charge", date(year, 1, 31), february_end, 1000),
        ("charge", february_end, date(year, 3, 31), 1000),
        ("charge", date(year, 3, 31), date(year, 4, 30), 1000),
        ("charge", date(year, 4, 30), date(year, 5, 31), 1000),
    ]
    service = world.refresh(service)
    assert service.paid_until == date(year, 5, 31)
    assert service.status == ServiceStatus.ACTIVE
    assert world.balance(client) == 6000
    assert get_reconcile_report().ok


def test_rerunning_a_billing_date_charges_nothing_more() -> None:
    # given a service renewed by the run of 28 February 2025
    world = World()
    tariff = world.tariff("VPS-M", {"1m": 1000})
    client = world.client(balance=5000)
    service = world.service(client, tariff, date(2025, 1, 31))
    first = world.bill(date(2025, 2, 28))
    # when the same date is billed twice more
    second = world.bill(date(2025, 2, 28))
    third = world.bill(date(2025, 2, 28))
    # then the period was charged once, and the later runs report nothing renewed
    assert len(world.expenses(service)) == 2
    assert world.balance(client) == 3000
    assert first.report["renewed"] == 1
    assert first.report["amounts"] == {"USD": 1000}
    assert second.report["renewed"] == third.report["renewed"] == 0
