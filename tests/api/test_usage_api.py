"""Usage statistics in the API: a service's statistics addons now, and one addon's daily series
over a range with month summaries and the overage cost as money. Client B never sees client
A's usage (404, the same as for a missing service); the scope is services:read; staff read any
service's usage with staff:read."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
import time_machine

from billow.services.models import Service
from tests.api.conftest import Tenant, bearer
from tests.usage.usage_world import metered_tariff, put_usage

pytestmark = pytest.mark.django_db
TODAY = date(2026, 11, 20)


def metered(t: Tenant) -> Service:
    """Tenant's S3 service: 15 GiB of traffic a day from 1 to 10 November (100 included),
    60 GiB stored today (50 included a day)."""
    tariff = metered_tariff(t.world, f"{t.client.name} S3")
    service = t.world.service(t.client, tariff, date(2026, 10, 1), name="bucket")
    put_usage(service, tariff, "traffic", {date(2026, 11, d): 15 for d in range(1, 11)})
    put_usage(service, tariff, "storage", {TODAY: 60})
    return service


@time_machine.travel(TODAY, tick=False)
def test_current_usage_of_each_addon(tenant_a: Tenant) -> None:
    service = metered(tenant_a)
    response = tenant_a.api(["services:read"]).get(f"/api/v1/services/{service.pk}/usage/")
    assert response.status_code == 200
    assert response.json() == [
        {
            "addon": "traffic",
            "name": "Traffic",
            "unit": "GiB",
            "rating": "per_month",
            "period_from": "2026-11-01",
            "period_to": "2026-11-30",
            "used": "150.000000",
            "included": "100.000000",
            "limit": "300.000000",
            "status": "exceeded",
            "percent": 150,
        },
        {
            "addon": "storage",
            "name": "Stored data",
            "unit": "GiB",
            "rating": "per_day",
            "period_from": "2026-11-20",
            "period_to": "2026-11-20",
            "used": "60.000000",
            "included": "50.000000",
            "limit": None,
            "status": "exceeded",
            "percent": 120,
        },
    ]


@time_machine.travel(TODAY, tick=False)
def test_daily_series_over_a_custom_range(tenant_a: Tenant) -> None:
    service = metered(tenant_a)
    response = tenant_a.api(["services:read"]).get(
        f"/api/v1/services/{service.pk}/usage/daily/",
        {"addon": "traffic", "range": "custom", "date_from": "2026-11-06", "date_to": "2026-11-08"},
    )
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    assert {k: v for k, v in body.items() if k not in ("points", "months")} == {
        "service_id": service.pk,
        "addon": "traffic",
        "name": "Traffic",
        "unit": "GiB",
        "rating": "per_month",
        "range": "custom",
        "date_from": "2026-11-06",
        "date_to": "2026-11-08",
        "included": "100.000000",
        "limit": "300.000000",
        "overage_price_minor": "0.500000",
        "currency": "USD",
    }
    assert [(p["day"], p["value"], p["month_to_date"], p["over"]) for p in body["points"]] == [
        ("2026-11-06", "15.000000", "90.000000", False),
        ("2026-11-07", "15.000000", "105.000000", True),
        ("2026-11-08", "15.000000", "120.000000", True),
    ]
    # the whole month: 150 used, 50 over at 0.5 cents a GiB
    assert body["months"] == [
        {
            "month": "2026-11-01",
            "used": "150.000000",
            "included": "100.000000",
            "overage": "50.000000",
            "over_days": 4,
            "overage_cost": {"amount_minor": 25, "currency": "USD", "formatted": "0.25"},
            "charged": {"amount_minor": 0, "currency": "USD", "formatted": "0.00"},
        }
    ]


@time_machine.travel(TODAY, tick=False)
def test_week_range_and_refusals(tenant_a: Tenant) -> None:
    service = metered(tenant_a)
    api = tenant_a.api(["services:read"])
    url = f"/api/v1/services/{service.pk}/usage/daily/"
    week = api.get(url, {"addon": "storage", "range": "week"}).json()
    assert (week["date_from"], week["date_to"], len(week["points"])) == (
        "2026-11-14",
        "2026-11-20",
        7,
    )
    backwards = api.get(
        url, {"range": "custom", "date_from": "2026-11-08", "date_to": "2026-11-01"}
    )
    missing = api.get(url, {"range": "custom", "date_from": "2026-11-08"})
    unknown = api.get(url, {"addon": "cpu"})
    assert backwards.status_code == missing.status_code == 400
    assert backwards.json()["details"]["fields"] == {"date_to": ["date_to is before date_from."]}
    assert missing.json()["details"]["fields"] == {
        "date_from": ["A custom range needs date_from and date_to."]
    }
    assert unknown.status_code == 404


@time_machine.travel(TODAY, tick=False)
def test_client_b_never_sees_client_a_usage(tenant_a: Tenant, tenant_b: Tenant) -> None:
    service = metered(tenant_a)
    metered(tenant_b)
    api_b = tenant_b.api()
    for path in ("usage/", "usage/daily/", "usage/daily/?addon=traffic&range=year"):
        response = api_b.get(f"/api/v1/services/{service.pk}/{path}")
        assert response.status_code == 404, path
        assert "150" not in response.content.decode()


@time_machine.travel(TODAY, tick=False)
def test_scope_and_staff(tenant_a: Tenant, staff_user: Any) -> None:
    service = metered(tenant_a)
    no_scope = tenant_a.api(["billing:read"]).get(f"/api/v1/services/{service.pk}/usage/")
    assert no_scope.status_code == 403
    client_on_staff = tenant_a.api().get(f"/api/v1/staff/services/{service.pk}/usage/")
    assert client_on_staff.status_code == 403
    staff = bearer(staff_user, ["staff:read"])
    now = staff.get(f"/api/v1/staff/services/{service.pk}/usage/").json()
    assert [(a["addon"], a["used"], a["status"]) for a in now] == [
        ("traffic", "150.000000", "exceeded"),
        ("storage", "60.000000", "exceeded"),
    ]
    series = staff.get(f"/api/v1/staff/services/{service.pk}/usage/daily/?range=day").json()
    assert [(p["day"], p["value"]) for p in series["points"]] == [("2026-11-20", "0.000000")]
