"""Quick order ("pay now, configure later"): the service is created without its required
parameters, charged once, waits in ``configuration_required`` and opens once configured.

The shop's VPS product type has a required ``os`` parameter (debian-12 / ubuntu-24.04); the
shop's clock is 10 March 2027, so the first period runs to 10 April.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest

from billow.billing.models import Expense
from billow.billing.run import run_billing
from billow.core.errors import BillowError
from billow.orders import actions
from billow.orders.models import Order, OrderStatus
from billow.orders.selectors import ItemSpec
from billow.services.actions import create_service, set_service_auto_renew
from billow.services.models import Service, ServiceOperation
from billow.services.states import ServiceStatus
from tests.orders.shop import Shop, db_counts

pytestmark = pytest.mark.django_db


@pytest.fixture
def oncommit(django_capture_on_commit_callbacks: Any) -> Any:
    return django_capture_on_commit_callbacks


def quick_order(shop: Shop, balance: int = 1000, **parameters: str) -> Service:
    client = shop.client(balance=balance)
    actions.add_to_cart(
        client=client,
        tariff=shop.tariff,
        period="1m",
        currency="USD",
        addon_values={"cpu": 1},
        parameters=parameters,
        quick=True,
    )
    actions.checkout(client=client, provider_id=shop.provider.pk)
    return Service.objects.get(client=client)


def charges(svc: Service) -> list[tuple[str, date, date, int]]:
    return list(
        Expense.objects.filter(service=svc)
        .order_by("id")
        .values_list("kind", "period_from", "period_to", "amount_minor")
    )


def bill(day: date) -> dict[str, Any]:
    return run_billing(day=day, now=datetime.combine(day, time(0), tzinfo=UTC)).report


def test_a_quick_order_without_required_parameters_is_charged_once_and_waits(
    shop: Shop,
) -> None:
    # when a client quick-orders the VPS without choosing the required os, paying from balance
    svc = quick_order(shop)
    # then the order is paid, the service is charged its first period once and waits
    assert Order.objects.get(client=svc.client).status == OrderStatus.PAID
    assert (svc.status, svc.parameters, svc.paid_until) == (
        ServiceStatus.CONFIGURATION_REQUIRED,
        {},
        date(2027, 4, 10),
    )
    assert charges(svc) == [("charge", date(2027, 3, 10), date(2027, 4, 10), 1000)]
    assert shop.balance(svc.client) == 0
    assert not ServiceOperation.objects.filter(service=svc).exists()


def test_a_quick_order_with_a_bad_value_is_refused_and_writes_nothing(shop: Shop) -> None:
    # given a quick item: required parameters may be missing, but a given value is checked
    # already when it goes into the cart
    client = shop.client(balance=1000)
    before = db_counts()
    with pytest.raises(BillowError) as err:
        actions.add_to_cart(
            client=client,
            tariff=shop.tariff,
            period="1m",
            currency="USD",
            addon_values={"cpu": 1},
            parameters={"os": "windows"},
            quick=True,
        )
    assert err.value.code == "invalid_parameter_value"
    assert db_counts() == before
    with pytest.raises(BillowError) as direct:
        actions.checkout(
            client=client,
            provider_id=shop.provider.pk,
            currency="USD",
            items=[ItemSpec("x", shop.tariff.pk, "1m", {"cpu": 1}, {"os": "windows"}, quick=True)],
        )
    assert direct.value.code == "invalid_parameter_value"
    assert db_counts() == before


def test_create_service_defers_only_the_required_check(shop: Shop) -> None:
    client = shop.client()
    with pytest.raises(BillowError) as missing:
        create_service(client=client, tariff=shop.tariff, period="1m", currency="USD")
    with pytest.raises(BillowError) as bad:
        create_service(
            client=client,
            tariff=shop.tariff,
            period="1m",
            currency="USD",
            parameters={"os": "windows"},
            defer_parameters=True,
        )
    svc = create_service(
        client=client, tariff=shop.tariff, period="1m", currency="USD", defer_parameters=True
    )
    assert (missing.value.code, bad.value.code) == ("missing_parameter", "invalid_parameter")
    assert (svc.status, svc.parameters) == (ServiceStatus.ORDERED, {})


@pytest.mark.parametrize(
    ("parameters", "code"),
    [
        ({}, "missing_parameter"),
        ({"os": "windows"}, "invalid_parameter_value"),
        ({"os": "debian-12", "disk": "ssd"}, "unknown_parameter"),
    ],
)
def test_configuring_with_bad_parameters_is_refused_and_changes_nothing(
    shop: Shop, oncommit: Any, parameters: dict[str, str], code: str
) -> None:
    svc = quick_order(shop)
    before = db_counts()
    with oncommit(execute=True), pytest.raises(BillowError) as err:
        actions.configure_quick_service(service=svc, parameters=parameters)
    assert err.value.code == code
    assert db_counts() == before
    svc.refresh_from_db()
    assert (svc.status, svc.parameters) == (ServiceStatus.CONFIGURATION_REQUIRED, {})


def test_configuring_opens_the_service_through_the_module(shop: Shop, oncommit: Any) -> None:
    # given a quick-ordered service waiting for configuration
    svc = quick_order(shop)
    # when the client chooses the os
    with oncommit(execute=True):
        actions.configure_quick_service(service=svc, parameters={"os": "debian-12"})
    # then one open operation was requested and the dummy module opened the service
    svc.refresh_from_db()
    assert (svc.status, svc.parameters) == (ServiceStatus.ACTIVE, {"os": "debian-12"})
    op = ServiceOperation.objects.get(service=svc)
    assert (op.operation, op.status, op.idempotency_key) == (
        "open",
        "succeeded",
        f"configure:{svc.pk}",
    )
    # and still one charge for the first period
    assert charges(svc) == [("charge", date(2027, 3, 10), date(2027, 4, 10), 1000)]


def test_the_billing_run_leaves_an_unconfigured_service_alone(shop: Shop) -> None:
    # given a quick-ordered service (renewed monthly) nobody configures
    svc = quick_order(shop)
    set_service_auto_renew(service=svc, period="1m")
    # when the runs of the next day and of the end of its paid period happen (no money left)
    reports = [bill(date(2027, 3, 11)), bill(date(2027, 4, 10)), bill(date(2027, 5, 10))]
    # then it is neither charged again nor suspended: the paid period ran, the run waits
    svc.refresh_from_db()
    assert (svc.status, svc.paid_until) == (ServiceStatus.CONFIGURATION_REQUIRED, date(2027, 4, 10))
    assert charges(svc) == [("charge", date(2027, 3, 10), date(2027, 4, 10), 1000)]
    assert [(r["renewed"], r["suspended"]) for r in reports] == [(0, 0)] * 3


def test_once_configured_the_run_renews_it_from_its_paid_until(shop: Shop, oncommit: Any) -> None:
    # given a quick order configured on the day, renewed monthly, with 10.00 left for it
    svc = quick_order(shop, balance=2000)
    with oncommit(execute=True):
        actions.configure_quick_service(service=svc, parameters={"os": "ubuntu-24.04"})
    set_service_auto_renew(service=svc, period="1m")
    # when the runs of the next day and of the renewal date happen
    first, renewal = bill(date(2027, 3, 11)), bill(date(2027, 4, 10))
    # then the first period is not charged twice; the renewal is charged once
    assert (first["renewed"], first["suspended"], renewal["renewed"]) == (0, 0, 1)
    assert charges(svc) == [
        ("charge", date(2027, 3, 10), date(2027, 4, 10), 1000),
        ("charge", date(2027, 4, 10), date(2027, 5, 10), 1000),
    ]
    svc.refresh_from_db()
    assert (svc.status, svc.paid_until) == (ServiceStatus.ACTIVE, date(2027, 5, 10))
    assert shop.balance(svc.client) == 0


# -- expiry: never configured -> deleted, everything it cost refunded ----------------------------

AFTER_30_DAYS = datetime(2027, 4, 9, 13, 0, tzinfo=UTC)  # ordered on 10 March 2027, 12:00


def _expiry_state(svc: Service) -> tuple[Any, ...]:
    from billow.invoicing.models import CreditNote
    from billow.notifications.models import Notification

    svc.refresh_from_db()
    return (
        svc.status,
        shop_balance(svc),
        list(CreditNote.objects.values_list("amount_minor", "reason")),
        list(Notification.objects.filter(client=svc.client).values_list("event", flat=True)),
    )


def shop_balance(svc: Service) -> int:
    from billow.ledger.models import AccountKind, LedgerAccount

    return int(
        LedgerAccount.objects.get(kind=AccountKind.CLIENT_BALANCE, client=svc.client).balance_minor
    )


def test_an_unconfigured_quick_order_is_deleted_and_refunded_after_the_grace_period(
    shop: Shop, oncommit: Any
) -> None:
    from billow.invoicing.models import TaxRule
    from billow.ledger.selectors import get_reconcile_report
    from billow.orders.expiry import expire_unconfigured_services

    # given VAT added to the price, and a quick order paid from the balance, never configured
    TaxRule.objects.create(provider=shop.provider, name="VAT DE", country="DE", rate=19)
    svc = quick_order(shop, balance=1190)
    assert shop_balance(svc) == 0  # 10.00 + 1.90 VAT
    # when the daily expiry runs one day before the 30 days are over: nothing changes
    day_29 = datetime(2027, 4, 8, 1, 0, tzinfo=UTC)
    assert expire_unconfigured_services(now=day_29) == []
    assert _expiry_state(svc) == (ServiceStatus.CONFIGURATION_REQUIRED, 0, [], [])
    # and once they are over: deleted, the whole price back (tax included), a credit note
    with oncommit(execute=True):
        assert expire_unconfigured_services(now=AFTER_30_DAYS) == [svc.pk]
    assert _expiry_state(svc) == (
        ServiceStatus.DELETED,
        1190,
        [(1190, "service not configured")],
        ["service_deleted"],
    )
    assert [e for e in charges(svc)] == [
        ("charge", date(2027, 3, 10), date(2027, 4, 10), 1000),
        ("refund", date(2027, 4, 9), date(2027, 4, 10), 1000),
    ]
    assert get_reconcile_report().ok
    # and a rerun refunds nothing more
    with oncommit(execute=True):
        assert expire_unconfigured_services(now=AFTER_30_DAYS + timedelta(days=1)) == []
    assert _expiry_state(svc)[1:3] == (1190, [(1190, "service not configured")])


def test_a_configured_quick_order_is_not_expired(shop: Shop, oncommit: Any) -> None:
    from billow.orders.expiry import expire_unconfigured_services

    svc = quick_order(shop)
    with oncommit(execute=True):
        actions.configure_quick_service(service=svc, parameters={"os": "debian-12"})
    assert expire_unconfigured_services(now=AFTER_30_DAYS) == []
    svc.refresh_from_db()
    assert svc.status != ServiceStatus.DELETED
    assert shop_balance(svc) == 0


def test_expiry_is_off_with_zero_days(shop: Shop, settings: Any) -> None:
    from billow.orders.expiry import expire_unconfigured_services

    settings.BILLOW = {**settings.BILLOW, "QUICK_ORDER_CONFIGURE_DAYS": 0}
    svc = quick_order(shop)
    assert expire_unconfigured_services(now=AFTER_30_DAYS + timedelta(days=365)) == []
    assert _expiry_state(svc) == (ServiceStatus.CONFIGURATION_REQUIRED, 0, [], [])


def test_the_daily_job_expires_on_the_clock(shop: Shop) -> None:
    from billow.core import clock
    from billow.orders.tasks import expire_unconfigured

    svc = quick_order(shop)
    with clock.use_clock(clock.FixedClock(AFTER_30_DAYS)):
        assert expire_unconfigured.call_local() == 1
    svc.refresh_from_db()
    assert (svc.status, shop_balance(svc)) == (ServiceStatus.DELETED, 1000)
