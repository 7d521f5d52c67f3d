"""Scenario: a bonus program over four months (issue 16), exact points and money at each step.

Program: welcome 500 points, 1 point = 1 cent, at most 15% of an order payable with points,
points expire after 2 months. Rules: first purchase 10% (priority 10, stop after) and a fixed
1000 (priority 20, never reached); renewal 5%; repeat purchase fixed 200. The client starts
with 500.00 on the balance and orders 100.00-a-month services (no tax)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from billow.billing.actions import delete_service
from billow.billing.bonus import accrue_renewal_bonuses
from billow.billing.models import Expense
from billow.ledger.models import AccountKind, LedgerAccount
from billow.ledger.selectors import get_reconcile_report
from billow.marketing.bonus.actions import (
    enable_bonus_program,
    ensure_bonus_account,
    expire_bonus_points,
    reverse_bonus_for_refund,
    set_bonus_account_status,
)
from tests.billing.world import World, at
from tests.marketing.bonus_world import (
    account,
    checkout,
    history,
    lots,
    lots_add_up,
    points,
    program,
    quote,
    rule,
)
from tests.scenarios.ordering import module_jobs_inline  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("module_jobs_inline")]


def bonus_expense(world: World) -> int:
    found = LedgerAccount.objects.filter(
        kind=AccountKind.BONUS_EXPENSE, provider=world.provider, currency="USD"
    ).first()
    return 0 if found is None else found.balance_minor


def test_four_months_of_a_bonus_program(django_capture_on_commit_callbacks: Any) -> None:
    capture = django_capture_on_commit_callbacks
    world = World()
    tariff = world.tariff("VPS", {"1m": 10000})
    client = world.client(balance=50000)
    client.providers.add(world.provider)
    p = program(
        world,
        enabled=False,
        welcome_enabled=True,
        welcome_points=500,
        max_share_percent=Decimal(15),
        expiry_months=2,
    )
    rule(p, "first_purchase", kind="percent", percent=Decimal(10), priority=10, stop_after=True)
    rule(p, "first_purchase", points=1000, priority=20)
    rule(p, "renewal", kind="percent", percent=Decimal(5))
    rule(p, "repeat_purchase", points=200)

    # 10 Jan: the program is switched on -> the client's account, with the welcome bonus
    assert enable_bonus_program(program=p, now=at(date(2026, 1, 10), 8)) == 1
    assert history(world, client) == [("welcome", 500)]
    # turned off and on, and asked for again: never a second welcome bonus
    acc = account(world, client)
    set_bonus_account_status(account=acc, status="off")
    set_bonus_account_status(account=acc, status="active")
    ensure_bonus_account(client_id=client.pk, provider_id=world.provider.pk)
    enable_bonus_program(program=p, now=at(date(2026, 1, 10), 8))
    assert points(world, client) == 500

    # 10 Jan: first purchase; the quote says 10% of 100.00 = 1000 points (the stop-after rule)
    q = quote(world, client, tariff, now=at(date(2026, 1, 10), 9))
    assert q.earn_points == 1000
    first = checkout(world, client, tariff, now=at(date(2026, 1, 10), 9), capture=capture)
    assert first.paid
    service_a = world.refresh(first.items[0].service)
    assert points(world, client) == 1500
    assert world.balance(client) == 40000

    # 10 Feb: the run renews A (100.00); the renewal job gives 5% = 500 points
    world.bill(date(2026, 2, 10))
    assert accrue_renewal_bonuses(day=date(2026, 2, 10), now=at(date(2026, 2, 10), 1)) == 1
    assert accrue_renewal_bonuses(day=date(2026, 2, 10), now=at(date(2026, 2, 10), 2)) == 1
    assert points(world, client) == 2000
    assert world.balance(client) == 30000

    # 15 Feb: a repeat purchase paying with as many points as allowed: 15% of 100.00 = 1500
    # points although 2000 are there; the oldest lots go first (welcome 500, first 1000)
    q = quote(world, client, tariff, now=at(date(2026, 2, 15), 9), bonus_points=None)
    assert (q.bonus_points, q.bonus.amount_minor, q.amount_due.amount_minor) == (1500, 1500, 8500)
    assert q.earn_points == 200
    second = checkout(
        world, client, tariff, now=at(date(2026, 2, 15), 9), capture=capture, bonus_points=None
    )
    assert second.paid
    service_b = world.refresh(second.items[0].service)
    assert points(world, client) == 2000 - 1500 + 200
    assert world.balance(client) == 30000 - 8500
    assert bonus_expense(world) == -1500
    assert lots(world, client) == [
        (500, 0, date(2026, 3, 10)),
        (1000, 0, date(2026, 3, 10)),
        (500, 500, date(2026, 4, 10)),
        (200, 200, date(2026, 4, 15)),
    ]

    # 1 Mar: B deleted with a refund of its unused half (14 of 28 days): 50.00 back; half the
    # 200 points it earned go, half the 1500 points that paid it (750) come back and their
    # 7.50 leaves the balance again
    delete_service(service=service_b, when="now", refund=True, now=at(date(2026, 3, 1)))
    assert world.balance(client) == 21500 + 5000 - 750
    assert bonus_expense(world) == -750
    assert points(world, client) == 700 - 100 + 750
    assert history(world, client)[-2:] == [("reversal", -100), ("return", 750)]
    # the same refund reported again changes nothing (keyed by the refund)
    refund = Expense.objects.get(service=service_b, kind="refund")
    charge = Expense.objects.get(service=service_b, kind="charge")
    reverse_bonus_for_refund(
        client_id=client.pk,
        provider_id=world.provider.pk,
        currency="USD",
        charges=[(charge.key, charge.amount_minor)],
        refunded_minor=refund.amount_minor,
        refund_key=refund.key,
        wallet_account_id=world.wallet(client).pk,
        now=at(date(2026, 3, 1), 13),
    )
    assert points(world, client) == 1350 and world.balance(client) == 25750

    # 10 Mar: A renews (+500); the returned 750 kept their lots' expiry (10 Mar) and expire
    world.bill(date(2026, 3, 10))
    accrue_renewal_bonuses(day=date(2026, 3, 10), now=at(date(2026, 3, 10), 1))
    assert expire_bonus_points(now=at(date(2026, 3, 10), 2)) == 750
    assert expire_bonus_points(now=at(date(2026, 3, 10), 3)) == 0
    assert points(world, client) == 1350 + 500 - 750

    # 10 Apr: A renews (+500); the oldest lot left (Feb's renewal, 500) expires
    world.bill(date(2026, 4, 10))
    accrue_renewal_bonuses(day=date(2026, 4, 10), now=at(date(2026, 4, 10), 1))
    assert expire_bonus_points(now=at(date(2026, 4, 10), 2)) == 500
    assert points(world, client) == 1100 + 500 - 500

    # 15 Apr: the repeat-purchase lot's remaining 100 expire
    assert expire_bonus_points(now=at(date(2026, 4, 15), 2)) == 100
    assert points(world, client) == 1000
    assert [k for k, _ in history(world, client)] == [
        "welcome",
        "accrual",
        "accrual",
        "redemption",
        "accrual",
        "reversal",
        "return",
        "accrual",
        "expiry",
        "accrual",
        "expiry",
        "expiry",
    ]
    assert lots_add_up(world, client)
    assert world.refresh(service_a).paid_until == date(2026, 5, 10)
    assert get_reconcile_report().ok
