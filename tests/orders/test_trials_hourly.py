"""Ordering a trial (free, once per client per tariff or product type) and an hourly tariff
(the first started hour charged at checkout)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from billow.accounts.models import TrialScope
from billow.billing.models import Expense
from billow.catalog import actions as catalog
from billow.core.errors import BillowError
from billow.orders import actions, selectors
from billow.orders.models import OrderStatus, TrialUse
from billow.services.models import Service
from tests.orders.shop import Shop, db_counts

pytestmark = pytest.mark.django_db

NOW = datetime(2027, 3, 10, 14, 25, tzinfo=UTC)


@pytest.fixture
def oncommit(django_capture_on_commit_callbacks: Any) -> Any:
    return django_capture_on_commit_callbacks


def item(shop: Shop, period: str, tariff: Any = None) -> selectors.ItemSpec:
    return selectors.ItemSpec(
        "i1", (tariff or shop.tariff).pk, period, {"cpu": 1}, {"os": "debian-12"}
    )


def order(shop: Shop, client: Any, period: str, tariff: Any = None) -> actions.CheckoutResult:
    return actions.checkout(
        client=client,
        provider_id=shop.provider.pk,
        items=[item(shop, period, tariff)],
        currency="USD",
        now=NOW,
    )


def with_trial(shop: Shop, days: int = 7) -> None:
    catalog.update_tariff(tariff=shop.tariff, trial_days=days)


def test_a_trial_is_ordered_free_and_converts_to_the_shortest_paid_period(shop: Shop) -> None:
    # given a tariff with a 7-day trial (1 month for 10.00) and a client with no money
    with_trial(shop)
    client = shop.client()
    # when the client orders the trial
    result = order(shop, client, "trial")
    # then it is paid at once for 0.00, the service runs until 17 March, then renews monthly
    assert result.paid and result.order.total_minor == 0
    svc = Service.objects.get(client=client)
    assert (svc.period, svc.auto_renew_period, svc.paid_until, svc.anchor_day) == (
        "trial",
        "1m",
        date(2027, 3, 17),
        17,
    )
    expense = Expense.objects.get(service=svc)
    assert (expense.period_from, expense.period_to, expense.amount_minor) == (
        date(2027, 3, 10),
        date(2027, 3, 17),
        0,
    )
    assert expense.transaction_id is None
    assert shop.balance(client) == 0
    use = TrialUse.objects.get(client=client)
    assert (use.tariff_id, use.scope_key, use.order_id) == (
        shop.tariff.pk,
        f"tariff:{shop.tariff.pk}",
        result.order.pk,
    )


def test_a_tariff_without_trial_days_refuses_a_trial(shop: Shop) -> None:
    client = shop.client()
    before = db_counts()
    with pytest.raises(BillowError) as exc:
        order(shop, client, "trial")
    assert exc.value.code == "period_not_offered"
    assert db_counts() == before


def test_a_second_trial_of_the_same_tariff_is_refused_and_changes_nothing(shop: Shop) -> None:
    # given a client who took the trial of VPS-S
    with_trial(shop)
    client = shop.client(balance=5000)
    order(shop, client, "trial")
    before = db_counts()
    # when it orders the trial again (directly, or through the cart)
    with pytest.raises(BillowError) as exc:
        order(shop, client, "trial")
    # then trial_already_used, and nothing is written
    assert exc.value.code == "trial_already_used"
    assert db_counts() == before
    with pytest.raises(BillowError) as exc:
        actions.add_to_cart(
            client=client, tariff=shop.tariff, period="trial", currency="USD", quick=True
        )
    assert exc.value.code == "trial_already_used"
    assert db_counts() == before
    # and another client may still take it; the paid period stays orderable for this one
    assert order(shop, shop.client(n=2), "trial").paid
    assert order(shop, client, "1m").paid


def test_two_trials_of_one_tariff_in_one_order_are_refused(shop: Shop) -> None:
    with_trial(shop)
    client = shop.client()
    before = db_counts()
    with pytest.raises(BillowError) as exc:
        actions.checkout(
            client=client,
            provider_id=shop.provider.pk,
            items=[item(shop, "trial"), item(shop, "trial")],
            currency="USD",
            now=NOW,
        )
    assert exc.value.code == "trial_already_used"
    assert db_counts() == before


def test_per_product_type_scope_refuses_a_trial_of_another_tariff_of_the_type(
    shop: Shop,
) -> None:
    # given the provider allows one trial per product type, two VPS tariffs with trials
    type(shop.provider).objects.filter(pk=shop.provider.pk).update(
        trial_scope=TrialScope.PRODUCT_TYPE
    )
    with_trial(shop)
    other = shop.make_tariff("VPS-M", 2000)
    catalog.update_tariff(tariff=other, trial_days=14)
    client = shop.client()
    order(shop, client, "trial")
    before = db_counts()
    # when the client orders the other tariff's trial
    with pytest.raises(BillowError) as exc:
        order(shop, client, "trial", tariff=other)
    # then it is refused: the VPS trial is used
    assert exc.value.code == "trial_already_used"
    assert db_counts() == before


def test_per_tariff_scope_allows_the_trial_of_another_tariff(shop: Shop) -> None:
    with_trial(shop)
    other = shop.make_tariff("VPS-M", 2000)
    catalog.update_tariff(tariff=other, trial_days=14)
    client = shop.client()
    order(shop, client, "trial")
    result = order(shop, client, "trial", tariff=other)
    assert result.paid
    assert Service.objects.get(tariff=other).paid_until == date(2027, 3, 24)


def test_a_cancelled_order_gives_its_trial_back(shop: Shop) -> None:
    # given a trial ordered with a paid item the balance does not cover (the order waits)
    with_trial(shop)
    other = shop.make_tariff("VPS-M", 2000)
    client = shop.client()
    result = actions.checkout(
        client=client,
        provider_id=shop.provider.pk,
        items=[item(shop, "trial"), item(shop, "1m", tariff=other)],
        currency="USD",
        now=NOW,
    )
    assert result.order.status == OrderStatus.AWAITING_PAYMENT
    assert TrialUse.objects.filter(client=client).count() == 1
    # when it is cancelled, the trial may be ordered again
    actions.cancel_order(order=result.order)
    assert not TrialUse.objects.filter(client=client).exists()
    assert order(shop, client, "trial").paid


def test_an_hourly_tariff_charges_the_started_hour_at_checkout(shop: Shop) -> None:
    # given a tariff priced 0.02 per hour and a client with 1.00
    catalog.set_tariff_price(tariff=shop.tariff, period="hour", currency="USD", amount_minor=2)
    client = shop.client(balance=100)
    # when it orders the hourly period at 14:25
    result = order(shop, client, "hour")
    # then the hour 14:00-15:00 is charged (0.02) under its service-hour key
    assert result.paid and result.order.total_minor == 2
    svc = Service.objects.get(client=client)
    assert (svc.period, svc.auto_renew_period, svc.paid_until) == ("hour", "hour", None)
    assert svc.paid_until_at == datetime(2027, 3, 10, 15, 0, tzinfo=UTC)
    expense = Expense.objects.get(service=svc)
    assert (expense.key, expense.reason, expense.amount_minor) == (
        f"hour:{svc.pk}:2027-03-10T14",
        "hour",
        2,
    )
    assert (expense.period_from, expense.period_to) == (date(2027, 3, 10), date(2027, 3, 11))
    assert expense.description == f"order {result.order.pk}, 2027-03-10 14:00-15:00 UTC"
    assert shop.balance(client) == 98


def test_an_hourly_tariff_waits_for_payment_when_the_balance_is_short(shop: Shop) -> None:
    catalog.set_tariff_price(tariff=shop.tariff, period="hour", currency="USD", amount_minor=2)
    client = shop.client(balance=1)
    result = order(shop, client, "hour")
    assert not result.paid and result.shortfall.amount_minor == 1
    assert not Service.objects.filter(client=client).exists()
