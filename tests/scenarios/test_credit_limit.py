"""Scenario: a credit limit lets the balance go negative down to the limit, not further."""

from __future__ import annotations

from datetime import date

import pytest

from billow.billing.actions import set_client_billing_settings
from billow.services.states import ServiceStatus
from tests.billing.world import World

pytestmark = pytest.mark.django_db


def test_renewals_run_on_credit_until_the_limit() -> None:
    # given a client with no money and a 25.00 credit limit, a 10.00/month service
    world = World()
    tariff = world.tariff("VPS", {"1m": 1000})
    client = world.client()
    set_client_billing_settings(client=client, currency="USD", credit_limit_minor=2500)
    service = world.service(client, tariff, date(2025, 1, 5))
    assert world.balance(client) == -1000
    # when two renewals fall due
    world.bill(date(2025, 2, 5))
    assert world.balance(client) == -2000
    run = world.bill(date(2025, 3, 5))
    # then the second would pass the limit: suspended, balance stays at -20.00
    assert world.refresh(service).status == ServiceStatus.SUSPENDED_NONPAYMENT
    assert run.report["suspended"] == 1
    assert world.balance(client) == -2000
    # when the client pays 5.00 (available 5.00 + 25.00 - 20.00 = 10.00)
    world.topup(client, 500)
    world.bill(date(2025, 3, 6))
    # then the period is charged and the service resumed
    assert world.refresh(service).status == ServiceStatus.ACTIVE
    assert world.balance(client) == -2500
