"""Client service endpoints: list, detail, actions, preview (exact values)."""

from __future__ import annotations

from typing import Any

import pytest

from billow.billing.models import Expense
from billow.services.models import Service, ServiceEvent
from tests.api.conftest import MONTH_PRICE, Tenant
from tests.billing.world import db_state

pytestmark = pytest.mark.django_db


def money(amount: int, formatted: str) -> dict[str, Any]:
    return {"amount_minor": amount, "currency": "USD", "formatted": formatted}


def test_list_services_shows_only_mine_with_exact_fields(
    tenant_a: Tenant, tenant_b: Tenant
) -> None:
    s = tenant_a.service
    body = tenant_a.api().get("/api/v1/services/").json()
    assert body["count"] == 1
    assert body["results"] == [
        {
            "id": s.pk,
            "name": "A vm",
            "status": "active",
            "sub_state": "",
            "tariff": {"id": tenant_a.tariff.pk, "name": "A Small"},
            "period": "1m",
            "currency": "USD",
            "paid_until": s.paid_until.isoformat(),
            "paid_until_at": None,
            "auto_renew_period": "1m",
            "delete_at_period_end": False,
            "addon_values": {},
            "parameters": {},
            "ordered_at": "2026-11-24T09:00:00Z".replace("2026-11-24", str(s.ordered_at.date())),
            "opened_at": "2026-11-24T09:00:00Z".replace("2026-11-24", str(s.opened_at.date())),
        }
    ]


def test_status_filter_is_validated(tenant_a: Tenant) -> None:
    api = tenant_a.api()
    assert api.get("/api/v1/services/?status=deleted").json()["count"] == 0
    bad = api.get("/api/v1/services/?status=nope")
    assert bad.status_code == 400
    assert bad.json()["code"] == "validation_error"
    assert list(bad.json()["details"]["fields"]) == ["status"]


def test_renew_charges_one_period_and_moves_paid_until(tenant_a: Tenant) -> None:
    s = tenant_a.service
    before = tenant_a.world.balance(tenant_a.client)
    r = tenant_a.api().post(
        f"/api/v1/services/{s.pk}/renew/", {}, format="json", HTTP_IDEMPOTENCY_KEY="renew-1"
    )
    assert r.status_code == 200
    assert r.json()["expense"]["amount"] == money(MONTH_PRICE, "10.00")
    assert r.json()["expense"]["period_from"] == s.paid_until.isoformat()
    assert tenant_a.world.balance(tenant_a.client) == before - MONTH_PRICE
    assert Service.objects.get(pk=s.pk).paid_until.isoformat() == r.json()["expense"]["period_to"]


def test_renew_without_idempotency_key_is_refused_and_changes_nothing(tenant_a: Tenant) -> None:
    before = db_state()
    r = tenant_a.api().post(f"/api/v1/services/{tenant_a.service.pk}/renew/", {}, format="json")
    assert r.status_code == 400
    assert r.json() == {
        "code": "idempotency_key_required",
        "message": "This request needs an Idempotency-Key header",
        "details": {},
    }
    assert db_state() == before


