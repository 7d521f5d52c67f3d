"""Scenario: a downgrade credits the prorated difference now, or waits for the period end."""

from __future__ import annotations

from datetime import date

import pytest

from billow.billing.actions import change_tariff
from billow.billing.models import PendingChange
from billow.ledger.selectors import get_reconcile_report
from tests.billing.world import World, at

pytestmark = pytest.mark.django_db


def test_downgrade_now_credits_the_prorated_difference() -> None:
    # given a product type that downgrades now with a credit, a 60.00 service opened 1 April
    world = World(downgrade_policy="now_prorated")
    small = world.tariff("S", {"1m": 3000})
    large = world.tariff("L", {"1m": 6000})
    client = world.client(balance=10_000)
    service = world.service(client, large, date(2025, 4, 1))
    # when it moves to the 30.00 tariff on 16 April
    service = change_tariff(service=service, tariff=small, now=at(date(2025, 4, 16)))
    # then (60.00 - 30.00) x 15/30 = 15.00 is credited back
    assert service.tariff_id == small.pk
    assert world.expenses(service)[-1] == ("credit", date(2025, 4, 16), date(2025, 5, 1), 1500)
    assert world.balance(client) == 10_000 - 6000 + 1500
    assert get_reconcile_report().ok


def test_downgrade_at_period_end_is_applied_by_the_renewal() -> None:
    # given the default policy (at period end)
    world = World()
    small = world.tariff("S", {"1m": 3000})
    large = world.tariff("L", {"1m": 6000})
    client = world.client(balance=10_000)
    service = world.service(client, large, date(2025, 4, 1))
    # when it asks for the smaller tariff on 16 April
    service = change_tariff(service=service, tariff=small, now=at(date(2025, 4, 16)))
    # then nothing changes now: no money moves, a change is scheduled for 1 May
    assert service.tariff_id == large.pk
    assert PendingChange.objects.get(service=service).effective_on == date(2025, 5, 1)
    assert world.balance(client) == 4000
    # when 1 May is billed, the renewal is at the smaller price and the tariff switches
    world.bill(date(2025, 5, 1))
    service = world.refresh(service)
    assert service.tariff_id == small.pk
    assert world.expenses(service)[-1] == ("charge", date(2025, 5, 1), date(2025, 6, 1), 3000)
    assert not PendingChange.objects.filter(service=service).exists()
    assert world.balance(client) == 1000
