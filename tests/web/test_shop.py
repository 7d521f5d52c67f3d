"""The ordering flow in the client area: catalog, configure (htmx preview), cart, the shorter
checkout (details step / final step, promo code partial, pay from the balance or through the
sandbox gateway), orders (pay again, cancel) and configuring a quick-ordered service.
Refusals change nothing; another client's objects are 404."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.utils.formats import date_format
from huey.contrib.djhuey import HUEY

from billow.accounts.models import ClientGroup, ClientGroupMembership
from billow.catalog import actions as catalog
from billow.ledger.actions import adjust_client_balance
from billow.marketing.promos.actions import create_promo_code
from billow.marketing.promos.models import Promotion, PromotionDiscount
from billow.orders import actions as orders
from billow.orders import selectors as orders_selectors
from billow.orders.models import CartItem, Order, OrderStatus
from billow.payments import actions as payments
from billow.payments.models import Payment, PaymentMethod
from billow.services import actions as services
from billow.services.models import Service
from billow.services.modules.dummy import reset_store
from billow.services.states import ServiceStatus
from tests.orders.shop import db_counts
from tests.web.conftest import WebWorld

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _jobs_run_at_once() -> Iterator[None]:
    """Module operations (open) run in the request, as in tests/orders."""
    reset_store()
    previous = HUEY.immediate
    HUEY.immediate = True
    HUEY.flush()
    try:
        yield
    finally:
        HUEY.flush()
        HUEY.immediate = previous
        reset_store()


@pytest.fixture
def oncommit(django_capture_on_commit_callbacks: Any) -> Any:
    """Run on-commit callbacks (job enqueues, payment hooks) as a real commit would."""
    return django_capture_on_commit_callbacks


@dataclass
class Shop:
    web: WebWorld
    sandbox: PaymentMethod

    @property
    def a(self) -> Any:
        return self.web.a

    def drain(self, client: Any, amount: int) -> None:
        adjust_client_balance(
            account=self.web.world.wallet(client),
            amount_minor=amount,
            direction="debit",
            reason="test",
            nonce=f"drain-{amount}",
        )


@pytest.fixture
def shop(web: WebWorld) -> Shop:
    """The web world's VPS product type gets an OS parameter and a dummy module; the provider
    a sandbox payment method and a 20 % promo code SPRING."""
    w = web.world
    catalog.add_product_type_parameter(
        product_type=w.product_type,
        name="Operating system",
        intname="os",
        values=[("debian-12", "Debian 12"), ("ubuntu-24.04", "Ubuntu 24.04")],
    )
    services.create_module_instance(
        module="dummy", name="dummy-web", product_types=[w.product_type]
    )
    method = payments.configure_payment_method(
        method=PaymentMethod(
            provider=w.provider, gateway="sandbox", name="Sandbox card", currency="USD"
        ),
        secrets={"webhook_secret": "sbx_whsec_test"},
    )
    promo = Promotion.objects.create(provider=w.provider, name="Spring")
    PromotionDiscount.objects.create(promotion=promo, target="all", kind="percent", percent="20")
    create_promo_code(promotion=promo, code="SPRING")
    return Shop(web, method)


def text(response: Any) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def add_vps(shop: Shop, ram: int = 3, **extra: str) -> Any:
    """Configure VPS S for a month with ``ram`` GB through the page: 10.00 + (ram-1) x 2.00."""
    data = {"currency": "USD", "period": "1m", "addon_ram": str(ram), "param_os": "debian-12"}
    return shop.a.http.post(f"/order/{shop.web.tariff.pk}/", {**data, **extra})


def pay(shop: Shop, method: str, promo_code: str = "", bonus_points: str = "", **kw: Any) -> Any:
    data = {
        "provider": shop.web.world.provider.pk,
        "payer": shop.a.payer.pk,
        "method": method,
        "promo_code": promo_code,
        "bonus_points": bonus_points,
    }
    return shop.a.http.post("/checkout/pay/", data, **kw)


# -- catalog and configure --------------------------------------------------------------------


def test_the_catalog_lists_only_the_tariffs_visible_to_the_clients_groups(shop: Shop) -> None:
    # given a tariff for resellers only and one hidden from client A's group
    w = shop.web.world
    resellers = ClientGroup.objects.create(name="Resellers")
    students = ClientGroup.objects.create(name="Students")
    ClientGroupMembership.objects.create(client=shop.a.client, group=students)
    reseller_only = w.tariff("VPS Reseller", {"1m": 500})
    reseller_only.visible_to_groups.add(resellers)
    not_for_students = w.tariff("VPS Business", {"3m": 9000, "1m": 3500})
    not_for_students.hidden_from_groups.add(students)
    student_deal = w.tariff("VPS Student", {"12m": 6000, "trial": 0})
    student_deal.visible_to_groups.add(students)
    # when client A opens the catalog
    response = shop.a.http.get("/order/")
    # then the visible tariffs are listed "from" their shortest period, the others are not
    page = text(response)
    assert response.status_code == 200
    assert 'VPS S</h3> <p class="shop-price">from $10.00 / 1 month' in page
    assert 'VPS L</h3> <p class="shop-price">from $30.00 / 1 month' in page
    assert 'VPS Student</h3> <p class="shop-price">from $60.00 / 1 year' in page
    assert "VPS Reseller" not in page and "VPS Business" not in page
    assert shop.a.http.get(f"/order/{reseller_only.pk}/").status_code == 404
    assert shop.a.http.get(f"/order/{not_for_students.pk}/").status_code == 404
    # client B (no group) sees the reseller tariff neither, but the business one
    page_b = text(shop.web.b.http.get("/order/"))
    assert "VPS Business" in page_b and "VPS Reseller" not in page_b


def test_the_configure_page_offers_periods_addons_and_parameters(shop: Shop) -> None:
    response = shop.a.http.get(f"/order/{shop.web.tariff.pk}/")
    page = text(response)
    assert response.status_code == 200
    assert '<option value="1m" selected>1 month · $10.00</option>' in page
    assert '<option value="12m">1 year · $100.00</option>' in page
    assert re.search(
        r'<input type="number" name="addon_ram" value="1" step="1" '
        r'min="1" max="16"',
        page,
    )
    assert '<option value="debian-12">Debian 12</option>' in page
    assert 'name="quick"' in page
    # the preview of the defaults: the tariff alone
    assert '<strong id="item-total">$10.00</strong>' in page


def test_the_preview_partial_quotes_the_configured_item_with_reasons(shop: Shop) -> None:
    url = f"/order/{shop.web.tariff.pk}/preview/"
    response = shop.a.http.get(url, {"period": "12m", "addon_ram": "4"}, HTTP_HX_REQUEST="true")
    page = text(response)
    assert response.status_code == 200
    assert page.startswith(' <div id="item-preview"')
    # 100.00 for the year + 3 extra GB x 2.00 x 12 months
    assert '<strong id="item-total">$172.00</strong>' in page
    assert "tariff price for 12 months" in page
    assert (
        'RAM: 4 GB × 3<br><small class="hint">4 GB, 1 included, 3 x 2.00 USD/month x 12 months'  # noqa: RUF001
        in page
    )
    bad = text(shop.a.http.get(url, {"period": "1m", "addon_ram": "17"}))
    assert "Ensure this value is less than or equal to 16." in bad


def test_the_configure_pages_need_the_services_permission(shop: Shop) -> None:
    from django.test import Client as HttpClient

    for url in (f"/order/{shop.web.tariff.pk}/", f"/order/{shop.web.tariff.pk}/preview/"):
        assert shop.web.limited_http.get(url).status_code == 403
        assert HttpClient().get(url)["Location"].startswith("/accounts/login/?next=")
    assert shop.web.limited_http.post(f"/order/{shop.web.tariff.pk}/").status_code == 403
    assert CartItem.objects.count() == 0


def test_configure_and_add_to_the_cart(shop: Shop) -> None:
    # when the owner configures VPS S (1 month, 3 GB, Debian) and adds it
    response = add_vps(shop, ram=3)
    # then it is in the cart with exactly that configuration and priced 14.00
    assert response.status_code == 302 and response["Location"] == "/cart/"
    item = CartItem.objects.get(cart__client=shop.a.client)
    assert (item.tariff_id, item.period, item.addon_values, item.parameters, item.quick) == (
        shop.web.tariff.pk,
        "1m",
        {"ram": 3},
        {"os": "debian-12"},
        False,
    )
    cart = text(shop.a.http.get("/cart/"))
    assert "VPS S (1m), Operating system: Debian 12: $10.00" in cart  # the OS shows
    assert "RAM: 3 GB × 2: $4.00" in cart  # noqa: RUF001
    assert '<dd class="num"><strong>$14.00</strong></dd>' in cart
    assert "Cart (1)" in cart


def test_parameters_are_required_unless_configure_later_is_ticked(shop: Shop) -> None:
    response = add_vps(shop, param_os="")
    assert response.status_code == 200
    assert "Choose a value, or tick “Configure later”." in text(response)
    assert CartItem.objects.count() == 0
    # with "configure later" the item goes in without parameters
    assert add_vps(shop, param_os="", quick="on").status_code == 302
    item = CartItem.objects.get()
    assert (item.parameters, item.quick) == ({}, True)


def test_removing_a_cart_item(shop: Shop) -> None:
    add_vps(shop)
    item = CartItem.objects.get()
    assert shop.web.b.http.post(f"/cart/{item.pk}/remove/").status_code == 404
    assert CartItem.objects.filter(pk=item.pk).exists()
    response = shop.a.http.post(f"/cart/{item.pk}/remove/", follow=True)
    assert "The item was removed from the cart." in text(response)
    assert not CartItem.objects.exists()


# -- checkout ---------------------------------------------------------------------------------


def test_a_first_checkout_opens_on_the_details_step(shop: Shop) -> None:
    add_vps(shop)
    page = text(shop.a.http.get("/checkout/"))
    assert 'id="checkout-details"' in page
    assert f'<option value="{shop.a.payer.pk}" >Ann Payer</option>' in page
    assert f'value="{shop.sandbox.pk}" required > Sandbox card' in page
    assert 'value="balance" required > Pay from the balance' in page  # 490.00 covers 14.00
    # choosing a payer and a method leads to the final step
    final = text(
        shop.a.http.get(
            "/checkout/",
            {"provider": shop.web.world.provider.pk, "payer": shop.a.payer.pk, "method": "balance"},
        )
    )
    assert 'id="chosen-payer">Ann Payer</dd>' in final
    assert 'id="chosen-method">Pay from the balance</dd>' in final
    assert '<strong id="checkout-total">$14.00</strong>' in final


def test_the_summary_partial_with_and_without_a_promo_code(shop: Shop) -> None:
    add_vps(shop)
    data = {"provider": shop.web.world.provider.pk, "payer": shop.a.payer.pk, "method": "balance"}
    plain = text(
        shop.a.http.post("/checkout/quote/", {**data, "promo_code": ""}, HTTP_HX_REQUEST="true")
    )
    spring = text(
        shop.a.http.post(
            "/checkout/quote/", {**data, "promo_code": "spring"}, HTTP_HX_REQUEST="true"
        )
    )
    unknown = text(
        shop.a.http.post("/checkout/quote/", {**data, "promo_code": "NOPE"}, HTTP_HX_REQUEST="true")
    )
    assert plain.startswith(' <section id="checkout-summary"')
    assert '<strong id="checkout-total">$14.00</strong>' in plain
    assert "checkout-discount" not in plain
    # 20 % off 10.00 and 4.00: -2.00 and -0.80
    assert '<dd class="num" id="checkout-discount">−$2.80</dd>' in spring  # noqa: RUF001
    assert '<strong id="checkout-total">$11.20</strong>' in spring
    assert "Code SPRING applied: −$2.80" in spring  # noqa: RUF001
    assert 'name="promo_code" value="SPRING" id="id_promo_code"' in spring  # carried to Pay
    assert "(promo_code_not_found)" in unknown
    assert '<strong id="checkout-total">$14.00</strong>' in unknown
    assert 'name="promo_code" id="id_promo_code"' in unknown  # nothing carried


def test_checkout_paying_from_the_balance(shop: Shop, oncommit: Any) -> None:
    # given 490.00 on the balance and a 14.00 VPS in the cart, 20 % off with SPRING
    add_vps(shop)
    assert shop.web.world.balance(shop.a.client) == 49000
    # when paying from the balance
    with oncommit(execute=True):
        response = pay(shop, "balance", promo_code="SPRING")
    # then the order is paid, the balance falls by exactly its total and the service is active
    order = Order.objects.get(client=shop.a.client)
    assert response.status_code == 302 and response["Location"] == f"/orders/{order.pk}/"
    assert (order.status, order.total_minor, order.discount_minor) == ("paid", 1120, 280)
    assert (order.payer_id, order.payment_method) == (shop.a.payer.pk, "balance")
    assert shop.web.world.balance(shop.a.client) == 49000 - 1120
    svc = Service.objects.get(client=shop.a.client, name="VPS S")
    assert (svc.status, svc.addon_values, svc.parameters) == (
        ServiceStatus.ACTIVE,
        {"ram": 3},
        {"os": "debian-12"},
    )
    assert not CartItem.objects.exists()
    assert Payment.objects.count() == 0
    page = text(shop.a.http.get(response["Location"]))
    assert f"Order #{order.pk} is paid from your balance." in page
    assert 'id="order-status">Paid</span>' in page
    assert 'data-service-status="active">Active</span>' in page
    assert f'href="/billing/invoices/{order.invoice_id}/pdf/"' in page


def test_checkout_with_the_sandbox_method_pays_on_the_gateway_page(
    shop: Shop, oncommit: Any
) -> None:
    # given an empty balance
    shop.drain(shop.a.client, 49000)
    add_vps(shop)
    # when paying with the sandbox card
    response = pay(shop, str(shop.sandbox.pk))
    # then an order waits and a payment of 14.00 referenced order:<id> sends us to its page
    order = Order.objects.get(client=shop.a.client)
    payment = Payment.objects.get()
    assert order.status == OrderStatus.AWAITING_PAYMENT
    assert (payment.reference, payment.amount_minor, payment.status, payment.payer_id) == (
        f"order:{order.pk}",
        1400,
        "pending",
        order.payer_id,
    )
    assert payment.return_url == f"http://testserver/orders/{order.pk}/"
    assert response.status_code == 302
    assert response["Location"] == payment.redirect_url
    assert response["Location"].startswith(f"/pay/sandbox/{payment.pk}/")
    # when the payer clicks Succeed, they come back to the order: paid, the service active
    with oncommit(execute=True):
        back = shop.a.http.post(payment.redirect_url, {"choice": "succeed"})
    assert back["Location"] == payment.return_url
    order.refresh_from_db()
    assert (order.status, order.payment_method) == ("paid", str(shop.sandbox.pk))
    assert shop.web.world.balance(shop.a.client) == 0
    page = text(shop.a.http.get(f"/orders/{order.pk}/"))
    assert f"<code>order:{order.pk}</code>" in page and 'class="pill p-paid">Paid' in page
    assert 'data-service-status="active"' in page


def test_the_next_checkout_opens_on_the_final_step_with_payer_and_method(shop: Shop) -> None:
    # given a paid order with Ann Payer and the sandbox card
    add_vps(shop)
    orders.checkout(
        client=shop.a.client,
        provider_id=shop.web.world.provider.pk,
        payer=shop.a.payer,
        payment_method=str(shop.sandbox.pk),
    )
    # when the next cart is checked out
    add_vps(shop, ram=2)
    page = text(shop.a.http.get("/checkout/"))
    # then it opens on the final step with both preselected and a "change" link
    assert 'id="checkout-details"' not in page
    assert 'id="chosen-payer">Ann Payer</dd>' in page
    assert 'id="chosen-method">Sandbox card</dd>' in page
    assert f'<input type="hidden" name="method" value="{shop.sandbox.pk}" id="id_method">' in page
    assert '<strong id="checkout-total">$12.00</strong>' in page
    provider = shop.web.world.provider.pk
    change = f"/checkout/?provider={provider}&amp;step=details&amp;payer={shop.a.payer.pk}"
    assert f'href="{change}&amp;method={shop.sandbox.pk}" id="change-details"' in page
    details = text(shop.a.http.get(change.replace("&amp;", "&")))
    assert 'id="checkout-details"' in details
    assert f'value="{shop.sandbox.pk}" required checked> Sandbox card' in details


def test_after_paying_from_the_balance_the_next_checkout_opens_on_the_final_step(
    shop: Shop,
) -> None:
    # given an order with Ann Payer paid from the balance
    add_vps(shop)
    pay(shop, "balance")
    # when the next cart is checked out
    add_vps(shop, ram=2)
    page = text(shop.a.http.get("/checkout/"))
    # then it opens on the final step, paying from the balance again
    assert 'id="checkout-details"' not in page
    assert 'id="chosen-payer">Ann Payer</dd>' in page
    assert 'id="chosen-method">Pay from the balance</dd>' in page
    # unless the balance no longer covers it: then the client chooses on the details step
    shop.drain(shop.a.client, shop.web.world.balance(shop.a.client))
    assert 'id="checkout-details"' in text(shop.a.http.get("/checkout/"))


def test_a_refused_pay_changes_nothing(shop: Shop) -> None:
    add_vps(shop)
    before = (db_counts(), CartItem.objects.count(), Payment.objects.count())
    response = pay(shop, "balance", promo_code="NOPE", follow=True)
    assert "(promo_code_not_found)" in text(response)
    assert (db_counts(), CartItem.objects.count(), Payment.objects.count()) == before
    # an unknown method is refused before anything is written too
    response = pay(shop, "999999", follow=True)
    assert "Choose a payment method." in text(response)
    assert (db_counts(), CartItem.objects.count(), Payment.objects.count()) == before


def test_a_method_that_cannot_take_the_amount_is_refused_before_the_order(shop: Shop) -> None:
    # given a method with a 50.00 minimum and an empty balance
    PaymentMethod.objects.filter(pk=shop.sandbox.pk).update(min_amount_minor=5000)
    shop.drain(shop.a.client, 49000)
    add_vps(shop)
    before = (db_counts(), CartItem.objects.count(), Payment.objects.count())
    # when paying 14.00 with it
    response = pay(shop, str(shop.sandbox.pk), follow=True)
    # then the refusal shows with its code and nothing was written: no order, the cart kept
    assert "(amount_below_minimum)" in text(response)
    assert (db_counts(), CartItem.objects.count(), Payment.objects.count()) == before
    assert not Order.objects.filter(client=shop.a.client).exists()


def test_a_payment_refused_after_the_order_is_placed_shows_the_order(
    shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a method that takes at most 5.00 and a balance spent between the method check
    # and the charge (the check saw 49.00, the charge finds nothing)
    PaymentMethod.objects.filter(pk=shop.sandbox.pk).update(max_amount_minor=500)
    shop.drain(shop.a.client, 49000)
    add_vps(shop)
    monkeypatch.setattr(orders_selectors, "get_available_balance", lambda *args: (4900, False))
    # when paying 14.00 with it
    response = pay(shop, str(shop.sandbox.pk))
    # then the order placed is shown with the refusal, and no payment was created
    order = Order.objects.get(client=shop.a.client)
    assert (order.status, order.total_minor) == ("awaiting_payment", 1400)
    assert response.status_code == 302 and response.url == f"/orders/{order.pk}/"
    page = text(shop.a.http.get(response.url))
    assert "(amount_above_maximum)" in page
    assert not Payment.objects.filter(client=shop.a.client).exists()


def test_paying_needs_the_billing_permission(shop: Shop) -> None:
    from billow.accounts.actions import set_client_user_permissions

    set_client_user_permissions(client_user=shop.web.limited, permissions=["services"])
    http = shop.web.limited_http
    assert (
        http.post(
            f"/order/{shop.web.tariff.pk}/",
            {"currency": "USD", "period": "1m", "addon_ram": "1", "param_os": "debian-12"},
        ).status_code
        == 302
    )
    before = db_counts()
    response = http.post(
        "/checkout/pay/", {"provider": shop.web.world.provider.pk, "method": "balance"}
    )
    assert response.status_code == 403
    assert db_counts() == before
    assert "Paying needs the Billing and payments permission" in text(
        http.get("/checkout/?method=balance&payer=")
    )


# -- orders -----------------------------------------------------------------------------------


def awaiting_order(shop: Shop) -> Order:
    """An order of 14.00 waiting for payment (balance drained, no method chosen)."""
    shop.drain(shop.a.client, 49000)
    add_vps(shop)
    result = orders.checkout(client=shop.a.client, provider_id=shop.web.world.provider.pk)
    assert not result.paid and result.payment is None
    return result.order


def test_pay_again_creates_a_payment_of_the_shortfall(shop: Shop) -> None:
    order = awaiting_order(shop)
    shop.web.world.topup(shop.a.client, 400)  # 4.00 arrives meanwhile: 10.00 is still due
    page = text(shop.a.http.get(f"/orders/{order.pk}/"))
    assert "Still to pay: <strong>$10.00</strong>" in page
    response = shop.a.http.post(f"/orders/{order.pk}/pay/", {"method": shop.sandbox.pk})
    payment = Payment.objects.get()
    assert (payment.amount_minor, payment.reference) == (1000, f"order:{order.pk}")
    assert response["Location"] == payment.redirect_url


def test_pay_again_from_the_balance_when_it_covers_the_order_now(shop: Shop) -> None:
    order = awaiting_order(shop)
    shop.web.world.topup(shop.a.client, 1400)
    response = shop.a.http.post(f"/orders/{order.pk}/pay/", follow=True)
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert f"Order #{order.pk} is paid." in text(response)
    assert shop.web.world.balance(shop.a.client) == 0


def test_cancelling_an_unpaid_order(shop: Shop) -> None:
    order = awaiting_order(shop)
    response = shop.a.http.post(f"/orders/{order.pk}/cancel/", follow=True)
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    assert f"Order #{order.pk} was cancelled." in text(response)
    # a paid order cannot be cancelled
    shop.web.world.topup(shop.a.client, 1400)
    add_vps(shop)
    paid = orders.checkout(client=shop.a.client, provider_id=shop.web.world.provider.pk).order
    response = shop.a.http.post(f"/orders/{paid.pk}/cancel/", follow=True)
    assert "(order_not_open)" in text(response)
    paid.refresh_from_db()
    assert paid.status == OrderStatus.PAID


def test_the_orders_list(shop: Shop) -> None:
    order = awaiting_order(shop)
    page = text(shop.a.http.get("/orders/"))
    assert f'<a href="/orders/{order.pk}/">#{order.pk}</a>' in page
    assert 'class="pill o-awaiting_payment">Awaiting payment</span>' in page
    assert f"#{order.pk}" not in text(shop.web.b.http.get("/orders/"))


def test_another_client_gets_404_and_nothing_changes(shop: Shop) -> None:
    order = awaiting_order(shop)
    quick = Service.objects.create(
        client=shop.a.client,
        provider=shop.web.world.provider,
        tariff=shop.web.tariff,
        period="1m",
        currency="USD",
        billing_mode="anniversary",
        status=ServiceStatus.CONFIGURATION_REQUIRED,
    )
    http = shop.web.b.http
    before = db_counts()
    assert http.get(f"/orders/{order.pk}/").status_code == 404
    assert http.post(f"/orders/{order.pk}/cancel/").status_code == 404
    assert http.post(f"/orders/{order.pk}/pay/", {"method": shop.sandbox.pk}).status_code == 404
    assert http.get(f"/services/{quick.pk}/configure/").status_code == 404
    assert (
        http.post(f"/services/{quick.pk}/configure/", {"param_os": "debian-12"}).status_code == 404
    )
    assert db_counts() == before
    # B's own cart cannot be paid with A's payer
    add_b = http.post(
        f"/order/{shop.web.tariff.pk}/",
        {"currency": "USD", "period": "1m", "addon_ram": "1", "param_os": "debian-12"},
    )
    assert add_b.status_code == 302
    before = db_counts()
    assert (
        http.post(
            "/checkout/pay/",
            {"provider": shop.web.world.provider.pk, "payer": shop.a.payer.pk, "method": "balance"},
        ).status_code
        == 404
    )
    assert db_counts() == before
    order.refresh_from_db()
    quick.refresh_from_db()
    assert (order.status, quick.status, quick.parameters) == (
        OrderStatus.AWAITING_PAYMENT,
        ServiceStatus.CONFIGURATION_REQUIRED,
        {},
    )
    assert Payment.objects.count() == 0


# -- quick order ------------------------------------------------------------------------------


def test_a_quick_order_is_configured_after_payment(shop: Shop, oncommit: Any) -> None:
    # given a VPS ordered with "configure later" and paid from the balance
    add_vps(shop, param_os="", quick="on")
    response = pay(shop, "balance", follow=True)
    assert "is paid from your balance" in text(response), re.findall(
        r'msg error">[^<]*', text(response)
    )
    order = Order.objects.get(client=shop.a.client)
    assert order.status == OrderStatus.PAID
    svc = order.items.get().service
    assert svc is not None and svc.status == ServiceStatus.CONFIGURATION_REQUIRED
    # the service and order pages link to the configure form
    assert f'href="/services/{svc.pk}/configure/"' in text(shop.a.http.get(f"/services/{svc.pk}/"))
    assert f'href="/services/{svc.pk}/configure/"' in text(shop.a.http.get(f"/orders/{order.pk}/"))
    form = text(shop.a.http.get(f"/services/{svc.pk}/configure/"))
    assert '<option value="ubuntu-24.04">Ubuntu 24.04</option>' in form
    deadline = date_format(svc.ordered_at + timedelta(days=30), "DATE_FORMAT")
    assert f"Configure it by {deadline}. After that it is deleted" in form
    # when the client picks Ubuntu
    with oncommit(execute=True):
        response = shop.a.http.post(
            f"/services/{svc.pk}/configure/", {"param_os": "ubuntu-24.04"}, follow=True
        )
    # then the service opens with it
    svc.refresh_from_db()
    assert (svc.status, svc.parameters) == (ServiceStatus.ACTIVE, {"os": "ubuntu-24.04"})
    assert "The parameters were saved; the service is being opened." in text(response)
    # and the form is not offered any more
    again = shop.a.http.get(f"/services/{svc.pk}/configure/", follow=True)
    assert "This service is not waiting for configuration." in text(again)
