"""Authorization, built from the URL configuration: every ``/api/v1/`` route and every page of
the ``web`` namespace is found by walking ``get_resolver()``, so a new endpoint is covered
without editing this file. Path parameters are filled with client A's ids; then

- client B (a token with every client scope, or a session for pages) gets 404, reading and
  writing, and A's data is unchanged;
- anonymous requests are refused (401 for the API, a login redirect for pages);
- a token lacking the view's scope gets 403 (on A's own objects, so a 404 cannot hide it);
- staff routes refuse client users (403).

A route whose path parameter is not in ``PARAMS`` fails the test: name new parameters after
the object (``<int:service_id>``) and add one line here.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient

from billow.api.actions import TOKEN_PREFIX, hash_token
from billow.api.models import ApiToken
from billow.api.scopes import SCOPES, family_of
from billow.ledger.models import LedgerAccount
from billow.services.models import ModuleInstance, Service
from tests.api.conftest import CLIENT_SCOPES, Tenant


def _module_instance(t: Tenant) -> int:
    """A dummy module instance (staff routes), made on first use."""
    if "module_instance" not in t.extra:
        t.extra["module_instance"] = ModuleInstance.objects.create(
            module="dummy", name=f"dummy-{t.client.pk}"
        )
    return int(t.extra["module_instance"].pk)


def _commerce(t: Tenant) -> dict[str, Any]:
    """Client A's cart item, paid order (with its invoice and service), bank-transfer payment and
    saved method: made once, before the first snapshot (``snapshot`` asks for them first)."""
    if "commerce" not in t.extra:
        from billow.core.money import Money
        from billow.invoicing.actions import issue_credit_note
        from billow.orders import actions as orders
        from billow.orders.selectors import ItemSpec
        from billow.payments.actions import create_payment, remember_saved_method
        from billow.payments.gateways.base import SavedMethodInfo
        from tests.payments.conftest import make_method

        cart_item = orders.add_to_cart(
            client=t.client, tariff=t.tariff, period="1m", currency="USD"
        )
        order = orders.checkout(
            client=t.client,
            provider_id=t.world.provider.pk,
            currency="USD",
            items=[ItemSpec("x", t.tariff.pk, "1m")],
        ).order
        method = make_method(
            t.world.provider,
            "bank_transfer",
            config={"bank_details": "IBAN"},
            supports_refunds=True,
        )
        payment = create_payment(client=t.client, amount=Money(1000, "USD"), method=method)
        saved = remember_saved_method(payment=payment, saved=SavedMethodInfo("tok-a", "Visa"))
        assert order.invoice is not None
        note = issue_credit_note(invoice=order.invoice, amount_minor=100, reason="goodwill")
        t.extra["commerce"] = {
            "credit_note": note.pk,
            "cart_item": cart_item.pk,
            "order": order.pk,
            "invoice": order.invoice_id,
            "payment": payment.pk,
            "saved_method": saved.pk,
            "method": method.pk,
        }
    return dict(t.extra["commerce"])


def _staff_config(t: Tenant) -> dict[str, int]:
    """A promotion with a code and a tax rule of the tenant's provider (staff routes)."""
    if "staff_config" not in t.extra:
        from decimal import Decimal

        from billow.invoicing.models import TaxRule
        from billow.marketing.promos.models import PromoCode, Promotion

        promotion = Promotion.objects.create(provider=t.world.provider, name="Spring")
        code = PromoCode.objects.create(
            promotion=promotion, provider=t.world.provider, code=f"SPRING{t.client.pk}"
        )
        rule = TaxRule.objects.create(provider=t.world.provider, name="VAT", rate=Decimal("19"))
        t.extra["staff_config"] = {"promotion": promotion.pk, "code": code.pk, "rule": rule.pk}
    return dict(t.extra["staff_config"])


def _bonus(t: Tenant) -> dict[str, int]:
    """A bonus program of the tenant's provider and the client's bonus account (staff routes)."""
    if "bonus" not in t.extra:
        from billow.marketing.bonus.models import BonusAccount, BonusProgram

        program = BonusProgram.objects.create(provider=t.world.provider, name="Club")
        account = BonusAccount.objects.create(provider=t.world.provider, client=t.client)
        t.extra["bonus"] = {"program": program.pk, "account": account.pk}
    return dict(t.extra["bonus"])


