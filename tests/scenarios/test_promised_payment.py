"""Scenario: a promised payment resumes a service suspended for non-payment at once and
expires on its day (reference §1.14)."""

from __future__ import annotations

from datetime import date

import pytest

from billow.billing.actions import resume_paid_services, take_promised_payment
from billow.billing.models import BillingPolicy, ClientBillingSettings, PromisedPayment
from billow.services.states import ServiceStatus
from tests.billing.world import World, at

pytestmark = pytest.mark.django_db


def test_a_promise_resumes_at_once_and_expires_on_its_day() -> None:
    # given a provider that offers a 20.00 promised payment for 5 days, and a client whose
    # 10.00/month service was suspended on 10 February with 5.00 on the balance
    world = World()
    BillingPolicy.objects.create(
        provider=world.provider, currency="USD", promised_amount_minor=2000, promised_days=5
    )
    tariff = world.tariff("VPS", {"1m": 1000})
    client = world.client(balance=1500)
    service = world.service(client, tariff, date(2025, 1, 10))
    world.bill(date(2025, 2, 10))
    assert world.refresh(service).status == ServiceStatus.SUSPENDED_NONPAYMENT
    # when the client takes the promised payment on 12 February
    promise = take_promised_payment(
        client=client, provider=world.provider, currency="USD", now=at(date(2025, 2, 12))
    )
    # then the period is charged on the promise and the service resumes at once
    assert (promise.amount_minor, promise.expires_on, promise.status) == (
        2000,
        date(2025, 2, 17),
        "active",
    )
    service = world.refresh(service)
    assert (service.status, service.paid_until) == (ServiceStatus.ACTIVE, date(2025, 3, 10))
    assert world.expenses(service)[-1] == ("charge", date(2025, 2, 10), date(2025, 3, 10), 1000)
    assert world.balance(client) == -500
    # when the runs of the promise's days pass: nothing changes
    run = world.bill(date(2025, 2, 16))
    assert world.refresh(service).status == ServiceStatus.ACTIVE
    assert run.report["suspended"] == 0
    # when its day comes unpaid
    run = world.bill(date(2025, 2, 17))
    # then the credit is gone and the service is suspended again, as before the promise
    assert world.refresh(service).status == ServiceStatus.SUSPENDED_NONPAYMENT
    assert run.report["suspended"] == 1
    promise.refresh_from_db()
    assert promise.status == "lapsed"
    assert world.balance(client) == -500
    # when the client pays the 5.00 it owes
    world.topup(client, 500)
    resumed = resume_paid_services(client_id=client.pk, currency="USD", now=at(date(2025, 2, 18)))
    # then the service resumes (its period is paid) and the promise is forgotten
    assert resumed == [service.pk]
    assert world.refresh(service).status == ServiceStatus.ACTIVE
    assert world.balance(client) == 0
    terms = ClientBillingSettings.objects.get(client=client, currency="USD")
    assert (terms.promised_minor, terms.promised_until) == (0, None)
    assert PromisedPayment.objects.filter(client=client).count() == 1


def test_a_promise_repaid_before_its_day_ends_quietly() -> None:
    # given a client on a promised payment that pays what it owes before the promise's day
    world = World()
    BillingPolicy.objects.create(
        provider=world.provider, currency="USD", promised_amount_minor=2000, promised_days=5
    )
    tariff = world.tariff("VPS", {"1m": 1000})
    client = world.client(balance=1500)
    service = world.service(client, tariff, date(2025, 1, 10))
    world.bill(date(2025, 2, 10))
    promise = take_promised_payment(
        client=client, provider=world.provider, currency="USD", now=at(date(2025, 2, 12))
    )
    world.topup(client, 500)
    # when its day's run comes
    world.bill(date(2025, 2, 17))
    # then the service runs on and the promise is closed as repaid
    assert world.refresh(service).status == ServiceStatus.ACTIVE
    promise.refresh_from_db()
    assert promise.status == "repaid"
    terms = ClientBillingSettings.objects.get(client=client, currency="USD")
    assert (terms.promised_minor, terms.promised_until) == (0, None)
