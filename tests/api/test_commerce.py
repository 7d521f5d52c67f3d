"""Ordering, payments and invoices through the API (exact values): quote, cart, orders paid from
the balance or through a payment, idempotent replays, refusals that write nothing, top-ups,
saved methods, invoices, staff actions. Another client's ids: see test_authorization."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from billow.accounts import actions as accounts
from billow.accounts.models import Client, ClientUser
from billow.api.scopes import SCOPES
from billow.invoicing.models import TaxRule
from billow.marketing.promos.actions import create_promo_code
from billow.orders import selectors as orders_selectors
from billow.orders.models import CartItem, Order
from billow.payments.actions import remember_saved_method
from billow.payments.gateways.base import SavedMethodInfo
from billow.payments.models import Payment, PaymentMethod, SavedPaymentMethod
from billow.services.models import Service
from tests.api.conftest import CLIENT_SCOPES, bearer
from tests.orders import shop as shop_fixtures
from tests.orders.shop import Shop, db_counts
from tests.payments.conftest import make_method

pytestmark = pytest.mark.django_db
_isolated = shop_fixtures._isolated  # autouse: a fixed clock, jobs run at once, dummy module
shop = shop_fixtures.shop


def usd(amount: int) -> dict[str, Any]:
    return {
        "amount_minor": amount,
        "currency": "USD",
        "formatted": f"{amount // 100}.{amount % 100:02d}",
    }


class Buyer:
    """A client of the shop with an owner, a token of every client scope and a balance."""

    def __init__(self, shop: Shop, balance: int = 0, n: int = 1) -> None:
        self.shop = shop
        self.client: Client = accounts.create_client(
            email=f"buyer{n}@example.com",
            name=f"Buyer {n}",
            country="DE",
            providers=[shop.provider],
        )
        if balance:
            shop.topup(self.client, balance)
        self.owner = ClientUser.objects.get(client=self.client, is_owner=True)
        self.api: APIClient = bearer(self.owner.user, CLIENT_SCOPES)

    @property
    def balance(self) -> int:
        return self.shop.balance(self.client)

    def post(self, url: str, body: dict[str, Any], key: str | None = None) -> Any:
        headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
        return self.api.post(f"/api/v1/{url}", body, format="json", **headers)

    def get(self, url: str) -> Any:
        return self.api.get(f"/api/v1/{url}")


def item(shop: Shop, cpu: int = 3, **kw: Any) -> dict[str, Any]:
    return {
        "tariff_id": shop.tariff.pk,
        "period": "1m",
        "addon_values": {"cpu": cpu},
        "parameters": {"os": "debian-12"},
        **kw,
    }


@pytest.fixture
def oncommit(django_capture_on_commit_callbacks: Any) -> Any:
    return django_capture_on_commit_callbacks


@pytest.fixture
def sandbox(shop: Shop) -> PaymentMethod:
    return make_method(
        shop.provider,
        "sandbox",
        secrets={"webhook_secret": "sbx"},
        supports_refunds=True,
        supports_recurring=True,
    )


@pytest.fixture
def bank(shop: Shop) -> PaymentMethod:
    return make_method(
        shop.provider,
        "bank_transfer",
        config={"bank_details": "IBAN DE00 1"},
        fee_fixed_minor=50,
        min_amount_minor=500,
    )


def spring(shop: Shop) -> None:
    """20 % off with code SPRING, and 19 % German VAT added."""
    create_promo_code(promotion=shop.promotion("20", requires_code=True), code="spring")
    TaxRule.objects.create(provider=shop.provider, name="VAT DE", country="DE", rate=19)


# --- quote -------------------------------------------------------------------------------------


def test_quote_prices_each_line_with_its_reason(shop: Shop) -> None:
    # given a VPS of 10.00 with 3 CPUs (1 included, 2 x 3.00)
    buyer = Buyer(shop)
    # when quoting it
    r = buyer.post("quote/", {"currency": "USD", "items": [item(shop)]})
    # then 16.00, no discount, no tax
    assert r.status_code == 200, r.json()
    body = r.json()
    assert [
        (
            x["item"],
            x["kind"],
            x["quantity"],
            x["unit_price"]["amount_minor"],
            x["total"]["amount_minor"],
        )
        for x in body["lines"]
    ] == [
        ("i1", "tariff", 1, 1000, 1000),
        ("i1", "addon", 2, 300, 600),
    ]
    assert all(x["reason"] for x in body["lines"])
    assert (body["subtotal"], body["discount"], body["tax"], body["total"]) == (
        usd(1600),
        usd(0),
        usd(0),
        usd(1600),
    )
    assert body["promotions"] == [] and body["amount_due"] == usd(1600)


def test_quote_with_promo_code_and_added_tax(shop: Shop) -> None:
    spring(shop)
    buyer = Buyer(shop)
    r = buyer.post("quote/", {"currency": "USD", "items": [item(shop)], "promo_code": "Spring"})
    body = r.json()
    # 1600 - 20 % = 1280; tax 19 % per line: 800 x .19 = 152, 480 x .19 = 91.2 -> 91
    assert (body["subtotal"], body["discount"], body["tax"], body["total"]) == (
        usd(1600),
        usd(320),
        usd(243),
        usd(1523),
    )
    assert [(p["code"], p["amount"]) for p in body["promotions"]] == [("SPRING", usd(320))]
    assert [x["discount"]["amount_minor"] for x in body["lines"]] == [200, 120]
    assert body["tax_lines"][0]["rate"] == "19.000"


def test_quote_refuses_an_unknown_promo_code_and_a_hidden_tariff(shop: Shop) -> None:
    buyer = Buyer(shop)
    before = db_counts()
    r = buyer.post("quote/", {"currency": "USD", "items": [item(shop)], "promo_code": "NOPE"})
    assert (r.status_code, r.json()["code"]) == (404, "promo_code_not_found")
    r = buyer.post("quote/", {"currency": "USD", "items": [item(shop, tariff_id=10**9)]})
    assert (r.status_code, r.json()["code"]) == (400, "tariff_not_available")
    r = buyer.post("quote/", {"from_cart": True, "items": [item(shop)]})
    assert (r.status_code, r.json()["code"]) == (400, "validation_error")
    assert db_counts() == before


# --- cart --------------------------------------------------------------------------------------


def test_cart_add_show_and_remove(shop: Shop) -> None:
    buyer = Buyer(shop)
    # when adding a VPS to the cart
    r = buyer.post("cart/items/", {**item(shop), "currency": "USD"})
    assert r.status_code == 201, r.json()
    added = r.json()
    assert (
        added["provider_id"],
        added["currency"],
        added["tariff_name"],
        added["period"],
        added["addon_values"],
        added["quick"],
    ) == (
        shop.provider.pk,
        "USD",
        "VPS-S",
        "1m",
        {"cpu": 3},
        False,
    )
    # then the cart shows it with its quote (lines keyed by the cart item)
    cart = buyer.get("cart/").json()
    assert [i["id"] for i in cart["items"]] == [added["id"]]
    assert cart["quote"]["total"] == usd(1600) and cart["quote_error"] is None
    assert {x["item"] for x in cart["quote"]["lines"]} == {f"i{added['id']}"}
    assert buyer.post("quote/", {"from_cart": True}).json()["total"] == usd(1600)
    # when removing it
    assert buyer.api.delete(f"/api/v1/cart/items/{added['id']}/").status_code == 204
    # then the cart is empty
    assert buyer.get("cart/items/").json() == []
    assert buyer.get("cart/").json()["quote"] is None
    assert not CartItem.objects.exists()


def test_cart_refuses_a_bad_addon_value_and_writes_nothing(shop: Shop) -> None:
    buyer = Buyer(shop)
    before = db_counts()
    r = buyer.post("cart/items/", {**item(shop, cpu=99), "currency": "USD"})
    assert r.status_code == 400
    assert r.json()["code"] == "addon_value_out_of_range"
    assert db_counts() == before


# --- orders ------------------------------------------------------------------------------------


def test_direct_order_paid_from_balance_opens_the_service(shop: Shop, oncommit: Any) -> None:
    # given 50.00 on the balance
    buyer = Buyer(shop, balance=5000)
    # when ordering a VPS directly (not through the cart)
    with oncommit(execute=True):
        r = buyer.post("orders/", {"currency": "USD", "items": [item(shop)]}, key="o-1")
    # then it is paid: the balance falls by exactly the total and the service is active
    assert r.status_code == 201, r.json()
    order = r.json()
    assert (order["status"], order["total"], order["shortfall"], order["payment"]) == (
        "paid",
        usd(1600),
        usd(0),
        None,
    )
    assert buyer.balance == 5000 - 1600
    service = Service.objects.get(pk=order["items"][0]["service_id"])
    assert (service.client_id, service.status) == (buyer.client.pk, "active")
    assert order["items"][0]["total"] == usd(1600)
    assert order["invoice_id"] is not None
    assert buyer.get(f"orders/{order['id']}/").json()["status"] == "paid"
    assert buyer.get("orders/?status=paid").json()["count"] == 1


def test_order_with_promo_code_pays_the_discounted_total(shop: Shop) -> None:
    spring(shop)
    buyer = Buyer(shop, balance=5000)
    body = {"currency": "USD", "items": [item(shop)], "promo_code": "SPRING"}
    order = buyer.post("orders/", body, key="o-2").json()
    assert (order["subtotal"], order["discount"], order["tax"], order["total"]) == (
        usd(1600),
        usd(320),
        usd(243),
        usd(1523),
    )
    assert order["promotions"][0]["code"] == "SPRING"
    assert buyer.balance == 5000 - 1523


def test_order_from_the_cart_empties_it(shop: Shop) -> None:
    buyer = Buyer(shop, balance=2000)
    buyer.post("cart/items/", {**item(shop), "currency": "USD"})
    r = buyer.post("orders/", {"from_cart": True}, key="o-3")
    assert (r.status_code, r.json()["status"]) == (201, "paid")
    assert not CartItem.objects.exists()
    assert buyer.balance == 400


def test_order_with_a_shortfall_starts_a_sandbox_payment(
    shop: Shop, sandbox: Any, settings: Any
) -> None:
    # given 10.00 on the balance and a 16.00 order paid with the sandbox, returning to the
    # shop's own site (a configured return host)
    settings.PAYMENT_RETURN_HOSTS = ["shop.example.com"]
    buyer = Buyer(shop, balance=1000)
    body = {
        "currency": "USD",
        "items": [item(shop)],
        "payment_method_id": sandbox.pk,
        "return_url": "https://shop.example.com/done",
    }
    r = buyer.post("orders/", body, key="o-4")
    # then the order waits for the 6.00 shortfall, paid through the sandbox page
    assert r.status_code == 201, r.json()
    order = r.json()
    assert (order["status"], order["shortfall"]) == ("awaiting_payment", usd(600))
    payment = order["payment"]
    assert (payment["status"], payment["amount"], payment["commission"], payment["reference"]) == (
        "pending",
        usd(600),
        usd(0),
        f"order:{order['id']}",
    )
    assert payment["redirect_url"].startswith(f"/pay/sandbox/{payment['id']}/")
    assert Payment.objects.get(pk=payment["id"]).return_url == "https://shop.example.com/done"
    assert buyer.balance == 1000
    assert not Service.objects.filter(client=buyer.client).exists()


def test_a_return_url_on_another_host_is_refused_before_the_order(shop: Shop, sandbox: Any) -> None:
    # given an order with a shortfall whose return_url points at a host nobody configured
    buyer = Buyer(shop, balance=1000)
    body = {
        "currency": "USD",
        "items": [item(shop)],
        "payment_method_id": sandbox.pk,
        "return_url": "https://evil.example/phish",
    }
    orders_before = Order.objects.count()
    # when it is placed, then 400 return_url_not_allowed, and no order, no payment
    r = buyer.post("orders/", body, key="o-evil")
    assert (r.status_code, r.json()["code"]) == (400, "return_url_not_allowed")
    assert (Order.objects.count(), Payment.objects.count()) == (orders_before, 0)
    assert buyer.balance == 1000


def test_replayed_order_returns_the_same_order_and_creates_nothing(shop: Shop) -> None:
    buyer = Buyer(shop, balance=5000)
    body = {"currency": "USD", "items": [item(shop)]}
    first = buyer.post("orders/", body, key="same-key")
    before = db_counts()
    second = buyer.post("orders/", body, key="same-key")
    assert (first.status_code, second.status_code) == (201, 201)
    assert second.json() == first.json()
    assert second["Idempotent-Replayed"] == "true"
    assert db_counts() == before
    assert Order.objects.count() == 1 and buyer.balance == 3400


def test_order_refusals_write_nothing(shop: Shop, sandbox: Any) -> None:
    buyer = Buyer(shop, balance=5000)
    euro = make_method(shop.provider, "sandbox", currency="EUR", secrets={"webhook_secret": "e"})
    before = db_counts()
    cases = [
        (
            {"currency": "USD", "items": [item(shop)], "promo_code": "NOPE"},
            404,
            "promo_code_not_found",
        ),
        ({"currency": "USD", "items": [item(shop, tariff_id=10**9)]}, 400, "tariff_not_available"),
        ({"from_cart": True}, 400, "cart_empty"),
        (
            {"currency": "USD", "items": [item(shop)], "payment_method_id": 10**9},
            400,
            "payment_method_not_found",
        ),
        (
            {"currency": "USD", "items": [item(shop)], "payment_method_id": euro.pk},
            400,
            "payment_currency_mismatch",
        ),
        ({"currency": "USD", "items": [item(shop)], "payer_id": 10**9}, 400, "payer_not_found"),
        (
            {"currency": "USD", "items": [item(shop)], "provider_id": 10**9},
            400,
            "provider_not_available",
        ),
    ]
    for n, (body, code, error) in enumerate(cases):
        r = buyer.post("orders/", body, key=f"refused-{n}")
        assert (r.status_code, r.json()["code"]) == (code, error), body
    r = buyer.post("orders/", {"currency": "USD", "items": [item(shop)]})
    assert (r.status_code, r.json()["code"]) == (400, "idempotency_key_required")
    assert db_counts() == before
    assert Payment.objects.count() == 0 and buyer.balance == 5000


def test_a_payment_refused_after_the_order_is_placed_answers_the_refusal(
    shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a method that takes at most 5.00 and a balance spent between the method check
    # and the charge (the check saw 15.00, the charge finds nothing)
    method = make_method(
        shop.provider, "sandbox", secrets={"webhook_secret": "sbx"}, max_amount_minor=500
    )
    buyer = Buyer(shop)
    monkeypatch.setattr(orders_selectors, "get_available_balance", lambda *args: (1500, False))
    # when ordering 16.00 with it
    body = {"currency": "USD", "items": [item(shop)], "payment_method_id": method.pk}
    r = buyer.post("orders/", body, key="o-refused")
    # then the answer is the refusal; the order is placed and waits, with no payment
    assert (r.status_code, r.json()["code"]) == (400, "amount_above_maximum")
    order = Order.objects.get(client=buyer.client)
    assert (order.status, order.total_minor) == ("awaiting_payment", 1600)
    assert Payment.objects.count() == 0 and buyer.balance == 0


def test_pay_an_awaiting_order_and_cancel_another(shop: Shop, sandbox: Any) -> None:
    buyer = Buyer(shop, balance=1000)
    body = {"currency": "USD", "items": [item(shop)]}
    order = buyer.post("orders/", body, key="o-5").json()
    assert (order["status"], order["shortfall"], order["payment"]) == (
        "awaiting_payment",
        usd(600),
        None,
    )
    # when paying it with the sandbox
    r = buyer.post(f"orders/{order['id']}/pay/", {"payment_method_id": sandbox.pk}, key="p-1")
    assert r.status_code == 200, r.json()
    assert (r.json()["payment"]["amount"], r.json()["payment"]["status"]) == (usd(600), "pending")
    # a replay creates no second payment
    assert (
        buyer.post(
            f"orders/{order['id']}/pay/", {"payment_method_id": sandbox.pk}, key="p-1"
        ).json()
        == r.json()
    )
    assert Payment.objects.count() == 1
    # when cancelling it
    r = buyer.post(f"orders/{order['id']}/cancel/", {})
    assert (r.status_code, r.json()["status"]) == (200, "cancelled")
    r = buyer.post(f"orders/{order['id']}/pay/", {"payment_method_id": sandbox.pk}, key="p-2")
    assert (r.status_code, r.json()["code"]) == (409, "order_not_open")


def test_pay_settles_from_the_balance_when_it_now_covers_the_order(
    shop: Shop, sandbox: Any
) -> None:
    buyer = Buyer(shop, balance=1000)
    order = buyer.post("orders/", {"currency": "USD", "items": [item(shop)]}, key="o-6").json()
    shop.topup(buyer.client, 600)
    r = buyer.post(f"orders/{order['id']}/pay/", {"payment_method_id": sandbox.pk}, key="p-3")
    assert (r.json()["status"], r.json()["payment"], r.json()["shortfall"]) == (
        "paid",
        None,
        usd(0),
    )
    assert buyer.balance == 0 and Payment.objects.count() == 0


def test_checkout_defaults_follow_the_last_paid_order(shop: Shop, sandbox: Any) -> None:
    buyer = Buyer(shop, balance=5000)
    assert buyer.get("checkout/defaults/").json() == {
        "payer": None,
        "payment_method": None,
        "pay_from_balance": False,
        "skip_to_final_step": False,
    }
    payer = accounts.create_payer(client=buyer.client, kind="individual", name="Ann Smith")
    body = {
        "currency": "USD",
        "items": [item(shop)],
        "payer_id": payer.pk,
        "payment_method_id": sandbox.pk,
    }
    assert buyer.post("orders/", body, key="o-7").json()["status"] == "paid"
    d = buyer.get("checkout/defaults/").json()
    assert (d["payer"]["id"], d["payment_method"]["id"], d["skip_to_final_step"]) == (
        payer.pk,
        sandbox.pk,
        True,
    )
    # a later order paid from the balance makes the balance the preselected way to pay
    body = {"currency": "USD", "items": [item(shop)], "payer_id": payer.pk}
    assert buyer.post("orders/", body, key="o-7b").json()["status"] == "paid"
    d = buyer.get("checkout/defaults/").json()
    assert (
        d["payer"]["id"],
        d["payment_method"],
        d["pay_from_balance"],
        d["skip_to_final_step"],
    ) == (payer.pk, None, True, True)


def test_quick_order_then_configure(shop: Shop, oncommit: Any) -> None:
    buyer = Buyer(shop, balance=5000)
    body = {"currency": "USD", "items": [item(shop, quick=True)]}
    order = buyer.post("orders/", body, key="o-8").json()
    service_id = order["items"][0]["service_id"]
    assert Service.objects.get(pk=service_id).status == "configuration_required"
    with oncommit(execute=True):
        r = buyer.post(f"services/{service_id}/configure/", {"parameters": {"os": "ubuntu-24.04"}})
    assert r.status_code == 200, r.json()
    # then the response shows it opening; the open job (after commit) makes it active
    assert (r.json()["status"], r.json()["parameters"]) == ("in_progress", {"os": "ubuntu-24.04"})
    assert Service.objects.get(pk=service_id).status == "active"
    again = buyer.post(f"services/{service_id}/configure/", {"parameters": {"os": "debian-12"}})
    assert (again.status_code, again.json()["code"]) == (400, "service_not_awaiting_configuration")


# --- payment methods, top-ups, saved methods -----------------------------------------------------


def test_payment_methods_with_commission_and_limits(shop: Shop, sandbox: Any, bank: Any) -> None:
    buyer = Buyer(shop)
    rows = buyer.get("payment-methods/?currency=USD").json()
    assert [(m["id"], m["gateway"]) for m in rows] == [
        (sandbox.pk, "sandbox"),
        (bank.pk, "bank_transfer"),
    ]
    assert (
        rows[1]["fee_fixed"],
        rows[1]["fee_percent"],
        rows[1]["min_amount"],
        rows[1]["max_amount"],
    ) == (usd(50), "0.0000", usd(500), None)
    assert buyer.get("payment-methods/?currency=EUR").json() == []


def test_top_up_through_bank_transfer_with_commission(shop: Shop, bank: Any) -> None:
    buyer = Buyer(shop)
    body = {"amount_minor": 2000, "currency": "USD", "payment_method_id": bank.pk}
    r = buyer.post("payments/", body, key="t-1")
    assert r.status_code == 201, r.json()
    p = r.json()
    assert (p["status"], p["purpose"], p["amount"], p["commission"], p["total"]) == (
        "pending",
        "topup",
        usd(2000),
        usd(50),
        usd(2050),
    )
    assert "IBAN DE00 1" in p["instructions"]
    assert buyer.get(f"payments/{p['id']}/").json() == p
    assert buyer.get("payments/").json()["count"] == 1
    assert buyer.balance == 0


def test_top_up_below_the_minimum_is_refused_and_writes_nothing(shop: Shop, bank: Any) -> None:
    buyer = Buyer(shop)
    before = db_counts()
    body = {"amount_minor": 499, "currency": "USD", "payment_method_id": bank.pk}
    r = buyer.post("payments/", body, key="t-2")
    assert (r.status_code, r.json()["code"]) == (400, "amount_below_minimum")
    assert r.json()["details"] == {"minimum": 500}
    assert Payment.objects.count() == 0 and db_counts() == before


def test_one_click_top_up_with_a_saved_method(shop: Shop, sandbox: Any) -> None:
    buyer = Buyer(shop)
    saved = save_card(buyer, sandbox)
    body = {"amount_minor": 700, "currency": "USD", "saved_method_id": saved.pk}
    r = buyer.post("payments/", body, key="t-3")
    assert (r.status_code, r.json()["status"], r.json()["saved_method_id"]) == (
        201,
        "paid",
        saved.pk,
    )
    assert buyer.balance == 700


def save_card(buyer: Buyer, method: PaymentMethod) -> SavedPaymentMethod:
    from billow.core.money import Money
    from billow.payments.actions import create_payment

    payment = create_payment(client=buyer.client, amount=Money(100, "USD"), method=method)
    return remember_saved_method(payment=payment, saved=SavedMethodInfo("sbxtok_ok", "Visa 4242"))


def test_saved_methods_patch_and_delete(shop: Shop, sandbox: Any) -> None:
    buyer = Buyer(shop)
    saved = save_card(buyer, sandbox)
    rows = buyer.get("saved-methods/").json()
    assert [(m["id"], m["label"], m["is_default"], m["auto_payment_max"]) for m in rows] == [
        (saved.pk, "Visa 4242", True, None)
    ]
    url = f"/api/v1/saved-methods/{saved.pk}/"
    r = buyer.api.patch(url, {"auto_payment_max_minor": 5000, "is_default": False}, format="json")
    assert r.status_code == 200, r.json()
    assert (r.json()["auto_payment_max"], r.json()["is_default"]) == (usd(5000), False)
    r = buyer.api.patch(url, {"auto_payment_max_minor": 0}, format="json")
    assert (r.status_code, r.json()["code"]) == (400, "validation_error")
    assert buyer.api.delete(url).status_code == 204
    saved.refresh_from_db()
    assert (saved.is_active, saved.auto_payment_max_minor) == (False, None)
    assert buyer.get("saved-methods/").json() == []
    assert buyer.api.delete(url).status_code == 404


# --- invoices ------------------------------------------------------------------------------------


def test_invoices_list_detail_and_pdf(shop: Shop) -> None:
    buyer = Buyer(shop, balance=5000)
    order = buyer.post("orders/", {"currency": "USD", "items": [item(shop)]}, key="o-9").json()
    rows = buyer.get("invoices/").json()["results"]
    assert [(i["id"], i["status"], i["total"], i["reference"]) for i in rows] == [
        (order["invoice_id"], "paid", usd(1600), f"order:{order['id']}")
    ]
    detail = buyer.get(f"invoices/{order['invoice_id']}/").json()
    assert [(x["position"], x["total"]) for x in detail["lines"]] == [(1, usd(1000)), (2, usd(600))]
    pdf = buyer.get(f"invoices/{order['invoice_id']}/pdf/")
    assert (pdf.status_code, pdf["Content-Type"]) == (200, "application/pdf")
    assert pdf.content.startswith(b"%PDF")


# --- staff -------------------------------------------------------------------------------------


def staff_api(staff_user: Any) -> APIClient:
    return bearer(staff_user, [s for s in SCOPES if s.startswith("staff:")])


def test_staff_marks_a_bank_transfer_paid_and_refunds(
    shop: Shop, bank: Any, sandbox: Any, staff_user: Any
) -> None:
    buyer = Buyer(shop)
    body = {"amount_minor": 2000, "currency": "USD", "payment_method_id": bank.pk}
    payment = buyer.post("payments/", body, key="t-4").json()
    staff = staff_api(staff_user)
    listed = staff.get(f"/api/v1/staff/payments/?client_id={buyer.client.pk}").json()
    assert [p["id"] for p in listed["results"]] == [payment["id"]]
    # when the transfer arrives
    r = staff.post(f"/api/v1/staff/payments/{payment['id']}/mark-paid/", {}, format="json")
    assert (r.status_code, r.json()["status"]) == (200, "paid")
    assert buyer.balance == 2000
    # when refunding 5.00 of it to the balance as credit (idempotent)
    url = f"/api/v1/staff/payments/{payment['id']}/refund/"
    refund = {"amount_minor": 500, "destination": "balance", "reason": "goodwill"}
    r = staff.post(url, refund, format="json", HTTP_IDEMPOTENCY_KEY="r-1")
    assert r.status_code == 201, r.json()
    assert (r.json()["amount"], r.json()["status"]) == (usd(500), "succeeded")
    again = staff.post(url, refund, format="json", HTTP_IDEMPOTENCY_KEY="r-1")
    assert again.json() == r.json()
    assert buyer.balance == 2500
    # a hosted-page payment is not marked paid by hand
    topup = {"amount_minor": 700, "currency": "USD", "payment_method_id": sandbox.pk}
    other = buyer.post("payments/", topup, key="t-5").json()
    r = staff.post(f"/api/v1/staff/payments/{other['id']}/mark-paid/", {}, format="json")
    assert (r.status_code, r.json()["code"]) == (400, "not_manual_method")


def test_staff_lists_orders(shop: Shop, staff_user: Any) -> None:
    buyer = Buyer(shop, balance=5000)
    order = buyer.post("orders/", {"currency": "USD", "items": [item(shop)]}, key="o-10").json()
    rows = staff_api(staff_user).get("/api/v1/staff/orders/?status=paid").json()["results"]
    assert [(o["id"], o["client_id"], o["total"]) for o in rows] == [
        (order["id"], buyer.client.pk, usd(1600))
    ]
