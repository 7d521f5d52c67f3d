"""Scenario: a post-paid client is never suspended for non-payment."""

from __future__ import annotations

from datetime import date

import pytest

from billow.billing.actions import set_client_billing_settings
from billow.services.states import ServiceStatus
from tests.billing.world import World

pytestmark = pytest.mark.django_db


def test_postpaid_services_renew_on_an_unlimited_negative_balance() -> None:
    # given a post-paid client with nothing on the balance
    world = World()
    tariff = world.tariff("VPS", {"1m": 1000})
    client = world.client()
    set_client_billing_settings(client=client, currency="USD", postpaid=True)
    service = world.service(client, tariff, date(2025, 1, 5))
    # when a year of renewals falls due
    for month in range(2, 13):
        run = world.bill(date(2025, month, 5))
        assert run.report["suspended"] == 0
    # then it is active and the balance is minus twelve months
    assert world.refresh(service).status == ServiceStatus.ACTIVE
    assert world.balance(client) == -12_000
    assert len(world.expenses(service)) == 12
