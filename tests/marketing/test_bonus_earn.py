""" "You will earn N" equals what the account later receives, for each trigger (first purchase,
repeat purchase, renewal, top-up, manual), with a 20% VAT included in the prices: points
accrue on the amount net of tax."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from billow.accounts.models import Client
from billow.billing.bonus import accrue_renewal_bonuses, estimate_renewal_points
from billow.core.money import Money
from billow.invoicing.models import TaxRule
from billow.marketing.bonus.actions import apply_manual_rules
from billow.marketing.bonus.selectors import estimate_manual_points
from billow.payments import actions as payments
from billow.payments.bonus import estimate_topup_points
from tests.billing.world import World, at
from tests.marketing.bonus_world import account, checkout, points, program, quote, rule
from tests.payments.conftest import make_method
from tests.scenarios.ordering import module_jobs_inline  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("module_jobs_inline")]

JAN = date(2026, 1, 10)


def taxed_world() -> tuple[World, Any, Client]:
    world = World()
    TaxRule.objects.create(
        provider=world.provider, name="VAT", country="DE", rate=Decimal(20), included=True
    )
    tariff = world.tariff("VPS", {"1m": 10000})
    client = world.client(balance=100_000)
    Client.objects.filter(pk=client.pk).update(country="DE")
    client.refresh_from_db()
    client.providers.add(world.provider)  # before the first quote reads the client's scope
    return world, tariff, client


def test_first_purchase_earns_what_the_quote_said(django_capture_on_commit_callbacks: Any) -> None:
    world, tariff, client = taxed_world()
    p = program(world)
    rule(p, "first_purchase", kind="percent", percent=Decimal(10))
    rule(p, "repeat_purchase", points=999)
    # 100.00 with 16.67 VAT included: 10% of 83.33 = 833 points
    q = quote(world, client, tariff, now=at(JAN))
    assert q.earn_points == 833
    checkout(world, client, tariff, now=at(JAN), capture=django_capture_on_commit_callbacks)
    assert points(world, client) == 833


def test_repeat_purchase_earns_what_the_quote_said(django_capture_on_commit_callbacks: Any) -> None:
    world, tariff, client = taxed_world()
    p = program(world)
    rule(p, "repeat_purchase", kind="percent", percent=Decimal(3))
    rule(p, "repeat_purchase", points=250, nth_purchase=3)
    capture = django_capture_on_commit_callbacks
    checkout(world, client, tariff, now=at(JAN), capture=capture)
    assert points(world, client) == 0  # the first purchase is not a repeat purchase
    for n, expected in ((2, 249), (3, 249 + 250)):
        q = quote(world, client, tariff, now=at(JAN, 10 + n))
        assert q.earn_points == expected, n
        before = points(world, client)
        checkout(world, client, tariff, now=at(JAN, 10 + n), capture=capture)
        assert points(world, client) - before == expected


def test_renewal_earns_what_the_estimate_said(django_capture_on_commit_callbacks: Any) -> None:
    world, tariff, client = taxed_world()
    p = program(world)
    rule(p, "renewal", kind="percent", percent=Decimal(5))
    result = checkout(
        world, client, tariff, now=at(JAN), capture=django_capture_on_commit_callbacks
    )
    service = world.refresh(result.items[0].service)
    estimate = estimate_renewal_points(service, now=at(date(2026, 2, 9)))
    assert estimate == 416  # 5% of 83.33
    world.bill(date(2026, 2, 10))
    accrue_renewal_bonuses(day=date(2026, 2, 10), now=at(date(2026, 2, 10), 1))
    assert points(world, client) == estimate


def test_topup_earns_what_the_form_said(django_capture_on_commit_callbacks: Any) -> None:
    world, _, client = taxed_world()
    client.providers.add(world.provider)
    p = program(world)
    rule(p, "topup", kind="percent", percent=Decimal(2))
    rule(p, "topup", points=100, min_amount_minor=50000, min_amount_currency="USD")
    method = make_method(world.provider, "sandbox", secrets={"webhook_secret": "s"})
    estimate = estimate_topup_points(
        client=client, provider_id=world.provider.pk, amount=Money(60000, "USD")
    )
    assert estimate == 1200 + 100
    payment = payments.create_payment(client=client, amount=Money(60000, "USD"), method=method)
    with django_capture_on_commit_callbacks(execute=True):
        payments.mark_payment_paid(payment=payment)
    assert points(world, client) == estimate
    with django_capture_on_commit_callbacks(execute=True):
        payments.mark_payment_paid(payment=payment)  # a replay accrues nothing twice
    assert points(world, client) == estimate


def test_manual_rules_give_what_the_preview_said() -> None:
    world, _, client = taxed_world()
    client.providers.add(world.provider)
    p = program(world, welcome_enabled=True, welcome_points=50)
    rule(p, "manual", kind="percent", percent=Decimal("12.5"))
    from billow.marketing.bonus.actions import ensure_bonus_account

    acc = ensure_bonus_account(client_id=client.pk, provider_id=world.provider.pk)
    assert acc is not None
    estimate = estimate_manual_points(acc, 8000, "USD")
    assert estimate == 1000
    apply_manual_rules(account=acc, amount_minor=8000, currency="USD", nonce="n1")
    apply_manual_rules(account=acc, amount_minor=8000, currency="USD", nonce="n1")
    assert account(world, client).balance_points == 50 + estimate
