"""Cart and checkout: pay from the balance, wait for payment, settle, quick order, defaults."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

import pytest

from billow.accounts.actions import create_payer
from billow.billing.models import Expense
from billow.billing.run import run_billing
from billow.core.errors import BillowError
from billow.invoicing.models import Invoice, TaxRule
from billow.ledger.models import AccountKind, LedgerAccount
from billow.marketing.promos.actions import create_promo_code
from billow.marketing.promos.models import PromoCodeUse
from billow.orders import actions, selectors
from billow.orders.models import CartItem, OrderStatus
from billow.payments.models import Payment
from billow.services.models import Service
from billow.services.states import ServiceStatus
from tests.orders.shop import Shop, db_counts
from tests.payments.conftest import make_method

pytestmark = pytest.mark.django_db


@pytest.fixture
def oncommit(django_capture_on_commit_callbacks: Any) -> Any:
    return django_capture_on_commit_callbacks


def add(shop: Shop, client: Any, cpu: int = 3, **kw: Any) -> Any:
    return actions.add_to_cart(
        client=client,
        tariff=kw.pop("tariff", shop.tariff),
        period="1m",
        currency="USD",
        addon_values={"cpu": cpu},
        parameters=kw.pop("parameters", {"os": "debian-12"}),
        **kw,
    )


def test_checkout_pays_from_balance_and_opens_the_service(shop: Shop, oncommit: Any) -> None:
    # given a client with 20.00 and a VPS with 3 CPUs in the cart (10.00 + 2 x 3.00)
    client = shop.client(balance=2000)
    add(shop, client)
    # when checking out
    with oncommit(execute=True):
        result = actions.checkout(client=client, provider_id=shop.provider.pk)
    # then the order is paid, 16.00 left, the service is active through the dummy module
    order = result.order
    assert result.paid and result.shortfall.amount_minor == 0
    assert (order.status, order.total_minor, order.subtotal_minor) == ("paid", 1600, 1600)
    assert shop.balance(client) == 400
    svc = Service.objects.get(client=client)
    assert svc.status == ServiceStatus.ACTIVE
    assert str(svc.paid_until) == "2027-04-10"
    assert Expense.objects.get(service=svc).amount_minor == 1600
    assert order.quote["total_minor"] == 1600 and order.quote["lines"][1]["reason"]
    invoice = Invoice.objects.get(pk=order.invoice_id)
    assert (invoice.status, invoice.total_minor, invoice.number) == ("paid", 1600, 1)
    assert not selectors.get_cart(client, shop.provider.pk).items.exists()  # type: ignore[union-attr]


def test_ordered_services_renew_every_period_by_default(shop: Shop, oncommit: Any) -> None:
    # given a paid order of a monthly VPS (16.00) and 40.00 on the balance
    client = shop.client(balance=4000)
    add(shop, client)
    with oncommit(execute=True):
        actions.checkout(client=client, provider_id=shop.provider.pk)
    svc = Service.objects.get(client=client)
    assert svc.auto_renew_period == "1m"
    # when the billing run reaches the end of the paid month
    day = date(2027, 4, 10)
    report = run_billing(day=day, now=datetime.combine(day, time(0), tzinfo=UTC)).report
    # then the next month is charged from the balance and the service stays active
    svc.refresh_from_db()
    assert report["renewed"] == 1
    assert (str(svc.paid_until), svc.status) == ("2027-05-10", ServiceStatus.ACTIVE)
    assert shop.balance(client) == 4000 - 1600 - 1600


def test_checkout_with_promo_code_and_added_tax(shop: Shop) -> None:
    # given 20 % off with code SPRING and a 19 % German VAT added to the price
    promo = shop.promotion("20")
    create_promo_code(promotion=promo, code="spring", max_uses=5)
    TaxRule.objects.create(provider=shop.provider, name="VAT DE", country="DE", rate=19)
    client = shop.client(balance=5000)
    add(shop, client)
    # the final step shows the recomputed quote
    q = selectors.get_cart_quote(client=client, provider_id=shop.provider.pk, promo_code="Spring")
    assert (
        q.subtotal.amount_minor,
        q.discount.amount_minor,
        q.tax.amount_minor,
        q.total.amount_minor,
    ) == (1600, 320, 243, 1523)  # 800x.19=152, 480x.19=91.2->91
    # when checking out with it
    order = actions.checkout(client=client, provider_id=shop.provider.pk, promo_code="SPRING").order
    # then the client paid 15.23; 12.80 is revenue, 2.43 tax payable; the code use is confirmed
    assert shop.balance(client) == 5000 - 1523
    tax = LedgerAccount.objects.get(kind=AccountKind.TAX_PAYABLE, provider=shop.provider)
    rev = LedgerAccount.objects.get(kind=AccountKind.PROVIDER_REVENUE, provider=shop.provider)
    assert (tax.balance_minor, rev.balance_minor) == (243, 1280)
    use = PromoCodeUse.objects.get()
    assert (use.status, use.discount_minor, use.reference) == (
        "confirmed",
        320,
        f"order:{order.pk}",
    )
    assert order.promo_code.code == "SPRING"  # type: ignore[union-attr]


def test_short_balance_waits_then_settles_after_top_up(shop: Shop, oncommit: Any) -> None:
    client = shop.client(balance=500)
    add(shop, client)
    result = actions.checkout(client=client, provider_id=shop.provider.pk)
    assert not result.paid
    assert (result.order.status, result.shortfall.amount_minor) == ("awaiting_payment", 1100)
    assert Service.objects.filter(client=client).count() == 0
    assert shop.balance(client) == 500
    # when the payment of the shortfall credits the balance
    shop.topup(client, 1100)
    with oncommit(execute=True):
        paid = actions.settle_open_orders(client_id=client.pk, currency="USD")
    # then the order is settled, the balance is 0 and the service opens
    assert [o.pk for o in paid] == [result.order.pk]
    result.order.refresh_from_db()
    assert result.order.status == OrderStatus.PAID
    assert shop.balance(client) == 0
    assert Service.objects.get(client=client).status == ServiceStatus.ACTIVE
    assert actions.settle_order(order=result.order) is True  # replay: nothing more
    assert shop.balance(client) == 0


def test_quick_order_leaves_the_service_waiting_for_configuration(
    shop: Shop, oncommit: Any
) -> None:
    client = shop.client(balance=1000)
    add(shop, client, cpu=1, parameters={"os": "debian-12"}, quick=True)
    actions.checkout(client=client, provider_id=shop.provider.pk)
    svc = Service.objects.get(client=client)
    assert svc.status == ServiceStatus.CONFIGURATION_REQUIRED
    with oncommit(execute=True):
        actions.configure_quick_service(service=svc, parameters={"os": "ubuntu-24.04"})
    svc.refresh_from_db()
    assert (svc.status, svc.parameters["os"]) == (ServiceStatus.ACTIVE, "ubuntu-24.04")


def test_checkout_defaults_preselect_last_payer_and_method(shop: Shop) -> None:
    client = shop.client(balance=5000)
    assert selectors.get_checkout_defaults(client).skip_to_final_step is False
    payer = create_payer(client=client, kind="individual", name="Ann Smith")
    method = make_method(shop.provider, "sandbox", secrets={"webhook_secret": "x"})
    add(shop, client)
    actions.checkout(
        client=client, provider_id=shop.provider.pk, payer=payer, payment_method=str(method.pk)
    )
    d = selectors.get_checkout_defaults(client)
    assert (d.payer, d.payment_method, d.skip_to_final_step) == (payer, str(method.pk), True)


@pytest.mark.parametrize(
    ("setup", "code"),
    [
        ("empty", "cart_empty"),
        ("unknown_code", "promo_code_not_found"),
        ("order_limit", "order_limit_reached"),
    ],
)
def test_refused_checkouts_write_nothing(shop: Shop, setup: str, code: str) -> None:
    client = shop.client(balance=5000)
    promo = ""
    if setup == "unknown_code":
        add(shop, client)
        promo = "NOPE"
    if setup == "order_limit":
        limited = shop.make_tariff("VPS-L", 100)
        limited.order_limit = 1
        limited.save()
        add(shop, client, tariff=limited)
        add(shop, client, tariff=limited)
    before = db_counts()
    with pytest.raises(BillowError) as exc:
        actions.checkout(client=client, provider_id=shop.provider.pk, promo_code=promo)
    assert exc.value.code == code
    assert db_counts() == before


def test_add_to_cart_refuses_bad_configuration(shop: Shop) -> None:
    client = shop.client()
    with pytest.raises(BillowError) as exc:
        add(shop, client, cpu=40)
    assert exc.value.code == "addon_value_out_of_range"
    hidden = shop.make_tariff("Hidden", 100)
    hidden.status = "archived"
    hidden.save()
    with pytest.raises(BillowError) as exc:
        add(shop, client, tariff=hidden)
    assert exc.value.code == "tariff_not_available"
    assert selectors.get_cart(client, shop.provider.pk) is None


def test_cancel_releases_the_reserved_code(shop: Shop) -> None:
    promo = shop.promotion("50")
    code = create_promo_code(promotion=promo, code="HALF", max_uses=1)
    client = shop.client()
    add(shop, client)
    order = actions.checkout(client=client, provider_id=shop.provider.pk, promo_code="HALF").order
    code.refresh_from_db()
    assert (order.status, code.uses) == ("awaiting_payment", 1)
    actions.cancel_order(order=order)
    code.refresh_from_db()
    assert code.uses == 0
    assert PromoCodeUse.objects.get().status == "released"


def test_checkout_returns_the_order_and_the_payment_to_start(shop: Shop) -> None:
    # given a client with 4.00 and a 16.00 VPS, paying through the sandbox
    client = shop.client(balance=400)
    method = make_method(shop.provider, "sandbox", secrets={"webhook_secret": "x"})
    add(shop, client)
    # when checking out
    result = actions.checkout(
        client=client, provider_id=shop.provider.pk, payment_method=str(method.pk)
    )
    # then the result carries the order placed and the payment of the shortfall, no refusal
    assert result.order.client_id == client.pk
    assert result.order.status == OrderStatus.AWAITING_PAYMENT
    assert (result.paid, result.shortfall.amount_minor, result.payment_refusal) == (
        False,
        1200,
        None,
    )
    assert result.payment is not None
    assert (result.payment.amount_minor, result.payment.reference, result.payment.status) == (
        1200,
        f"order:{result.order.pk}",
        "new",
    )
    assert [item.order_id for item in result.items] == [result.order.pk]


def test_a_payment_refused_after_the_order_is_placed_comes_back_in_the_result(
    shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a method that takes at most 5.00 and a client whose balance was 15.00 when the
    # method was checked and is 0 when the order is charged (a concurrent spend)
    client = shop.client()
    method = make_method(
        shop.provider, "sandbox", secrets={"webhook_secret": "x"}, max_amount_minor=500
    )
    add(shop, client)
    monkeypatch.setattr(selectors, "get_available_balance", lambda *args: (1500, False))
    # when checking out
    result = actions.checkout(
        client=client, provider_id=shop.provider.pk, payment_method=str(method.pk)
    )
    # then the order is placed and waits; no payment was created and the result says why
    assert result.order.status == OrderStatus.AWAITING_PAYMENT
    assert (result.paid, result.shortfall.amount_minor, result.payment) == (False, 1600, None)
    assert result.payment_refusal is not None
    assert result.payment_refusal.code == "amount_above_maximum"
    assert not Payment.objects.filter(client=client).exists()
    assert not CartItem.objects.filter(cart__client=client).exists()
