"""Scenario: services suspended automatically are deleted after the product type's period;
manual suspensions are not; delete-at-period-end and expiry without auto-renew."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from billow.services.states import ServiceStatus
from tests.billing.world import World

pytestmark = pytest.mark.django_db


def test_unpaid_service_is_deleted_after_the_auto_delete_period() -> None:
    # given a product type with a 10-day auto-delete period and an unpaid renewal on 1 March
    world = World(auto_delete_days=10)
    tariff = world.tariff("VPS", {"1m": 1000})
    client = world.client(balance=1000)
    service = world.service(client, tariff, date(2025, 2, 1))
    world.bill(date(2025, 3, 1))
    assert world.refresh(service).status == ServiceStatus.SUSPENDED_NONPAYMENT
    # when the run passes day 10 after the suspension
    world.bill(date(2025, 3, 10))
    assert world.refresh(service).status == ServiceStatus.SUSPENDED_NONPAYMENT
    run = world.bill(date(2025, 3, 11))
    # then it is deleted (through in progress, as the transition table says) and not charged
    service = world.refresh(service)
    assert service.status == ServiceStatus.DELETED
    assert service.deleted_at is not None
    assert run.report["deleted"] == 1
    assert world.events(service)[-2:] == [
        ("service.in_progress", "suspended_nonpayment", "in_progress"),
        ("service.deleted", "in_progress", "deleted"),
    ]
    assert len(world.expenses(service)) == 1
    assert world.balance(client) == 0


def test_a_service_suspended_by_staff_is_not_auto_deleted() -> None:
    world = World(auto_delete_days=1)
    tariff = world.tariff("VPS", {"1m": 1000})
    client = world.client(balance=1000)
    service = world.service(client, tariff, date(2025, 2, 1))
    type(service).objects.filter(pk=service.pk).update(status=ServiceStatus.SUSPENDED_BY_STAFF)
    for offset in range(0, 40, 5):
        world.bill(date(2025, 3, 1) + timedelta(days=offset))
    assert world.refresh(service).status == ServiceStatus.SUSPENDED_BY_STAFF


def test_delete_at_period_end_and_expiry_without_auto_renew() -> None:
    # given one service to be deleted at period end and one without auto-renew
    world = World(auto_delete_days=3)
    tariff = world.tariff("VPS", {"1m": 1000})
    client = world.client(balance=10_000)
    leaving = world.service(client, tariff, date(2025, 2, 1), delete_at_period_end=True)
    expiring = world.service(client, tariff, date(2025, 2, 1), auto_renew="")
    # when the period ends
    run = world.bill(date(2025, 3, 1))
    # then the first is deleted, the second expires (suspended), neither is charged again
    assert world.refresh(leaving).status == ServiceStatus.DELETED
    assert world.refresh(expiring).status == ServiceStatus.SUSPENDED_NONPAYMENT
    assert (run.report["deleted"], run.report["expired"], run.report["renewed"]) == (1, 1, 0)
    assert world.balance(client) == 8000
    # and the expired one is deleted after the auto-delete period
    world.bill(date(2025, 3, 4))
    assert world.refresh(expiring).status == ServiceStatus.DELETED
