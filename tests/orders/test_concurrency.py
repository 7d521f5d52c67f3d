"""Races on PostgreSQL: promo-code limits, the balance, gapless invoice numbers."""

from __future__ import annotations

import threading
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection

from billow.core.errors import BillowError
from billow.invoicing.actions import InvoiceLineInput, issue_invoice
from billow.invoicing.models import Invoice
from billow.ledger.selectors import get_reconcile_report
from billow.marketing.promos.actions import create_promo_code
from billow.marketing.promos.models import PromoCode, PromoCodeUse
from billow.orders import actions
from billow.orders.models import Order, OrderStatus
from billow.orders.selectors import ItemSpec
from tests.orders.shop import Shop

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


def race(n: int, work: Callable[[int], Any]) -> list[Any]:
    """Run ``work(i)`` in ``n`` threads released together; results or the raised errors."""
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


def test_twenty_checkouts_with_a_code_limited_to_five(shop: Shop) -> None:
    code = create_promo_code(promotion=shop.promotion("20"), code="FIVE", max_uses=5)
    clients = [shop.client(balance=5000, n=i) for i in range(20)]
    for c in clients:
        actions.add_to_cart(
            client=c,
            tariff=shop.tariff,
            period="1m",
            currency="USD",
            parameters={"os": "debian-12"},
        )
    results = race(
        20,
        lambda i: actions.checkout(
            client=clients[i], provider_id=shop.provider.pk, promo_code="FIVE"
        ),
    )
    paid = [r for r in results if isinstance(r, actions.CheckoutResult)]
    refused = [r.code for r in results if isinstance(r, BillowError)]
    assert len(paid) == 5 and refused == ["promo_code_exhausted"] * 15
    assert all(r.order.discount_minor == 200 and r.order.total_minor == 800 for r in paid)
    assert PromoCode.objects.get(pk=code.pk).uses == 5
    assert PromoCodeUse.objects.filter(status="confirmed").count() == 5


def test_twenty_settlements_against_a_balance_that_covers_three(shop: Shop) -> None:
    client = shop.client()
    orders = []
    for _ in range(20):
        actions.add_to_cart(
            client=client,
            tariff=shop.tariff,
            period="1m",
            currency="USD",
            parameters={"os": "debian-12"},
        )
        orders.append(actions.checkout(client=client, provider_id=shop.provider.pk).order)
    shop.topup(client, 3500)  # covers three 10.00 orders
    results = race(20, lambda i: actions.settle_order(order=orders[i]))
    assert results.count(True) == 3 and results.count(False) == 17
    assert Order.objects.filter(status=OrderStatus.PAID).count() == 3
    assert shop.balance(client) == 500


def test_twenty_checkouts_against_a_balance_that_covers_three(shop: Shop) -> None:
    # given one client with 35.00 and twenty direct orders of 10.00 placed at the same moment
    client = shop.client(balance=3500)
    item = ItemSpec("vps", shop.tariff.pk, "1m", {}, {"os": "debian-12"})
    results = race(
        20,
        lambda i: actions.checkout(
            client=client, provider_id=shop.provider.pk, currency="USD", items=[item]
        ),
    )
    # then exactly three are paid from the balance, the rest wait, nothing went below zero
    assert [type(r).__name__ for r in results].count("CheckoutResult") == 20
    assert sum(r.paid for r in results) == 3
    assert Order.objects.filter(status=OrderStatus.PAID).count() == 3
    assert Order.objects.filter(status=OrderStatus.AWAITING_PAYMENT).count() == 17
    assert shop.balance(client) == 500
    assert get_reconcile_report().ok


def test_gapless_invoice_numbers_under_concurrency(shop: Shop) -> None:
    client = shop.client()
    line = InvoiceLineInput("x", 1, 100, 0, 100, Decimal(0), 0, 100)
    race(
        20,
        lambda i: issue_invoice(
            provider=shop.provider, client=client, currency="USD", lines=[line]
        ),
    )
    assert sorted(Invoice.objects.values_list("number", flat=True)) == list(range(1, 21))
