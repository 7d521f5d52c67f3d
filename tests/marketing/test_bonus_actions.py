"""Bonus actions: consent (version, time, IP) gating accruals and the welcome bonus, staff
adjustments, refusals that write nothing, cancelling an order paid partly with points."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.apps import apps

from billow.core.errors import BillowError
from billow.ledger.models import LedgerAccount
from billow.ledger.selectors import get_reconcile_report
from billow.marketing.bonus.actions import (
    adjust_bonus_points,
    ensure_bonus_account,
    give_bonus_consent,
    redeem_points,
    set_bonus_account_status,
)
from billow.marketing.bonus.models import BonusConsent, BonusProgram
from billow.orders import actions as orders
from tests.billing.world import World, at
from tests.marketing.bonus_world import (
    account,
    checkout,
    history,
    lots_add_up,
    points,
    program,
    quote,
    rule,
)
from tests.scenarios.ordering import module_jobs_inline  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("module_jobs_inline")]

JAN = date(2026, 1, 10)


def state() -> dict[str, Any]:
    out: dict[str, Any] = {}
    for label in ("marketing", "ledger", "orders"):
        for model in apps.get_app_config(label).get_models():
            out[model._meta.db_table] = model.objects.count()
    out["balances"] = sorted(LedgerAccount.objects.values_list("id", "balance_minor"))
    return out


def test_consent_gates_welcome_and_accruals(django_capture_on_commit_callbacks: Any) -> None:
    world = World()
    tariff = world.tariff("VPS", {"1m": 10000})
    client = world.client(balance=50000)
    client.providers.add(world.provider)
    p = program(
        world,
        consent_required=True,
        consent_text="I agree",
        consent_version="2026-01",
        welcome_enabled=True,
        welcome_points=300,
    )
    rule(p, "first_purchase", points=100)
    rule(p, "repeat_purchase", points=100)
    capture = django_capture_on_commit_callbacks
    # without consent: an account, but no welcome bonus, "you will earn 0", no accrual
    ensure_bonus_account(client_id=client.pk, provider_id=world.provider.pk)
    assert quote(world, client, tariff, now=at(JAN)).earn_points == 0
    checkout(world, client, tariff, now=at(JAN), capture=capture)
    assert points(world, client) == 0
    # consent: version, time and IP kept; the welcome bonus comes now, once
    give_bonus_consent(
        client=client, provider_id=world.provider.pk, ip="203.0.113.5", now=at(JAN, 13)
    )
    give_bonus_consent(
        client=client, provider_id=world.provider.pk, ip="203.0.113.6", now=at(JAN, 14)
    )
    acc = account(world, client)
    assert (acc.consent_version, acc.consented_at, acc.consent_ip) == (
        "2026-01",
        at(JAN, 14),
        "203.0.113.6",
    )
    assert list(BonusConsent.objects.filter(account=acc).values_list("version", "ip")) == [
        ("2026-01", "203.0.113.6"),
        ("2026-01", "203.0.113.5"),
    ]
    assert history(world, client) == [("welcome", 300)]
    assert quote(world, client, tariff, now=at(JAN, 15)).earn_points == 100
    checkout(world, client, tariff, now=at(JAN, 15), capture=capture)
    assert points(world, client) == 400
    # a new consent text: nothing accrues until the client accepts it
    BonusProgram.objects.filter(pk=p.pk).update(consent_version="2026-02")
    checkout(world, client, tariff, now=at(JAN, 16), capture=capture)
    assert points(world, client) == 400
    # turned off: nothing accrues either, and points cannot pay
    give_bonus_consent(client=client, provider_id=world.provider.pk, ip=None, now=at(JAN, 17))
    set_bonus_account_status(account=acc, status="off")
    q = quote(world, client, tariff, now=at(JAN, 18), bonus_points=None)
    assert (q.earn_points, q.bonus_points) == (0, 0)
    assert history(world, client) == [("welcome", 300), ("accrual", 100)]


def test_staff_adjustments_and_their_refusals() -> None:
    world = World()
    client = world.client()
    client.providers.add(world.provider)
    program(world, expiry_months=1)
    acc = ensure_bonus_account(client_id=client.pk, provider_id=world.provider.pk)
    assert acc is not None
    move = adjust_bonus_points(
        account=acc, direction="accrual", points=70, reason="apology", nonce="a1", now=at(JAN)
    )
    again = adjust_bonus_points(
        account=acc, direction="accrual", points=70, reason="apology", nonce="a1", now=at(JAN)
    )
    assert again.pk == move.pk and points(world, client) == 70
    assert (move.reason, move.lot.expires_on) == ("apology", date(2026, 2, 10))
    before = state()
    for kw, code in (
        ({"direction": "deduction", "points": 71, "reason": "x"}, "insufficient_bonus_points"),
        ({"direction": "accrual", "points": 5, "reason": " "}, "reason_required"),
        ({"direction": "accrual", "points": 0, "reason": "x"}, "invalid_points"),
        ({"direction": "sideways", "points": 5, "reason": "x"}, "invalid_direction"),
    ):
        with pytest.raises(BillowError) as err:
            adjust_bonus_points(account=acc, nonce="r", **kw)  # type: ignore[arg-type]
        assert err.value.code == code
        assert state() == before
    adjust_bonus_points(account=acc, direction="deduction", points=20, reason="abuse", nonce="d1")
    assert history(world, client) == [("manual_accrual", 70), ("manual_deduction", -20)]
    assert lots_add_up(world, client)


def test_redemption_refusals_write_nothing() -> None:
    world = World()
    client = world.client(balance=1000)
    client.providers.add(world.provider)
    program(world)
    acc = ensure_bonus_account(client_id=client.pk, provider_id=world.provider.pk)
    assert acc is not None
    adjust_bonus_points(account=acc, direction="accrual", points=100, reason="gift", nonce="g")
    before = state()
    common = {
        "client_id": client.pk,
        "provider_id": world.provider.pk,
        "currency": "USD",
        "wallet_account_id": world.wallet(client).pk,
        "reference": "order:999",
    }
    for points_, amount, code in (
        (101, 101, "insufficient_bonus_points"),
        (50, 49, "bonus_points_not_accepted"),
    ):
        with pytest.raises(BillowError) as err:
            redeem_points(points=points_, amount_minor=amount, **common)  # type: ignore[arg-type]
        assert err.value.code == code
        assert state() == before


def test_cancelling_an_unpaid_order_returns_its_points(
    django_capture_on_commit_callbacks: Any,
) -> None:
    world = World()
    tariff = world.tariff("VPS", {"1m": 10000})
    client = world.client(balance=1000)
    client.providers.add(world.provider)
    program(world, max_share_percent=Decimal(30))
    acc = ensure_bonus_account(client_id=client.pk, provider_id=world.provider.pk)
    assert acc is not None
    adjust_bonus_points(
        account=acc, direction="accrual", points=5000, reason="gift", nonce="g", now=at(JAN, 8)
    )
    # 30% of 100.00 in points; the 10.00 balance does not cover the rest: the order waits
    result = checkout(
        world,
        client,
        tariff,
        now=at(JAN),
        capture=django_capture_on_commit_callbacks,
        bonus_points=None,
    )
    assert not result.paid
    assert (points(world, client), world.balance(client)) == (2000, 1000 + 3000)
    assert result.shortfall.amount_minor == 10000 - 4000
    orders.cancel_order(order=result.order, now=at(JAN, 13))
    orders.cancel_order(order=result.order, now=at(JAN, 14))
    assert (points(world, client), world.balance(client)) == (5000, 1000)
    assert [k for k, _ in history(world, client)] == ["manual_accrual", "redemption", "return"]
    assert get_reconcile_report().ok


def test_a_downgrade_credit_takes_back_its_share_of_the_points(
    django_capture_on_commit_callbacks: Any,
) -> None:
    from billow.billing.actions import change_tariff

    # given 1000 points for a 60.00 first purchase on 1 April
    world = World(downgrade_policy="now_prorated")
    small = world.tariff("S", {"1m": 3000})
    large = world.tariff("L", {"1m": 6000})
    client = world.client(balance=10_000)
    client.providers.add(world.provider)
    p = program(world)
    rule(p, "first_purchase", points=1000)
    april = date(2026, 4, 1)
    result = checkout(
        world, client, large, now=at(april), capture=django_capture_on_commit_callbacks
    )
    service = world.refresh(result.items[0].service)
    assert points(world, client) == 1000
    # when it moves to the 30.00 tariff on 16 April: 15.00 of the 60.00 comes back
    change_tariff(service=service, tariff=small, now=at(date(2026, 4, 16)))
    # then a quarter of the points go
    assert points(world, client) == 750
    assert history(world, client)[-1] == ("reversal", -250)
    assert lots_add_up(world, client)
