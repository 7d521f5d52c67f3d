"""A paid payment resumes services suspended for non-payment (billing, same transaction)."""

from __future__ import annotations

from datetime import date

import pytest

from billow.core.money import Money
from billow.payments import actions
from billow.services.states import ServiceStatus
from tests.billing.world import World, at
from tests.payments.conftest import make_method

pytestmark = pytest.mark.django_db


def test_payment_resumes_suspended_service() -> None:
    # given a 10.00/month service suspended for non-payment
    world = World()
    tariff = world.tariff("VPS", {"1m": 1000})
    client = world.client(balance=1000)
    service = world.service(client, tariff, date(2025, 1, 10))
    world.bill(date(2025, 2, 10))
    assert world.refresh(service).status == ServiceStatus.SUSPENDED_NONPAYMENT
    method = make_method(world.provider, "sandbox", secrets={"webhook_secret": "s"})
    # when the client pays 10.00
    payment = actions.create_payment(client=client, amount=Money(1000, "USD"), method=method)
    actions.mark_payment_paid(payment=payment, now=at(date(2025, 2, 12)))
    # then the service is renewed from the balance and active again
    service = world.refresh(service)
    assert service.status == ServiceStatus.ACTIVE
    assert service.paid_until == date(2025, 3, 10)
    assert world.balance(client) == 0


def test_payment_leaves_services_suspended_when_not_enough() -> None:
    world = World()
    tariff = world.tariff("VPS", {"1m": 1000})
    client = world.client(balance=1000)
    service = world.service(client, tariff, date(2025, 1, 10))
    world.bill(date(2025, 2, 10))
    method = make_method(world.provider, "sandbox", secrets={"webhook_secret": "s"})
    payment = actions.create_payment(client=client, amount=Money(999, "USD"), method=method)
    actions.mark_payment_paid(payment=payment, now=at(date(2025, 2, 12)))
    assert world.refresh(service).status == ServiceStatus.SUSPENDED_NONPAYMENT
    assert world.balance(client) == 999
