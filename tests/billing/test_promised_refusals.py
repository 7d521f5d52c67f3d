"""Promised payments: each refusal has its stable code and writes nothing; staff grant and
revoke."""

from __future__ import annotations

from datetime import date

import pytest

from billow.billing.actions import (
    grant_promised_payment,
    revoke_promised_payment,
    set_client_billing_settings,
    take_promised_payment,
)
from billow.billing.errors import PromisedPaymentError
from billow.billing.models import BillingPolicy, ClientBillingSettings, PromisedPayment
from billow.billing.terms import get_promise_offer
from billow.core.actors import Actor
from tests.billing.world import World, at, db_state

pytestmark = pytest.mark.django_db
FEB_12 = date(2025, 2, 12)


def offering_world(**policy: int) -> World:
    world = World()
    BillingPolicy.objects.create(
        provider=world.provider,
        currency="USD",
        **{"promised_amount_minor": 2000, "promised_days": 5, **policy},
    )
    return world


def take(world: World, client: object, day: date) -> PromisedPayment:
    return take_promised_payment(
        client=client,  # type: ignore[arg-type]
        provider=world.provider,
        currency="USD",
        now=at(day),
    )


def refused(world: World, client: object, day: date, code: str) -> None:
    before = db_state()
    promises = PromisedPayment.objects.count()
    with pytest.raises(PromisedPaymentError) as caught:
        take(world, client, day)
    assert caught.value.code == code
    assert db_state() == before
    assert PromisedPayment.objects.count() == promises


def test_not_offered_without_a_policy_amount() -> None:
    world = World()
    refused(world, world.client(), FEB_12, "promised_payment_unavailable")


def test_refused_to_post_paid_clients() -> None:
    world = offering_world()
    client = world.client()
    set_client_billing_settings(client=client, currency="USD", postpaid=True)
    refused(world, client, FEB_12, "promised_payment_postpaid")


def test_one_at_a_time_and_once_per_interval() -> None:
    world = offering_world(promised_interval_days=30)
    client = world.client()
    take(world, client, FEB_12)
    refused(world, client, date(2025, 2, 16), "promised_payment_active")
    # its day passes with nothing owed: repaid; the next is possible 30 days after the first
    world.bill(date(2025, 2, 17))
    refused(world, client, date(2025, 3, 13), "promised_payment_too_soon")
    offer = get_promise_offer(client.pk, world.provider.pk, "USD", date(2025, 3, 13))
    assert offer.available_on == date(2025, 3, 14)
    assert take(world, client, date(2025, 3, 14)).expires_on == date(2025, 3, 19)


def test_refused_while_a_lapsed_promise_is_unpaid() -> None:
    world = offering_world(promised_interval_days=0)
    tariff = world.tariff("VPS", {"1m": 1000})
    client = world.client(balance=1500)
    world.service(client, tariff, date(2025, 1, 10))
    world.bill(date(2025, 2, 10))
    take(world, client, FEB_12)
    world.bill(date(2025, 2, 17))  # lapsed: -5.00 owed
    refused(world, client, date(2025, 2, 18), "promised_payment_unpaid")


def test_staff_grant_any_amount_and_revoke() -> None:
    world = World()  # no policy: staff may still grant
    client = world.client()
    staff = Actor.system("staff test")
    with pytest.raises(PromisedPaymentError) as caught:
        grant_promised_payment(
            client=client, provider=world.provider, currency="USD", amount_minor=0, days=3
        )
    assert caught.value.code == "invalid_promised_payment"
    promise = grant_promised_payment(
        client=client,
        provider=world.provider,
        currency="USD",
        amount_minor=5000,
        days=10,
        actor=staff,
        now=at(FEB_12),
    )
    assert (promise.amount_minor, promise.expires_on, promise.granted_by_staff) == (
        5000,
        date(2025, 2, 22),
        True,
    )
    revoked = revoke_promised_payment(
        client=client,
        currency="USD",
        actor=staff,
        now=at(date(2025, 2, 13)),
    )
    assert revoked.status == "revoked"
    terms = ClientBillingSettings.objects.get(client=client, currency="USD")
    assert (terms.promised_minor, terms.promised_until) == (0, date(2025, 2, 13))
    before = db_state()
    with pytest.raises(PromisedPaymentError) as caught:
        revoke_promised_payment(client=client, currency="USD", now=at(date(2025, 2, 13)))
    assert caught.value.code == "promised_payment_not_active"
    assert db_state() == before
