"""Client endpoints other than services, and staff endpoints (exact values)."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from billow.accounts.actions import add_client_user
from billow.accounts.models import ClientUser, Payer
from billow.api.scopes import SCOPES
from billow.catalog.models import Tariff, TariffPrice
from tests.api.conftest import Tenant, bearer

pytestmark = pytest.mark.django_db


def test_me_and_balances(tenant_a: Tenant) -> None:
    api = tenant_a.api()
    me = api.get("/api/v1/me/").json()
    assert (me["email"], me["client_id"], me["is_owner"], me["unread_notifications"]) == (
        "owner-a@example.com",
        tenant_a.client.pk,
        True,
        1,
    )
    assert api.get("/api/v1/balances/").json() == [
        {
            "account_id": tenant_a.world.wallet(tenant_a.client).pk,
            "provider_id": tenant_a.world.provider.pk,
            "balance": {"amount_minor": 49000, "currency": "USD", "formatted": "490.00"},
        }
    ]


def test_statement_is_paginated_and_filtered(tenant_a: Tenant) -> None:
    api = tenant_a.api()
    page = api.get("/api/v1/statement/?page_size=1").json()
    assert page["count"] == 2 and len(page["results"]) == 1 and page["next"]
    charges = api.get("/api/v1/statement/?kind=charge").json()["results"]
    assert [(r["kind"], r["amount"]["amount_minor"]) for r in charges] == [("charge", -1000)]
    assert api.get("/api/v1/statement/?currency=usd").status_code == 400


def test_payers_create_and_update(tenant_a: Tenant) -> None:
    api = tenant_a.api()
    r = api.post(
        "/api/v1/payers/", {"kind": "company", "name": "Acme", "legal_country": "DE"}, format="json"
    )
    assert r.status_code == 201
    payer = Payer.objects.get(pk=r.json()["id"])
    assert (payer.client_id, payer.name, payer.legal_country) == (tenant_a.client.pk, "Acme", "DE")
    patched = api.patch(f"/api/v1/payers/{payer.pk}/", {"name": "Acme GmbH"}, format="json")
    assert patched.json()["name"] == "Acme GmbH"
    refused = api.post("/api/v1/payers/", {"kind": "company", "name": "NoCountry"}, format="json")
    assert (refused.status_code, refused.json()["code"]) == (400, "payer_invalid")
    assert Payer.objects.filter(client=tenant_a.client).count() == 2


def test_users_invite_permissions_remove(tenant_a: Tenant) -> None:
    api = tenant_a.api()
    r = api.post(
        "/api/v1/users/", {"email": "new@example.com", "permissions": ["billing"]}, format="json"
    )
    assert r.status_code == 201 and r.json()["permissions"] == ["billing"]
    uid = r.json()["id"]
    assert api.patch(f"/api/v1/users/{uid}/", {"permissions": ["payers"]}, format="json").json()[
        "permissions"
    ] == ["payers"]
    owner = api.patch(f"/api/v1/users/{tenant_a.owner.pk}/", {"permissions": []}, format="json")
    assert (owner.status_code, owner.json()["code"]) == (409, "owner_immutable")
    assert api.delete(f"/api/v1/users/{uid}/").status_code == 204
    assert not ClientUser.objects.filter(pk=uid).exists()


def test_notifications_list_and_mark_read(tenant_a: Tenant) -> None:
    api = tenant_a.api()
    assert api.get("/api/v1/notifications/?unread=true").json()["count"] == 1
    r = api.post(f"/api/v1/notifications/{tenant_a.notification.pk}/read/")
    assert r.status_code == 200 and r.json()["read_at"] is not None
    assert api.get("/api/v1/notifications/?unread=true").json()["count"] == 0


def test_catalog_lists_orderable_tariffs_of_my_providers(
    tenant_a: Tenant, tenant_b: Tenant
) -> None:
    body = tenant_a.api().get("/api/v1/catalog/tariffs/?currency=USD").json()
    assert [t["name"] for t in body["results"]] == ["A Big", "A Small"]
    small = body["results"][1]
    assert small["prices"] == [
        {
            "period": "1m",
            "price": {"amount_minor": 1000, "currency": "USD", "formatted": "10.00"},
            "setup_fee": {"amount_minor": 0, "currency": "USD", "formatted": "0.00"},
        },
        {
            "period": "3m",
            "price": {"amount_minor": 2900, "currency": "USD", "formatted": "29.00"},
            "setup_fee": {"amount_minor": 0, "currency": "USD", "formatted": "0.00"},
        },
    ]


def staff_api(user: Any, write: bool = True) -> APIClient:
    return bearer(user, ["staff:write"] if write else ["staff:read"])


def test_staff_creates_a_tariff_and_sets_a_price(staff_user: Any, tenant_a: Tenant) -> None:
    api = staff_api(staff_user)
    body = {
        "provider_id": tenant_a.world.provider.pk,
        "product_type_id": tenant_a.world.product_type.pk,
        "name": "Staff tariff",
    }
    r = api.post("/api/v1/staff/tariffs/", body, format="json")
    assert r.status_code == 201
    tid = r.json()["id"]
    priced = api.post(
        f"/api/v1/staff/tariffs/{tid}/prices/",
        {"period": "1m", "currency": "USD", "amount_minor": 1234},
        format="json",
    )
    assert priced.json()["prices"][0]["price"] == {
        "amount_minor": 1234,
        "currency": "USD",
        "formatted": "12.34",
    }
    assert TariffPrice.objects.get(tariff_id=tid).amount_minor == 1234
    assert (
        api.patch(f"/api/v1/staff/tariffs/{tid}/", {"status": "inactive"}, format="json").json()[
            "status"
        ]
        == "inactive"
    )
    assert Tariff.objects.get(pk=tid).status == "inactive"


def test_staff_read_token_cannot_write(staff_user: Any, tenant_a: Tenant) -> None:
    api = staff_api(staff_user, write=False)
    assert api.get("/api/v1/staff/clients/").json()["count"] == 1
    r = api.post("/api/v1/staff/product-types/", {"name": "X", "intname": "x"}, format="json")
    assert r.status_code == 403


def test_staff_ledger_is_read_only(staff_user: Any, tenant_a: Tenant) -> None:
    api = staff_api(staff_user)
    rows = api.get("/api/v1/staff/ledger/transactions/").json()["results"]
    assert all(sum(e["amount"]["amount_minor"] for e in t["entries"]) == 0 for t in rows)
    assert api.post("/api/v1/staff/ledger/transactions/", {}, format="json").status_code == 405
    assert set(SCOPES) >= {"staff:read", "staff:write"}


@pytest.mark.parametrize("method", ["patch", "delete"])
def test_a_user_cannot_raise_or_remove_themselves_through_the_api(
    tenant_a: Tenant, method: str
) -> None:
    # given a member holding only the users permission, with a token of the users scopes
    member = tenant_a.member
    member.permissions = ["users"]
    member.save(update_fields=["permissions"])
    api = bearer(member.user, ["users:read", "users:write", "account:read"])
    before = list(ClientUser.objects.order_by("id").values_list("id", "permissions"))
    # when they PATCH their own permissions to all of them (or DELETE themselves)
    everything = {"permissions": ["services", "billing", "payers", "users"]}
    r = getattr(api, method)(f"/api/v1/users/{member.pk}/", everything, format="json")
    # then 403 as on the web page, and nobody's permissions changed
    assert (r.status_code, r.json()["code"]) == (403, "client_user_not_manageable")
    assert list(ClientUser.objects.order_by("id").values_list("id", "permissions")) == before


def test_a_user_grants_only_permissions_they_hold(tenant_a: Tenant) -> None:
    # given a member holding only the users permission, and a colleague holding services
    member = tenant_a.member
    member.permissions = ["users"]
    member.save(update_fields=["permissions"])
    colleague = add_client_user(
        client=tenant_a.client, email="colleague@a.example", permissions=["services"]
    )
    api = bearer(member.user, ["users:read", "users:write", "account:read"])
    before = list(ClientUser.objects.order_by("id").values_list("id", "permissions"))
    # when they invite a new user with billing, or give the colleague billing
    invite = {"email": "second-me@a.example", "permissions": ["users", "billing"]}
    invited = api.post("/api/v1/users/", invite, format="json")
    raised = api.patch(
        f"/api/v1/users/{colleague.pk}/", {"permissions": ["services", "billing"]}, format="json"
    )
    # then both are refused with the permissions beyond their own, and nothing changed
    for r in (invited, raised):
        assert (r.status_code, r.json()["code"]) == (403, "permission_not_grantable")
        assert r.json()["details"] == {"permissions": ["billing"]}
    assert list(ClientUser.objects.order_by("id").values_list("id", "permissions")) == before
    # and what they hold themselves they may grant
    ok = api.post(
        "/api/v1/users/", {"email": "helper@a.example", "permissions": ["users"]}, format="json"
    )
    assert (ok.status_code, ok.json()["permissions"]) == (201, ["users"])


def test_a_token_cannot_claim_scopes_beyond_the_users_permissions(tenant_a: Tenant) -> None:
    from billow.api.actions import create_api_token
    from billow.api.models import ApiToken
    from billow.core.errors import BillowError

    # given a member holding the services permission only
    member = tenant_a.member
    before = ApiToken.objects.count()
    # when they mint a token claiming billing and users too, then it is refused, nothing written
    with pytest.raises(BillowError) as refused:
        create_api_token(
            user=member.user, name="t", scopes=["services:write", "billing:read", "users:write"]
        )
    assert refused.value.code == "scope_not_allowed"
    assert refused.value.details == {"scopes": ["billing:read", "users:write"]}
    assert ApiToken.objects.count() == before
    # and the scopes their permissions cover (plus the free families) are accepted
    token, _raw = create_api_token(
        user=member.user, name="t", scopes=["services:write", "account:read", "catalog:read"]
    )
    assert token.scopes == ["account:read", "catalog:read", "services:write"]
