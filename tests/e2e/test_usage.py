"""Usage statistics in a real browser: the client opens the Statistics page, expands a service
to its resources, opens the service's statistics page, switches the range (week, then month)
and sees the uPlot chart with the included-amount and limit lines and the days over the
included amount in red. Saves docs/screenshots/usage-chart.png."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from billow.core import clock
from billow.core.periods import add_months
from tests.usage.usage_world import metered_tariff, put_usage
from tests.web import conftest as web_conftest
from tests.web.conftest import WebWorld

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
web = web_conftest.web  # the client-area world fixture


def traffic_by_day(today: date) -> dict[date, int]:
    """Daily traffic of this month and the two before: weekdays busier than weekends, a
    spike mid-month."""
    out = {}
    day = add_months(today.replace(day=1), -2)
    while day <= today:
        base = 9 if day.weekday() < 5 else 4
        out[day] = base + (day.day % 5) + (25 if day.day in (14, 15) else 0)
        day += timedelta(days=1)
    return out


def test_statistics_page_switch_range_and_chart_with_the_limit_line(
    live_server: Any, page: Page, web: WebWorld
) -> None:
    # given client A's S3 service with three months of traffic (100 GiB included a month)
    today = clock.today()
    tariff = metered_tariff(web.world)
    service = web.world.service(web.a.client, tariff, today - timedelta(days=100), name="media")
    put_usage(service, tariff, "traffic", traffic_by_day(today))
    put_usage(service, tariff, "storage", {today - timedelta(days=n): 40 + n for n in range(20)})
    base = live_server.url
    session = web.a.http.cookies["sessionid"].value
    page.context.add_cookies([{"name": "sessionid", "value": session, "url": base}])
    page.set_viewport_size({"width": 1200, "height": 900})

    # when the client opens Statistics and expands the service
    page.goto(f"{base}/statistics/")
    expect(page.get_by_role("heading", name="Statistics")).to_be_visible()
    expander = page.get_by_role("button", name="Show the resources of media")
    addon_rows = page.locator("tr.usage-addon")
    if expander.get_attribute("aria-expanded") == "true":  # over or approaching: opened
        expander.click()
    expect(addon_rows.first).to_be_hidden()
    expander.click()
    expect(expander).to_have_attribute("aria-expanded", "true")
    expect(addon_rows).to_have_count(2)
    expect(addon_rows.first).to_contain_text("Traffic")

    # and opens its statistics page (this month by default)
    page.get_by_role("link", name=f"media #{service.pk}").click()
    expect(page.get_by_role("heading", name="Statistics: media")).to_be_visible()
    chart = page.locator("#usage-chart")
    expect(chart).to_have_attribute("data-ready", "1")
    expect(chart.locator("canvas")).to_have_count(1)

    # and switches the range to the last week: the page shows 7 days
    page.get_by_label("Week").check()
    expect(page).to_have_url(f"{base}/services/{service.pk}/usage/?addon=traffic&range=week")
    expect(page.locator(".data-table tbody tr")).to_have_count(7)
    expect(chart).to_have_attribute("data-ready", "1")

    # and to a custom range over the last three months
    page.get_by_label("Custom").check()
    start = add_months(today.replace(day=1), -2)
    page.fill("#u-from", start.isoformat())
    page.fill("#u-to", today.isoformat())
    page.get_by_role("button", name="Show").click()
    expect(page.locator(".data-table tbody tr")).to_have_count((today - start).days + 1)
    expect(page.locator("#h-months ~ .table-wrap tbody tr")).to_have_count(3)

    # then the chart has its series: daily use, over, month to date, included and limit
    legend = chart.locator(".u-legend")
    for label in ("Daily use", "Over the included amount", "Month to date", "Included", "Limit"):
        expect(legend).to_contain_text(label)
    expect(page.locator(".data-table tr.over").first).to_be_visible()
    # the included line is drawn: the canvas has the dashed line's colour
    assert (
        page.evaluate(
            """() => {
        const c = document.querySelector('#usage-chart canvas');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let n = 0;
        for (let i = 0; i < d.length; i += 4) {
          if (d[i] === 0x9a && d[i + 1] === 0x5b && d[i + 2] === 0x00) n++;
        }
        return n;
      }"""
        )
        > 50
    )
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.locator("main").screenshot(path=str(SHOTS / "usage-chart.png"))