def _support(t: Tenant) -> dict[str, int]:
    """Client A's ticket with an attachment, made once."""
    if "support" not in t.extra:
        from billow.core.actors import Actor
        from billow.support.actions import open_ticket
        from billow.support.attachments import Upload
        from billow.support.models import Department

        department = Department.objects.get_or_create(name="Support")[0]
        ticket = open_ticket(
            department=department,
            client=t.client,
            subject="A's ticket",
            body="private",
            uploads=[Upload("a.txt", b"secret")],
            actor=Actor.client_user(t.owner.user),
        )
        attachment = ticket.messages.get().attachments.get()
        t.extra["support"] = {"ticket": ticket.pk, "attachment": attachment.pk}
    return dict(t.extra["support"])


PARAMS: dict[str, Callable[[Tenant], int]] = {
    "service_id": lambda t: t.service.pk,
    "payer_id": lambda t: t.payer.pk,
    "client_user_id": lambda t: t.member.pk,
    "user_id": lambda t: t.member.pk,
    "notification_id": lambda t: t.notification.pk,
    "token_id": lambda t: t.token.pk,
    "tariff_id": lambda t: t.tariff.pk,
    "client_id": lambda t: t.client.pk,
    "module_instance_id": _module_instance,
    "cart_item_id": lambda t: _commerce(t)["cart_item"],
    "item_id": lambda t: _commerce(t)["cart_item"],  # web: cart/<item_id>/remove/
    "order_id": lambda t: _commerce(t)["order"],
    "invoice_id": lambda t: _commerce(t)["invoice"],
    "credit_note_id": lambda t: _commerce(t)["credit_note"],
    "payment_id": lambda t: _commerce(t)["payment"],
    "saved_method_id": lambda t: _commerce(t)["saved_method"],
    "program_id": lambda t: _bonus(t)["program"],
    "bonus_account_id": lambda t: _bonus(t)["account"],
    "ticket_id": lambda t: _support(t)["ticket"],
    "promotion_id": lambda t: _staff_config(t)["promotion"],
    "code_id": lambda t: _staff_config(t)["code"],
    "rule_id": lambda t: _staff_config(t)["rule"],
    "method_id": lambda t: _commerce(t)["method"],
    "attachment_id": lambda t: _support(t)["attachment"],
    # S3: a bucket and an access key inside client A's service (the service decides access)
    "name": lambda t: "a-bucket",  # type: ignore[dict-item,return-value]
    "access_key": lambda t: "AKEYOFCLIENTA",  # type: ignore[dict-item,return-value]
}
#: ``<pk>`` names the object of the path segment before it (``services/<int:pk>/``).
PK_BY_SEGMENT: dict[str, Callable[[Tenant], int]] = {
    "services": PARAMS["service_id"],
    "payers": PARAMS["payer_id"],
    "users": PARAMS["client_user_id"],
    "notifications": PARAMS["notification_id"],
    "tokens": PARAMS["token_id"],
    "tariffs": PARAMS["tariff_id"],
    "clients": PARAMS["client_id"],
    "saved": PARAMS["saved_method_id"],  # billing/top-up/saved/<pk>/: one-click payment
    "methods": PARAMS["saved_method_id"],
    "payments": PARAMS["payment_id"],
    "invoices": PARAMS["invoice_id"],
    "credit-notes": PARAMS["credit_note_id"],
    "orders": PARAMS["order_id"],
    "support": PARAMS["ticket_id"],  # web: support/<pk>/
    "files": PARAMS["attachment_id"],  # web: support/files/<pk>/
}
#: Web pages of the catalog: a tariff is not client A's object (client B of the same provider
#: may order it too), so only "anonymous users are refused" applies to them.
CATALOG_WEB_PARAMS = {"tariff_id"}
#: Pages anyone may open (the web namespace's public pages).
PUBLIC_WEB_NAMES = {"home", "set_language", "language", "referrals_click"}
METHODS = ("get", "post", "put", "patch", "delete")
_PARAM = re.compile(r"<(?:(?P<conv>[^>:]+):)?(?P<name>[^>]+)>")


Route = tuple[str, Any, str | None, str | None]


def walk(patterns: list[Any], prefix: str = "", ns: str | None = None) -> Iterator[Route]:
    for p in patterns:
        if isinstance(p, URLResolver):
            yield from walk(p.url_patterns, prefix + str(p.pattern), p.namespace or ns)
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern), p.callback, ns, p.name


