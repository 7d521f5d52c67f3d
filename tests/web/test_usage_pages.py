"""Usage in the client area: the Statistics page (a row per service with statistics addons,
each addon's use, included amount and status), a service's statistics page (chart data, month
summary with the overage cost, the data table, range switching) and its CSV. Another client's
service is a 404 (also walked by tests/api/test_authorization.py)."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.usage.usage_world import metered_tariff, put_usage
from tests.web.conftest import WebWorld

pytestmark = pytest.mark.django_db
TODAY = date(2026, 11, 20)


def metered(web: WebWorld, *, traffic: int = 15, stored: int = 60, tariff_name: str = "S3") -> int:
    """Client A's S3 service on a new tariff named ``tariff_name``: ``traffic`` GiB a day from 1
    to 10 November, ``stored`` GiB today; returns its id."""
    tariff = metered_tariff(web.world, tariff_name)
    service = web.world.service(web.a.client, tariff, date(2026, 10, 1), name="bucket-1")
    put_usage(service, tariff, "traffic", {date(2026, 11, d): traffic for d in range(1, 11)})
    put_usage(service, tariff, "traffic", {date(2026, 10, 31): 500})  # last month: not counted
    put_usage(service, tariff, "storage", {TODAY - timedelta(days=1): 20, TODAY: stored})
    return service.pk


def chart_data(html: str) -> dict[str, object]:
    start = html.index('<script id="usage-data" type="application/json">') + 48
    return json.loads(html[start : html.index("</script>", start)])  # type: ignore[no-any-return]


@time_machine.travel(TODAY, tick=False)
def test_statistics_lists_each_metered_service_with_its_addons(web: WebWorld) -> None:
    # given A's metered service (150 GiB of 100 this month; 60 GiB stored of 50 today)
    pk = metered(web)
    # when A opens Statistics
    html = web.a.http.get("/statistics/").content.decode()
    # then the service is a row (A's plain VPS without statistics addons is not) with each
    # addon's use, included amount and status
    assert f"bucket-1 #{pk}" in html
    assert f"web-1 #{web.a.service.pk}" not in html
    assert "150 GiB" in html and "100 GiB" in html and "(150 %)" in html
    assert "60 GiB" in html and "50 GiB" in html and "(120 %)" in html
    assert html.count('class="pill u-exceeded"') == 3  # the service row and both addons
    assert "rated per day" in html and "rated per month" in html


@time_machine.travel(TODAY, tick=False)
def test_statistics_status_approaching_and_normal(web: WebWorld) -> None:
    # 10 x 8 = 80 GiB of 100 (80 %: approaching), 10 GiB stored of 50 (normal)
    metered(web, traffic=8, stored=10)
    html = web.a.http.get("/statistics/").content.decode()
    assert html.count('class="pill u-approaching"') == 2  # the service row and traffic
    assert html.count('class="pill u-normal"') == 1


def test_statistics_shows_nothing_of_another_client(web: WebWorld) -> None:
    metered(web)
    html = web.b.http.get("/statistics/").content.decode()
    assert "bucket-1" not in html
    assert "None of your services has resources billed by usage." in html


@time_machine.travel(TODAY, tick=False)
def test_service_statistics_page_this_month(web: WebWorld) -> None:
    pk = metered(web)
    response = web.a.http.get(f"/services/{pk}/usage/")
    html = response.content.decode()
    assert response.status_code == 200
    data = chart_data(html)
    # twenty days of November, the first ten with 15 GiB; over from the 7th (105 > 100)
    assert len(data["days"]) == 20  # type: ignore[arg-type]
    assert data["values"][:11] == ["15"] * 10 + ["0"]  # type: ignore[index]
    assert data["mtd"][5:8] == ["90", "105", "120"]  # type: ignore[index]
    assert data["over"][:11] == [False] * 6 + [True] * 4 + [False]  # type: ignore[index]
    assert (data["included"], data["limit"], data["per_day"]) == ("100", "300", False)
    assert data["labels"]["included"] == "Included"  # type: ignore[index]
    # the month: 150 used, 50 over at 0.5 cents = 25 cents, shown as money
    assert "November 2026" in html
    assert "$0.25" in html
    assert "$0.005 per GiB" in html
    assert (
        'aria-label="Chart of daily Traffic: 150 GiB in the range, 100 GiB included, 4 days' in html
    )


@time_machine.travel(TODAY, tick=False)
def test_switching_the_range_and_the_addon(web: WebWorld) -> None:
    pk = metered(web)
    week = chart_data(web.a.http.get(f"/services/{pk}/usage/?range=week").content.decode())
    assert len(week["days"]) == 7  # type: ignore[arg-type]
    custom = web.a.http.get(
        f"/services/{pk}/usage/?range=custom&date_from=2026-10-30&date_to=2026-11-02"
    ).content.decode()
    data = chart_data(custom)
    assert data["values"] == ["0", "500", "15", "15"]
    assert data["over"] == [False, True, False, False]
    assert "October 2026" in custom and "$2.00" in custom  # 400 over in October at 0.5
    storage = chart_data(
        web.a.http.get(f"/services/{pk}/usage/?addon=storage&range=week").content.decode()
    )
    assert storage["per_day"] is True
    assert storage["values"][-2:] == ["20", "60"] and storage["over"][-2:] == [False, True]


@time_machine.travel(TODAY, tick=False)
def test_an_invalid_range_is_refused_with_the_reason(web: WebWorld) -> None:
    pk = metered(web)
    backwards = web.a.http.get(
        f"/services/{pk}/usage/?range=custom&date_from=2026-11-10&date_to=2026-11-01"
    )
    too_long = web.a.http.get(
        f"/services/{pk}/usage/?range=custom&date_from=2020-01-01&date_to=2026-11-01"
    )
    assert backwards.status_code == too_long.status_code == 400
    assert "The end date is before the start date." in backwards.content.decode()
    assert "A range can be at most 732 days long." in too_long.content.decode()
    assert 'id="usage-data"' not in backwards.content.decode()


@time_machine.travel(TODAY, tick=False)
def test_csv_has_a_row_a_day_with_exact_values(web: WebWorld) -> None:
    pk = metered(web)
    response = web.a.http.get(
        f"/services/{pk}/usage.csv?addon=traffic&range=custom&date_from=2026-11-06&date_to=2026-11-08"
    )
    body = b"".join(response.streaming_content).decode()  # type: ignore[attr-defined]
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert f"usage-{pk}-traffic-2026-11-06-2026-11-08.csv" in response["Content-Disposition"]
    assert body.splitlines() == [
        "day,addon,unit,value,month_to_date,included,over_included",
        "2026-11-06,traffic,GiB,15,90,100,no",
        "2026-11-07,traffic,GiB,15,105,100,yes",
        "2026-11-08,traffic,GiB,15,120,100,yes",
    ]
    bad = web.a.http.get(f"/services/{pk}/usage.csv?range=custom&date_from=2026-11-06")
    assert bad.status_code == 400


@time_machine.travel(TODAY, tick=False)
def test_another_clients_service_is_not_found(web: WebWorld) -> None:
    pk = metered(web)
    assert web.b.http.get(f"/services/{pk}/usage/").status_code == 404
    assert web.b.http.get(f"/services/{pk}/usage.csv").status_code == 404


@time_machine.travel(TODAY, tick=False)
def test_service_page_shows_usage_and_links_to_the_chart(web: WebWorld) -> None:
    pk = metered(web)
    html = web.a.http.get(f"/services/{pk}/").content.decode()
    assert f'href="/services/{pk}/usage/"' in html
    assert "Statistics and charts" in html
    plain = web.a.http.get(f"/services/{web.a.service.pk}/usage/").content.decode()
    assert "This service has no resources billed by usage." in plain
    assert 'id="h-usage"' not in web.a.http.get(f"/services/{web.a.service.pk}/").content.decode()


@time_machine.travel(TODAY, tick=False)
def test_statistics_page_in_russian(web: WebWorld) -> None:
    metered(web)
    html = web.a.http.get("/statistics/", HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert "150 GiB" in html
    assert "Статистика" in html


@time_machine.travel(TODAY, tick=False)
def test_statistics_page_queries_do_not_grow_with_services(
    web: WebWorld, django_assert_num_queries: Any
) -> None:
    # given one metered service, the page's query count; then two more services
    metered(web)
    with CaptureQueriesContext(connection) as one:
        web.a.http.get("/statistics/")
    metered(web, tariff_name="S3 two")
    metered(web, tariff_name="S3 three")
    # when the page is read again, then it takes as many queries
    with django_assert_num_queries(len(one.captured_queries)):
        html = web.a.http.get("/statistics/").content.decode()
    assert html.count("bucket-1 #") == 3
