"""Races on PostgreSQL (SQLite serializes every writer, so they prove nothing there): 50
parallel orders against one balance and against a credit limit, 20 parallel refunds of one
payment, a promo code's limit and one client's bonus points under 50 parallel checkouts. Each
ends with the ledger reconciled.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.db.models import Sum

from billow.billing.models import ClientBillingSettings
from billow.core.errors import BillowError
from billow.core.money import Money
from billow.ledger.selectors import get_reconcile_report
from billow.marketing.bonus.actions import adjust_bonus_points, ensure_bonus_account
from billow.marketing.bonus.models import BonusAccount, BonusLot, BonusMovement
from billow.marketing.promos.actions import create_promo_code
from billow.marketing.promos.models import PromoCode, PromoCodeUse
from billow.orders import actions
from billow.orders.models import Order, OrderStatus
from billow.orders.selectors import ItemSpec
from billow.payments import actions as payments
from billow.payments.actions.methods import configure_payment_method
from billow.payments.models import PaymentMethod, Refund
from tests.marketing.bonus_world import program
from tests.orders.shop import Shop

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]

N = 50
PRICE = 1000  # the shop's VPS: 10.00 a month


def race(n: int, work: Callable[[int], Any]) -> list[Any]:
    """``work(i)`` in ``n`` threads released together; results or the BillowErrors raised."""
    barrier = threading.Barrier(n)
    out: list[Any] = [None] * n

    def run(i: int) -> None:
        try:
            barrier.wait()
            out[i] = work(i)
        except BillowError as exc:
            out[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out


def _orders(shop: Shop, client: Any) -> list[Any]:
    item = ItemSpec("vps", shop.tariff.pk, "1m", {}, {"os": "debian-12"})
    return race(
        N,
        lambda i: actions.checkout(
            client=client, provider_id=shop.provider.pk, currency="USD", items=[item]
        ),
    )


def test_fifty_orders_against_one_balance(shop: Shop, attempts: Callable[[int], None]) -> None:
    # given 35.00 and fifty 10.00 orders at once: exactly three are paid, none goes below zero
    client = shop.client(balance=3500)
    results = _orders(shop, client)
    attempts(N)
    assert [type(r).__name__ for r in results].count("CheckoutResult") == N
    assert Order.objects.filter(status=OrderStatus.PAID).count() == 3
    assert shop.balance(client) == 500
    assert get_reconcile_report().ok


def test_fifty_orders_against_a_credit_limit(shop: Shop, attempts: Callable[[int], None]) -> None:
    # given 5.00 and a credit limit of 20.00: the balance never goes below -20.00
    client = shop.client(balance=500)
    ClientBillingSettings.objects.create(client=client, currency="USD", credit_limit_minor=2000)
    results = _orders(shop, client)
    attempts(N)
    paid = Order.objects.filter(status=OrderStatus.PAID).count()
    assert all(not isinstance(r, Exception) for r in results)
    assert shop.balance(client) == 500 - paid * PRICE >= -2000
    assert get_reconcile_report().ok


def test_a_promo_code_limited_to_five_under_fifty_checkouts(
    shop: Shop, attempts: Callable[[int], None]
) -> None:
    code = create_promo_code(promotion=shop.promotion("20"), code="FIVE", max_uses=5)
    clients = [shop.client(balance=5000, n=i) for i in range(N)]
    for c in clients:
        actions.add_to_cart(
            client=c,
            tariff=shop.tariff,
            period="1m",
            currency="USD",
            parameters={"os": "debian-12"},
        )
    results = race(
        N,
        lambda i: actions.checkout(
            client=clients[i], provider_id=shop.provider.pk, promo_code="FIVE"
        ),
    )
    attempts(N)
    refused = [r.code for r in results if isinstance(r, BillowError)]
    assert refused == ["promo_code_exhausted"] * (N - 5)
    assert PromoCode.objects.get(pk=code.pk).uses == 5
    assert PromoCodeUse.objects.filter(status="confirmed").count() == 5
    assert get_reconcile_report().ok


def test_twenty_refunds_of_one_payment(shop: Shop, attempts: Callable[[int], None]) -> None:
    # given a paid sandbox payment of 30.00 / when twenty full refunds race (distinct keys)
    client = shop.client()
    method = configure_payment_method(
        method=PaymentMethod(
            provider=shop.provider,
            gateway="sandbox",
            name="Test card",
            currency="USD",
            supports_refunds=True,
        ),
        secrets={"webhook_secret": "s"},
    )
    payment = payments.create_payment(client=client, amount=Money(3000, "USD"), method=method)
    payments.mark_payment_paid(payment=payment)
    results = race(20, lambda i: payments.refund_payment(payment=payment, idempotency_key=f"r{i}"))
    attempts(20)
    # then it is refunded once: one refund of 30.00, the rest refused, the balance back to zero
    made = [r for r in results if isinstance(r, Refund)]
    assert len(made) == 1 and made[0].amount_minor == 3000
    assert Refund.objects.filter(payment=payment).count() == 1
    payment.refresh_from_db()
    assert payment.refunded_minor == 3000
    assert shop.balance(client) == 0
    assert get_reconcile_report().ok


# 50 parallel checkouts of one client spending bonus points worth more than one order: the
# points balance never goes below zero and every point spent is on exactly one order.
def test_bonus_points_under_fifty_checkouts(shop: Shop, attempts: Callable[[int], None]) -> None:
    attempts(N)
    # given 1,000 points in three lots; each of 50 orders of 10.00 asks 300 (max share 50 %)
    program(shop, max_share_percent=Decimal(50))  # type: ignore[arg-type]
    client = shop.client(balance=100_000)
    account = ensure_bonus_account(client_id=client.pk, provider_id=shop.provider.pk)
    assert account is not None
    for n, points in enumerate((400, 350, 250)):
        adjust_bonus_points(
            account=account, direction="accrual", points=points, reason="gift", nonce=f"g{n}"
        )
    item = ItemSpec("vps", shop.tariff.pk, "1m", {}, {"os": "debian-12"})
    # when all of them are placed at once
    results = race(
        N,
        lambda i: actions.checkout(
            client=client,
            provider_id=shop.provider.pk,
            currency="USD",
            items=[item],
            bonus_points=300,
        ),
    )
    # then the points spent are exactly the points the paid orders carry, never above 1,000
    paid = [r for r in results if isinstance(r, actions.CheckoutResult)]
    refused = [r for r in results if isinstance(r, BillowError)]
    assert {r.code for r in refused} <= {"insufficient_bonus_points"}
    assert len(paid) + len(refused) == N
    spent = -(BonusMovement.objects.filter(kind="redemption").aggregate(s=Sum("points"))["s"] or 0)
    left = BonusAccount.objects.get(pk=account.pk).balance_points
    assert spent + left == 1000 and left >= 0
    assert spent == sum(r.order.quote["bonus_points"] for r in paid)
    assert sum(BonusLot.objects.values_list("remaining", flat=True)) == left
    assert Order.objects.filter(status=OrderStatus.PAID).count() == len(paid)
    due = sum(r.order.total_minor - r.order.quote["bonus_minor"] for r in paid)
    assert shop.balance(client) == 100_000 - due
    assert get_reconcile_report().ok