def api_routes() -> list[tuple[str, Any]]:
    return [
        (r, cb) for r, cb, _ns, _n in walk(get_resolver().url_patterns) if r.startswith("api/v1/")
    ]


def web_routes() -> list[tuple[str, Any, str | None]]:
    return [(r, cb, n) for r, cb, ns, n in walk(get_resolver().url_patterns) if ns == "web"]


def fill(route: str, tenant: Tenant) -> str:
    def one(match: re.Match[str]) -> str:
        name = match.group("name")
        if name == "pk":
            segment = route[: match.start()].rstrip("/").rsplit("/", 1)[-1]
            if segment not in PK_BY_SEGMENT:
                pytest.fail(f"route {route!r}: no object known for <pk> after {segment!r}/")
            return str(PK_BY_SEGMENT[segment](tenant))
        if name not in PARAMS:
            pytest.fail(f"route {route!r}: path parameter {name!r} is not in PARAMS")
        return str(PARAMS[name](tenant))

    return "/" + _PARAM.sub(one, route)


def methods_of(callback: Any) -> list[str]:
    cls = getattr(callback, "view_class", None) or getattr(callback, "cls", None)
    if cls is None:
        return ["get", "post"]
    return [m for m in METHODS if hasattr(cls, m)]


def session_only(callback: Any) -> bool:
    cls = callback.view_class
    return any(p.__name__ == "SessionOnly" for p in getattr(cls, "permission_classes", []))


def view_scope(callback: Any) -> str:
    cls = getattr(callback, "view_class", None) or getattr(callback, "cls", None)
    scope = getattr(cls, "scope", "")
    assert f"{scope}:read" in SCOPES or f"{scope}:write" in SCOPES, f"{cls} declares no scope"
    return str(scope)


def token_client(user: Any, scopes: list[str]) -> APIClient:
    """A token made directly (no scope validation), to test what the views refuse."""
    raw = f"{TOKEN_PREFIX}_{uuid.uuid4().hex[:12]}_{uuid.uuid4().hex}"
    ApiToken.objects.create(
        user=user, name="raw", prefix=raw.split("_")[1], token_hash=hash_token(raw), scopes=scopes
    )
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return api


def call(api: Any, method: str, url: str) -> Any:
    headers = {"HTTP_IDEMPOTENCY_KEY": uuid.uuid4().hex}
    if method == "get":
        return api.get(url)
    return getattr(api, method)(url, {}, format="json", **headers)


def snapshot(t: Tenant) -> dict[str, Any]:
    """Client A's rows that any endpoint could change."""
    from billow.invoicing.models import Invoice
    from billow.orders.models import CartItem, Order
    from billow.payments.models import Payment, SavedPaymentMethod
    from billow.support.models import Ticket, TicketMessage

    _commerce(t)
    _support(t)
    mine = {"client": t.client}
    t.payer.refresh_from_db()
    t.member.refresh_from_db()
    return {
        "service": Service.objects.filter(pk=t.service.pk).values().get(),
        "balances": list(
            LedgerAccount.objects.filter(client=t.client).values_list("id", "balance_minor")
        ),
        "payer": (t.payer.name, t.payer.kind, t.payer.is_active),
        "member": (t.member.permissions, t.member.is_active),
        "member_exists": type(t.member).objects.filter(pk=t.member.pk).exists(),
        "read_at": type(t.notification)
        .objects.values_list("read_at", flat=True)
        .get(pk=t.notification.pk),
        "token": ApiToken.objects.values_list("revoked_at", flat=True).get(pk=t.token.pk),
        "services": Service.objects.filter(client=t.client).count(),
        "cart": list(CartItem.objects.filter(cart__client=t.client).values_list("id", "period")),
        "orders": list(Order.objects.filter(**mine).values_list("id", "status")),
        "invoices": list(Invoice.objects.filter(**mine).values_list("id", "status")),
        "payments": list(
            Payment.objects.filter(**mine).values_list("id", "status", "refunded_minor")
        ),
        "tickets": list(
            Ticket.objects.filter(**mine).values_list("id", "status", "rating", "updated_at")
        ),
        "ticket_messages": TicketMessage.objects.filter(ticket__client=t.client).count(),
        "saved_methods": list(
            SavedPaymentMethod.objects.filter(**mine).values_list(
                "id", "is_default", "is_active", "auto_payment_max_minor"
            )
        ),
    }


