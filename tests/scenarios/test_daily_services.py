"""Scenario: daily-charged services, with missed run days caught up and the balance running out."""

from __future__ import annotations

from datetime import date

import pytest

from billow.services.states import ServiceStatus
from tests.billing.world import World

pytestmark = pytest.mark.django_db


def test_daily_service_is_charged_each_day_and_catches_up_missed_days() -> None:
    # given a 0.50/day service opened on 1 March with 3.00 on the balance
    world = World()
    tariff = world.tariff("Daily", {"day": 50})
    client = world.client(balance=300)
    service = world.service(client, tariff, date(2025, 3, 1), period="day", auto_renew="")
    assert service.paid_until == date(2025, 3, 2)
    # when the run happens on 2 March, then not until 5 March
    world.bill(date(2025, 3, 2))
    run = world.bill(date(2025, 3, 5))
    # then every day was charged once (4 missed-or-due days -> 3, 4, 5 March in one run)
    assert world.expenses(service) == [
        ("charge", date(2025, 3, d), date(2025, 3, d + 1), 50) for d in range(1, 6)
    ]
    assert run.report["charges"] == 3
    assert world.balance(client) == 50
    # when the money runs out on 7 March
    world.bill(date(2025, 3, 6))
    world.bill(date(2025, 3, 7))
    # then the service is suspended for non-payment, with 6 days charged in all
    service = world.refresh(service)
    assert service.status == ServiceStatus.SUSPENDED_NONPAYMENT
    assert service.paid_until == date(2025, 3, 7)
    assert len(world.expenses(service)) == 6
    assert world.balance(client) == 0
