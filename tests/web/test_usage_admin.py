"""Usage in the staff admin: the list of approaching and exceeded rows (a row per service and
addon; filters by status, held at the limit, provider, resource and client), a service's chart
page and CSV, and the dashboard widget "services over their limit". Rows come from the resource
status that ingestion refreshes (``usage.status.refresh``)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import time_machine
from django.contrib.auth.models import User
from django.test import Client as HttpClient

from billow.services.models import Service
from billow.usage import status
from billow.usage.charts import get_usage_alerts
from billow.usage.models import Meter
from tests.usage.usage_world import metered_tariff, put_usage
from tests.web.conftest import WebWorld

pytestmark = pytest.mark.django_db
TODAY = date(2026, 11, 20)
NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)


def metered(web: WebWorld, side: str, name: str, traffic: int, stored: int) -> Service:
    """A service of client ``side`` with ``traffic`` GiB on each of 1-10 November (100
    included) and ``stored`` GiB today (50 included), statuses refreshed as ingestion does."""
    client = getattr(web, side).client
    tariff = metered_tariff(web.world, f"S3 {name}")
    service = web.world.service(client, tariff, date(2026, 10, 1), name=name)
    put_usage(service, tariff, "traffic", {date(2026, 11, d): traffic for d in range(1, 11)})
    put_usage(service, tariff, "storage", {TODAY: stored})
    meters = Meter.objects.filter(addon__tariff=tariff).values_list("pk", flat=True)
    status.refresh(changes={(service.pk, m) for m in meters}, now=NOW)
    return service


def staff() -> HttpClient:
    http = HttpClient()
    http.force_login(User.objects.create_superuser("root", "root@example.com", "x"))
    return http


@pytest.fixture
def world(web: WebWorld) -> dict[str, Service]:
    with time_machine.travel(NOW, tick=False):
        return {
            "hot": metered(web, "a", "hot", traffic=15, stored=60),  # both exceeded
            "warm": metered(web, "b", "warm", traffic=9, stored=10),  # traffic approaching
            "cold": metered(web, "a", "cold", traffic=1, stored=1),  # normal: not listed
        }


@time_machine.travel(NOW, tick=False)
def test_the_list_has_a_row_per_addon_not_normal(world: dict[str, Service]) -> None:
    html = staff().get("/admin/usage/statuses/").content.decode()
    hot, warm = world["hot"].pk, world["warm"].pk
    assert html.count(f"hot #{hot}") == 2  # traffic and stored data
    assert html.count(f"warm #{warm}") == 1
    assert "cold #" not in html
    assert "150 GiB" in html and "60 GiB" in html and "90 GiB" in html
    assert "owner-a@example.com" in html and "owner-b@example.com" in html


@time_machine.travel(NOW, tick=False)
def test_the_list_filters(world: dict[str, Service]) -> None:
    http = staff()
    exceeded = http.get("/admin/usage/statuses/?state=exceeded").content.decode()
    assert "hot #" in exceeded and "warm #" not in exceeded
    approaching = http.get("/admin/usage/statuses/?state=approaching").content.decode()
    assert "warm #" in approaching and "hot #" not in approaching
    by_addon = http.get("/admin/usage/statuses/?addon=storage").content.decode()
    assert by_addon.count("hot #") == 1 and "warm #" not in by_addon
    by_client = http.get("/admin/usage/statuses/?q=owner-b").content.decode()
    assert "warm #" in by_client and "hot #" not in by_client
    by_id = http.get(f"/admin/usage/statuses/?q=%23{world['warm'].pk}").content.decode()
    assert "warm #" in by_id and "hot #" not in by_id
    held = http.get("/admin/usage/statuses/?over_limit=on").content.decode()
    assert "No service is approaching or over its included amount." in held


@time_machine.travel(NOW, tick=False)
def test_the_chart_page_and_csv_for_staff(world: dict[str, Service]) -> None:
    http = staff()
    pk = world["hot"].pk
    page = http.get(f"/admin/usage/services/{pk}/?range=week&addon=storage")
    html = page.content.decode()
    assert page.status_code == 200
    assert 'id="usage-data"' in html and "usage-admin.css" in html
    assert f'action="/admin/usage/services/{pk}/"' in html
    csv = http.get(f"/admin/usage/services/{pk}/usage.csv?range=day&addon=traffic")
    body = b"".join(csv.streaming_content).decode()  # type: ignore[attr-defined]
    assert body.splitlines()[1] == "2026-11-20,traffic,GiB,0,150,100,no"


def test_the_pages_are_staff_only(web: WebWorld, world: dict[str, Service]) -> None:
    response = web.a.http.get("/admin/usage/statuses/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    chart = web.a.http.get(f"/admin/usage/services/{world['hot'].pk}/")
    assert chart.status_code == 302


@time_machine.travel(NOW, tick=False)
def test_the_dashboard_widget(world: dict[str, Service]) -> None:
    alerts = get_usage_alerts()
    assert (alerts.exceeded, alerts.over_limit, alerts.approaching) == (1, 0, 1)
    html = staff().get("/admin/").content.decode()
    assert 'id="usage-widget"' in html
    assert "Services over their limit" in html
    assert "1 approaching the included amount" in html