def test_every_api_route_declares_a_known_scope() -> None:
    routes = api_routes()
    assert len(routes) >= 30
    for _route, callback in routes:
        view_scope(callback)


@pytest.mark.django_db
def test_client_b_gets_404_for_client_a_objects(tenant_a: Tenant, tenant_b: Tenant) -> None:
    # given client B with a token of every client scope (and a session), and A's state
    token_b = tenant_b.api()
    session_b = APIClient()
    session_b.force_login(tenant_b.owner.user)
    before = snapshot(tenant_a)
    checked = 0
    for route, callback in api_routes():
        if "<" not in route or route.startswith("api/v1/staff/"):
            continue
        url = fill(route, tenant_a)
        clients = [session_b] if session_only(callback) else [session_b, token_b]
        for method in methods_of(callback):
            for api_b in clients:
                # when B reads or writes A's object
                response = call(api_b, method, url)
                # then it does not exist for B
                assert response.status_code == 404, (method, url, response.content)
                assert response.json()["code"] == "not_found"
                checked += 1
    assert checked >= 15
    assert snapshot(tenant_a) == before


@pytest.mark.django_db
def test_anonymous_requests_are_refused(tenant_a: Tenant) -> None:
    anonymous = APIClient()
    before = snapshot(tenant_a)
    for route, callback in api_routes():
        url = fill(route, tenant_a)
        for method in methods_of(callback):
            response = call(anonymous, method, url)
            assert response.status_code == 401, (method, url, response.content)
            assert response.json()["code"] == "not_authenticated"
            assert response["WWW-Authenticate"] == "Bearer"
    assert snapshot(tenant_a) == before


@pytest.mark.django_db
def test_a_token_without_the_scope_gets_403(tenant_a: Tenant, staff_user: Any) -> None:
    before = snapshot(tenant_a)
    for route, callback in api_routes():
        family = view_scope(callback)
        others = [s for s in SCOPES if family_of(s) != family]
        user = staff_user if family == "staff" else tenant_a.owner.user
        api = token_client(user, others)
        url = fill(route, tenant_a)
        for method in methods_of(callback):
            response = call(api, method, url)
            assert response.status_code == 403, (method, url, response.content)
            assert response.json()["code"] == "permission_denied"
    assert snapshot(tenant_a) == before


@pytest.mark.django_db
def test_staff_routes_refuse_client_users(tenant_a: Tenant) -> None:
    api = token_client(tenant_a.owner.user, list(SCOPES))  # even with staff scopes on the row
    for route, callback in api_routes():
        if not route.startswith("api/v1/staff/"):
            continue
        for method in methods_of(callback):
            response = call(api, method, fill(route, tenant_a))
            assert response.status_code == 403, (method, route)


@pytest.mark.django_db
def test_client_user_without_the_permission_gets_403(tenant_a: Tenant) -> None:
    # given a member with only the "services" permission and a token with every client scope
    api = token_client(tenant_a.member.user, CLIENT_SCOPES)
    # then billing, payers and users endpoints are refused, services allowed
    assert api.get("/api/v1/balances/").status_code == 403
    assert api.get("/api/v1/payers/").status_code == 403
    assert api.get("/api/v1/users/").status_code == 403
    assert api.get("/api/v1/services/").status_code == 200


@pytest.mark.django_db
def test_web_pages_of_client_a_are_404_for_client_b(tenant_a: Tenant, tenant_b: Tenant) -> None:
    from django.test import Client as WebClient

    browser_b = WebClient()
    browser_b.force_login(tenant_b.owner.user)
    anonymous = WebClient()
    before = snapshot(tenant_a)
    for route, _callback, name in web_routes():
        url = fill(route, tenant_a)
        params = {m.group("name") for m in _PARAM.finditer(route)}
        if "<" in route and not params <= CATALOG_WEB_PARAMS:
            # a method the page does not offer answers 405 before any lookup (no leak); at
            # least one method must reach the lookup and find nothing
            codes = [browser_b.get(url).status_code, browser_b.post(url).status_code]
            assert set(codes) <= {404, 405} and 404 in codes, (url, codes)
        if name in PUBLIC_WEB_NAMES:
            continue
        response = anonymous.get(url)
        refused = response.status_code in (401, 403) or (
            response.status_code == 302 and "/accounts/login" in response["Location"]
        )
        assert refused, (url, response.status_code)
    assert snapshot(tenant_a) == before
