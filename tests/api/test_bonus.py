"""The bonus program over the API: accounts, consent, history, estimates, the quote's
``earn_points`` and an order paid partly with ``bonus_points``; staff programs, rules,
accounts and manual accrual / deduction (idempotent)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from billow.marketing.bonus.models import BonusAccount, BonusMovement, BonusRule
from tests.api.conftest import MONTH_PRICE, Tenant, bearer
from tests.marketing.bonus_world import program

pytestmark = pytest.mark.django_db


def club(tenant: Tenant, **fields: Any) -> Any:
    p = program(
        tenant.world,
        consent_required=True,
        consent_version="v1",
        welcome_enabled=True,
        welcome_points=100,
        max_share_percent=Decimal(20),
        **fields,
    )
    BonusRule.objects.create(
        program=p, name="10%", trigger="repeat_purchase", kind="percent", percent=Decimal(10)
    )
    BonusRule.objects.create(
        program=p, name="topup", trigger="topup", kind="percent", percent=Decimal(1)
    )
    return p


def test_consent_history_quote_and_an_order_paid_partly_with_points(tenant_a: Tenant) -> None:
    club(tenant_a)
    api = tenant_a.api()
    provider = tenant_a.world.provider.pk
    listed = api.get("/api/v1/bonus/").json()
    assert [(r["program"]["name"], r["consent_needed"], r["balance_points"]) for r in listed] == [
        ("Privilege Club", True, 0)
    ]
    r = api.post(
        "/api/v1/bonus/consent/",
        {"provider_id": provider},
        format="json",
        HTTP_IDEMPOTENCY_KEY="c-1",
        REMOTE_ADDR="192.0.2.10",
    )
    assert r.status_code == 201, r.content
    assert (r.json()["consent_needed"], r.json()["balance_points"]) == (False, 100)
    account = BonusAccount.objects.get(client=tenant_a.client)
    assert (account.consent_version, account.consent_ip) == ("v1", "192.0.2.10")
    item = {"tariff_id": tenant_a.tariff.pk, "period": "1m"}
    body = {"currency": "USD", "items": [item], "bonus_points": None}
    q = api.post("/api/v1/quote/", body, format="json").json()
    # the tenant has a service but no paid order: this is not a repeat purchase yet
    assert q["earn_points"] == 0
    assert q["bonus_points"] == 100  # the balance; 20% of 10.00 would allow 200
    r = api.post("/api/v1/orders/", body, format="json", HTTP_IDEMPOTENCY_KEY="o-1")
    assert r.status_code == 201, r.content
    history = api.get("/api/v1/bonus/history/").json()["results"]
    assert [(h["kind"], h["points"]) for h in history] == [
        ("redemption", -100),
        ("welcome", 100),
    ]
    assert history[0]["source"].startswith("order:")
    q = api.post("/api/v1/quote/", {**body, "bonus_points": 0}, format="json").json()
    assert q["earn_points"] == MONTH_PRICE // 10
    estimate = api.get(
        "/api/v1/bonus/estimate/",
        {"trigger": "topup", "provider_id": provider, "amount_minor": 12345, "currency": "USD"},
    ).json()
    assert estimate == {"earn_points": 123}
    renewal = api.get(
        "/api/v1/bonus/estimate/", {"trigger": "renewal", "service_id": tenant_a.service.pk}
    )
    assert renewal.json() == {"earn_points": 0}  # no renewal rule


def test_another_clients_service_is_not_estimated(tenant_a: Tenant, tenant_b: Tenant) -> None:
    club(tenant_a)
    r = tenant_a.api().get(
        "/api/v1/bonus/estimate/", {"trigger": "renewal", "service_id": tenant_b.service.pk}
    )
    assert r.status_code == 404


def test_staff_rules_accounts_and_manual_adjustment(tenant_a: Tenant, staff_user: Any) -> None:
    p = club(tenant_a, enabled=False)
    staff = bearer(staff_user, ["staff:read", "staff:write"])
    assert [x["name"] for x in staff.get("/api/v1/staff/bonus/programs/").json()["results"]] == [
        "Privilege Club"
    ]
    r = staff.post(f"/api/v1/staff/bonus/programs/{p.pk}/enable/")
    assert r.status_code == 200 and r.json()["enabled"] is True
    r = staff.post(
        f"/api/v1/staff/bonus/programs/{p.pk}/rules/",
        {
            "name": "VPS renewals",
            "trigger": "renewal",
            "kind": "percent",
            "percent": "2.5",
            "scope": "tariffs",
            "tariff_ids": [tenant_a.tariff.pk],
            "priority": 5,
        },
        format="json",
    )
    assert r.status_code == 201, r.content
    assert BonusRule.objects.get(pk=r.json()["id"]).tariffs.get() == tenant_a.tariff
    bad = staff.post(
        f"/api/v1/staff/bonus/programs/{p.pk}/rules/",
        {"name": "x", "trigger": "renewal", "tariff_ids": [10**9]},
        format="json",
    )
    assert (bad.status_code, bad.json()["code"]) == (400, "invalid_rule")
    (acc,) = staff.get("/api/v1/staff/bonus/accounts/", {"client_id": tenant_a.client.pk}).json()[
        "results"
    ]
    url = f"/api/v1/staff/bonus/accounts/{acc['id']}/adjust/"
    data = {"direction": "accrual", "points": 40, "reason": "apology"}
    first = staff.post(url, data, format="json", HTTP_IDEMPOTENCY_KEY="a-1")
    again = staff.post(url, data, format="json", HTTP_IDEMPOTENCY_KEY="a-1")
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert (first.json()["reason"], first.json()["actor_kind"]) == ("apology", "api_token")
    refused = staff.post(
        url,
        {**data, "direction": "deduction", "points": 10**6},
        format="json",
        HTTP_IDEMPOTENCY_KEY="a-2",
    )
    assert (refused.status_code, refused.json()["code"]) == (409, "insufficient_bonus_points")
    assert BonusMovement.objects.filter(account_id=acc["id"], kind="manual_accrual").count() == 1
    hist = staff.get(f"/api/v1/staff/bonus/accounts/{acc['id']}/history/").json()["results"]
    assert [h["kind"] for h in hist] == ["manual_accrual"]