def test_insufficient_funds_maps_to_the_error_shape(tenant_a: Tenant) -> None:
    # given a balance of 49,000 drained by 16 three-month renewals of 2,900 (2,600 left)
    api = tenant_a.api()
    for n in range(16):
        api.post(
            f"/api/v1/services/{tenant_a.service.pk}/renew/",
            {"period": "3m"},
            format="json",
            HTTP_IDEMPOTENCY_KEY=f"drain-{n}",
        )
    before = db_state()
    r = api.post(
        f"/api/v1/services/{tenant_a.service.pk}/renew/",
        {"period": "3m"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="too-much",
    )
    assert r.status_code == 400
    assert r.json()["code"] == "insufficient_funds"
    assert r.json()["details"] == {"amount_minor": 2900, "available_minor": 2600}
    assert db_state() == before


def test_auto_renew_off_and_on(tenant_a: Tenant) -> None:
    api, s = tenant_a.api(), tenant_a.service
    off = api.post(f"/api/v1/services/{s.pk}/auto-renew/", {"enabled": False}, format="json")
    assert off.status_code == 200 and off.json()["auto_renew_period"] == ""
    on = api.post(
        f"/api/v1/services/{s.pk}/auto-renew/", {"enabled": True, "period": "3m"}, format="json"
    )
    assert on.json()["auto_renew_period"] == "3m"
    types = list(ServiceEvent.objects.filter(service=s).values_list("type", "data"))
    assert types[-2:] == [
        ("service.auto_renew_set", {"from": "1m", "to": ""}),
        ("service.auto_renew_set", {"from": "", "to": "3m"}),
    ]


def test_preview_prices_the_other_tariff(tenant_a: Tenant) -> None:
    r = tenant_a.api().post(
        f"/api/v1/services/{tenant_a.service.pk}/preview/",
        {"tariff_id": tenant_a.other_tariff.pk},
        format="json",
    )
    body = r.json()
    assert (body["current_price"], body["new_price"], body["difference"]) == (
        money(1000, "10.00"),
        money(3000, "30.00"),
        money(2000, "20.00"),
    )
    assert [line["code"] for line in body["lines"]] == ["tariff"]
    assert (body["when"], body["credit_now"]["amount_minor"]) == ("now", 0)


def test_preview_says_exactly_what_the_change_then_charges(tenant_a: Tenant) -> None:
    s = tenant_a.service
    preview = tenant_a.api().post(
        f"/api/v1/services/{s.pk}/preview/", {"tariff_id": tenant_a.other_tariff.pk}, format="json"
    )
    changed = tenant_a.api().post(
        f"/api/v1/services/{s.pk}/change-tariff/",
        {"tariff_id": tenant_a.other_tariff.pk},
        format="json",
        HTTP_IDEMPOTENCY_KEY="upgrade-after-preview",
    )
    assert changed.status_code == 200
    upgrade = Expense.objects.get(service=s, reason="upgrade")
    body = preview.json()
    assert body["charge_now"]["amount_minor"] == upgrade.amount_minor > 0
    assert body["effective_on"] == upgrade.period_from.isoformat()


def test_preview_of_a_tariff_of_another_provider_is_404(tenant_a: Tenant, tenant_b: Tenant) -> None:
    r = tenant_a.api().post(
        f"/api/v1/services/{tenant_a.service.pk}/preview/",
        {"tariff_id": tenant_b.tariff.pk},
        format="json",
    )
    assert r.status_code == 404


def test_change_tariff_charges_the_prorated_difference(tenant_a: Tenant) -> None:
    s = tenant_a.service
    r = tenant_a.api().post(
        f"/api/v1/services/{s.pk}/change-tariff/",
        {"tariff_id": tenant_a.other_tariff.pk},
        format="json",
        HTTP_IDEMPOTENCY_KEY="upgrade-1",
    )
    assert r.status_code == 200
    assert r.json()["tariff"] == {"id": tenant_a.other_tariff.pk, "name": "A Big"}
    upgrade = Expense.objects.get(service=s, reason="upgrade")
    assert 0 < upgrade.amount_minor <= 2000


def test_delete_now_marks_the_service_deleted(tenant_a: Tenant) -> None:
    s = tenant_a.service
    r = tenant_a.api().post(
        f"/api/v1/services/{s.pk}/delete/",
        {"when": "now"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="del-1",
    )
    assert r.status_code == 200
    assert r.json()["status"] == "deleted"


def test_order_a_service(tenant_a: Tenant) -> None:
    body = {
        "tariff_id": tenant_a.other_tariff.pk,
        "period": "1m",
        "currency": "USD",
        "name": "new vm",
    }
    r = tenant_a.api().post("/api/v1/services/", body, format="json", HTTP_IDEMPOTENCY_KEY="o-1")
    assert r.status_code == 201
    created = Service.objects.get(pk=r.json()["id"])
    assert (created.client_id, created.status, created.name) == (
        tenant_a.client.pk,
        "ordered",
        "new vm",
    )


def test_events_are_listed_newest_first(tenant_a: Tenant) -> None:
    s = tenant_a.service
    tenant_a.api().post(f"/api/v1/services/{s.pk}/auto-renew/", {"enabled": False}, format="json")
    rows = tenant_a.api().get(f"/api/v1/services/{s.pk}/events/").json()["results"]
    assert [r["type"] for r in rows] == ["service.auto_renew_set", "service.charged"]
    assert rows[0]["actor_kind"] == "api_token"
