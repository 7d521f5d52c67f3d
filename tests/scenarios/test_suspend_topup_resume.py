"""Scenario: not enough money -> suspended for non-payment -> top-up -> resumed."""

from __future__ import annotations

from datetime import date

import pytest

from billow.billing.actions import resume_paid_services
from billow.services.models import Service
from billow.services.states import ServiceStatus
from tests.billing.world import World, at

pytestmark = pytest.mark.django_db


def test_unpaid_renewal_suspends_and_a_top_up_resumes() -> None:
    # given a 10.00/month service and a balance that covers only the first month
    world = World()
    tariff = world.tariff("VPS", {"1m": 1000})
    client = world.client(balance=1500)
    service = world.service(client, tariff, date(2025, 1, 10))
    # when the renewal is due on 10 February
    run = world.bill(date(2025, 2, 10))
    # then nothing is charged and the service is suspended for non-payment
    service = world.refresh(service)
    assert service.status == ServiceStatus.SUSPENDED_NONPAYMENT
    assert service.suspended_at is not None
    assert run.report["suspended"] == 1
    assert world.balance(client) == 500
    assert world.events(service)[-1] == ("service.suspended", "active", "suspended_nonpayment")
    # when the client tops up 3.00 (not enough) and payments call the resume hook
    world.topup(client, 300)
    assert (
        resume_paid_services(client_id=client.pk, currency="USD", now=at(date(2025, 2, 12))) == []
    )
    assert world.refresh(service).status == ServiceStatus.SUSPENDED_NONPAYMENT
    # when the client tops up 2.00 more (800 + ... = 1000 available)
    world.topup(client, 200)
    resumed = resume_paid_services(client_id=client.pk, currency="USD", now=at(date(2025, 2, 13)))
    # then the debt period is charged and the service resumed
    service = world.refresh(service)
    assert resumed == [service.pk]
    assert service.status == ServiceStatus.ACTIVE
    assert service.suspended_at is None
    assert service.paid_until == date(2025, 3, 10)
    assert world.expenses(service)[-1] == ("charge", date(2025, 2, 10), date(2025, 3, 10), 1000)
    assert world.balance(client) == 0
    assert world.events(service)[-1] == ("service.resumed", "suspended_nonpayment", "active")


def test_the_daily_run_resumes_a_service_paid_without_the_hook() -> None:
    # given a suspended service whose client has since got money on the balance
    world = World()
    tariff = world.tariff("VPS", {"1m": 1000})
    client = world.client(balance=1000)
    service = world.service(client, tariff, date(2025, 1, 10))
    world.bill(date(2025, 2, 10))
    world.topup(client, 1000)
    # when the next day's run happens
    run = world.bill(date(2025, 2, 11))
    # then it charges the due period and resumes
    assert run.report["resumed"] == 1
    assert Service.objects.get(pk=service.pk).status == ServiceStatus.ACTIVE
    assert world.balance(client) == 0


def test_services_are_resumed_in_id_order_while_money_lasts() -> None:
    world = World()
    tariff = world.tariff("VPS", {"1m": 1000})
    client = world.client(balance=2000)
    first = world.service(client, tariff, date(2025, 1, 10))
    second = world.service(client, tariff, date(2025, 1, 10))
    world.bill(date(2025, 2, 10))
    assert {world.refresh(s).status for s in (first, second)} == {"suspended_nonpayment"}
    world.topup(client, 1500)
    assert resume_paid_services(client_id=client.pk, currency="USD", now=at(date(2025, 2, 11))) == [
        first.pk
    ]
    assert world.refresh(second).status == ServiceStatus.SUSPENDED_NONPAYMENT
    assert world.balance(client) == 500
