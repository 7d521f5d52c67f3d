"""Client area: the bonus program page (consent with version, time and IP; status; history
with sources) and the checkout's "you will earn N" and payment partly with points."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from billow.marketing.bonus.actions import adjust_bonus_points
from billow.marketing.bonus.models import BonusAccount, BonusRule
from billow.orders.models import Order
from tests.marketing.bonus_world import program
from tests.web import test_shop
from tests.web.test_shop import Shop, add_vps, pay, text

shop = test_shop.shop  # the fixture


def bonus_program(shop: Shop, **fields: Any) -> Any:
    p = program(
        shop.web.world,
        consent_required=True,
        consent_text="Points are not money.",
        consent_version="v3",
        welcome_enabled=True,
        welcome_points=200,
        max_share_percent=Decimal(25),
        **fields,
    )
    BonusRule.objects.create(
        program=p, name="5%", trigger="first_purchase", kind="percent", percent=Decimal(5)
    )
    return p


def test_consent_page_records_version_time_and_ip(shop: Shop) -> None:
    bonus_program(shop)
    page = text(shop.a.http.get("/billing/bonus/"))
    assert "Privilege Club" in page and "Points are not money." in page
    assert 'id="bonus-status">No bonus account yet' in page
    response = shop.a.http.post(
        "/billing/bonus/consent/",
        {"provider": shop.web.world.provider.pk, "agree": "on"},
        REMOTE_ADDR="198.51.100.7",
    )
    assert response.status_code == 302
    account = BonusAccount.objects.get(client=shop.a.client)
    assert (account.consent_version, account.consent_ip) == ("v3", "198.51.100.7")
    assert account.consented_at is not None
    page = text(shop.a.http.get("/billing/bonus/"))
    assert 'id="bonus-status">Active' in page
    assert '<strong id="bonus-balance">200</strong>' in page
    assert "Welcome bonus" in page and "+200" in page
    assert "bonus-consent-form" not in page


def test_checkout_shows_you_will_earn_and_pays_partly_with_points(
    shop: Shop, django_capture_on_commit_callbacks: Any
) -> None:
    bonus_program(shop)
    shop.a.http.post(
        "/billing/bonus/consent/", {"provider": shop.web.world.provider.pk, "agree": "on"}
    )
    account = BonusAccount.objects.get(client=shop.a.client)
    adjust_bonus_points(account=account, direction="accrual", points=800, reason="gift", nonce="g")
    add_vps(shop)  # 14.00
    data = {"provider": shop.web.world.provider.pk, "payer": shop.a.payer.pk, "method": "balance"}
    plain = text(shop.a.http.post("/checkout/quote/", data, HTTP_HX_REQUEST="true"))
    # 5% of 14.00 = 70 points; 25% of 14.00 = 3.50 = 350 points may pay
    assert "You will earn 70 Club points with this order." in plain
    assert "up to 350 (you have 1000)" in plain
    used = text(
        shop.a.http.post(
            "/checkout/quote/", {**data, "bonus_points": "300"}, HTTP_HX_REQUEST="true"
        )
    )
    assert '<dd class="num" id="checkout-bonus">−$3.00</dd>' in used  # noqa: RUF001
    assert '<strong id="checkout-due">$11.00</strong>' in used
    assert 'name="bonus_points" value="300"' in used
    before = shop.web.world.balance(shop.a.client)
    with django_capture_on_commit_callbacks(execute=True):
        response = pay(shop, "balance", bonus_points="300")
    order = Order.objects.get(client=shop.a.client)
    assert response.status_code == 302 and order.status == "paid"
    assert shop.web.world.balance(shop.a.client) == before - 1100
    account.refresh_from_db()
    assert account.balance_points == 1000 - 300 + 70
    page = text(shop.a.http.get("/billing/bonus/"))
    assert "Paid with points" in page and "-300" in page and "+70" in page
