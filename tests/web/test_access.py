"""Who sees what: the owner gets every page, anonymous users go to the login page, another
client gets 404 for client A's objects (reading and writing, nothing changes), and a user
without a permission gets 403."""

from __future__ import annotations

from typing import Any

import pytest
from django.apps import apps
from django.test import Client as HttpClient

from tests.web.conftest import WebWorld
from tests.web.money_world import fill_money, money_world
from tests.web.shop_world import fill_shop, shop_objects

pytestmark = pytest.mark.django_db

PAGES = [  # (url template, permission needed or None)
    ("/", None),
    ("/services/", "services"),
    ("/services/{service}/", "services"),
    ("/services/{service}/delete/", "services"),
    ("/services/{service}/preview/?ram=2", "services"),
    ("/billing/", "billing"),
    ("/billing/statement.csv", "billing"),
    ("/billing/top-up/", "billing"),
    ("/billing/top-up/preview/?currency=USD&amount=10", "billing"),
    ("/billing/payments/", "billing"),
    ("/billing/payments/{payment}/", "billing"),
    ("/billing/invoices/", "billing"),
    ("/billing/invoices/{invoice}/", "billing"),
    ("/billing/invoices/{invoice}/pdf/", "billing"),
    ("/billing/methods/", "billing"),
    ("/payers/", "payers"),
    ("/payers/new/", "payers"),
    ("/payers/{payer}/", "payers"),
    ("/users/", "users"),
    ("/users/invite/", "users"),
    ("/profile/", None),
    ("/order/", "services"),
    ("/cart/", "services"),
    ("/checkout/", "services"),
    ("/orders/", "services"),
    ("/orders/{order}/", "services"),
    ("/services/{quick}/configure/", "services"),
]
OBJECT_GETS = [u for u, _ in PAGES if "{" in u] + ["/users/{user}/"]
OBJECT_POSTS = [
    ("/services/{service}/renew/", {}),
    ("/services/{service}/auto-renew/", {}),
    ("/services/{service}/delete/", {"confirm": "on"}),
    ("/services/{service}/tariff/", {"tariff": "{bigger}"}),
    ("/services/{service}/addons/", {"ram": "4"}),
    ("/payers/{payer}/", {"kind": "individual", "name": "Hijacked"}),
    ("/users/{user}/", {"permissions": ["billing"]}),
    ("/users/{user}/remove/", {}),
    ("/billing/top-up/saved/{saved}/", {"currency": "USD", "amount": "10", "nonce": "0" * 32}),
    ("/billing/methods/{saved}/default/", {}),
    ("/billing/methods/{saved}/auto-payment/", {"maximum": "99"}),
    ("/billing/methods/{saved}/remove/", {}),
    ("/orders/{order}/cancel/", {}),
    ("/orders/{order}/pay/", {"method": "balance"}),
    ("/services/{quick}/configure/", {}),
    ("/cart/{cart_item}/remove/", {}),
]


def fill(web: WebWorld, text: str) -> str:
    text = fill_money(web, text)  # {payment}, {invoice}, {saved}
    text = fill_shop(web, text)  # {order}, {quick}, {cart_item}
    return text.format(
        service=web.a.service.pk, payer=web.a.payer.pk, user=web.limited.pk, bigger=web.bigger.pk
    )


def db_state() -> dict[str, Any]:
    state: dict[str, Any] = {}
    for label in ("accounts", "services", "billing", "ledger"):
        for model in apps.get_app_config(label).get_models():
            state[model._meta.db_table] = sorted(map(repr, model.objects.values_list()))
    for label in ("payments", "invoicing"):  # the money pages
        for model in apps.get_app_config(label).get_models():
            state[model._meta.db_table] = sorted(map(repr, model.objects.values_list()))
    for model in apps.get_app_config("orders").get_models():  # the ordering pages
        state[model._meta.db_table] = sorted(map(repr, model.objects.values_list()))
    return state


@pytest.fixture(autouse=True)
def _money_objects(web: WebWorld) -> None:
    money_world(web)  # client A's payment, invoice and saved method exist before any db_state


@pytest.fixture(autouse=True)
def _shop_objects(web: WebWorld) -> None:
    shop_objects(web)  # client A's cart item, unpaid order and quick service, likewise


@pytest.mark.parametrize("url", [u for u, _ in PAGES])
def test_the_owner_sees_every_page(web: WebWorld, url: str) -> None:
    response = web.a.http.get(fill(web, url))
    assert response.status_code == 200


@pytest.mark.parametrize("url", [u for u, _ in PAGES])
def test_anonymous_users_are_sent_to_the_login_page(web: WebWorld, url: str) -> None:
    response = HttpClient().get(fill(web, url))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


@pytest.mark.parametrize("url", OBJECT_GETS)
def test_another_client_gets_404_reading_a_foreign_object(web: WebWorld, url: str) -> None:
    assert web.b.http.get(fill(web, url)).status_code == 404


@pytest.mark.parametrize(("url", "data"), OBJECT_POSTS)
def test_another_client_gets_404_writing_and_nothing_changes(
    web: WebWorld, url: str, data: dict[str, Any]
) -> None:
    before = db_state()
    body = {k: fill(web, v) if isinstance(v, str) else v for k, v in data.items()}
    response = web.b.http.post(fill(web, url), body)
    assert response.status_code == 404
    assert db_state() == before


@pytest.mark.parametrize("url", [u for u, perm in PAGES if perm])
def test_a_user_without_the_permission_is_refused(web: WebWorld, url: str) -> None:
    response = web.limited_http.get(fill(web, url))
    assert response.status_code == 403
    assert b"You do not have the permission for this page." in response.content


def test_a_user_with_the_services_permission_sees_services_only(web: WebWorld) -> None:
    from billow.accounts.actions import set_client_user_permissions

    set_client_user_permissions(client_user=web.limited, permissions=["services"])
    http = web.limited_http
    assert http.get(fill(web, "/services/{service}/")).status_code == 200
    assert http.get("/billing/").status_code == 403
    assert http.get("/users/").status_code == 403


def test_a_staff_login_without_a_client_is_refused(web: WebWorld) -> None:
    from django.contrib.auth.models import User

    staff = User.objects.create_user("staff", "staff@example.com", "x", is_staff=True)
    http = HttpClient()
    http.force_login(staff)
    response = http.get("/services/")
    assert response.status_code == 403
    assert b"does not act for any client" in response.content
    # the site's root sends staff to the admin instead
    root = http.get("/")
    assert (root.status_code, root["Location"]) == (302, "/admin/")


def test_a_disabled_client_user_is_refused(web: WebWorld) -> None:
    web.limited.is_active = False
    web.limited.save(update_fields=["is_active"])
    assert web.limited_http.get("/").status_code == 403
