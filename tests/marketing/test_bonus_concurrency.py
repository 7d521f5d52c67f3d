"""Races on PostgreSQL: twenty simultaneous checkouts spending one client's points never spend
more than the balance of points (the bonus account is locked while its lots are spent)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db.models import Sum

from billow.core.errors import BillowError
from billow.ledger.selectors import get_reconcile_report
from billow.marketing.bonus.actions import adjust_bonus_points, ensure_bonus_account
from billow.marketing.bonus.models import BonusAccount, BonusLot, BonusMovement
from billow.orders import actions
from billow.orders.models import Order, OrderStatus
from billow.orders.selectors import ItemSpec
from tests.marketing.bonus_world import program
from tests.orders.shop import Shop
from tests.orders.test_concurrency import race

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


def test_twenty_checkouts_spending_one_clients_points(shop: Shop) -> None:
    # given 1,000 points in three lots, 300 points asked by each of twenty 10.00 orders
    program(shop, max_share_percent=Decimal(50))  # type: ignore[arg-type]
    client = shop.client(balance=50_000)
    account = ensure_bonus_account(client_id=client.pk, provider_id=shop.provider.pk)
    assert account is not None
    for n, pts in enumerate((400, 350, 250)):
        adjust_bonus_points(
            account=account, direction="accrual", points=pts, reason="gift", nonce=f"g{n}"
        )
    item = ItemSpec("vps", shop.tariff.pk, "1m", {}, {"os": "debian-12"})
    # when they are placed at the same moment
    results = race(
        20,
        lambda i: actions.checkout(
            client=client,
            provider_id=shop.provider.pk,
            currency="USD",
            items=[item],
            bonus_points=300,
        ),
    )
    # then the points spent are the points the orders were paid with, never above 1,000
    paid = [r for r in results if isinstance(r, actions.CheckoutResult)]
    refused = {r.code for r in results if isinstance(r, BillowError)}
    assert refused <= {"insufficient_bonus_points"}
    assert len(paid) + sum(isinstance(r, BillowError) for r in results) == 20
    spent = -(BonusMovement.objects.filter(kind="redemption").aggregate(s=Sum("points"))["s"] or 0)
    left = BonusAccount.objects.get(pk=account.pk).balance_points
    assert spent + left == 1000 and left >= 0 and spent >= 900 and len(paid) >= 3
    assert spent == sum(r.order.quote["bonus_points"] for r in paid)
    assert sum(BonusLot.objects.values_list("remaining", flat=True)) == left
    assert Order.objects.filter(status=OrderStatus.PAID).count() == len(paid)
    due = sum(r.order.total_minor - r.order.quote["bonus_minor"] for r in paid)
    assert shop.balance(client) == 50_000 - due
    assert get_reconcile_report().ok
