"""The shop and the client area with trials and hourly prices: "per hour, about X per month",
a trial offered with its days, an hourly service's paid-until moment."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from billow.catalog import actions as catalog
from billow.orders import actions as orders
from billow.orders import selectors as orders_selectors
from billow.services.models import Service
from tests.web.test_shop import Shop, _jobs_run_at_once, shop, text

__all__ = ["_jobs_run_at_once", "shop"]

pytestmark = pytest.mark.django_db


def test_the_catalog_and_configure_page_show_an_hourly_price_per_month(shop: Shop) -> None:
    # given a VPS priced 0.02 an hour (and 20.00 a month)
    hourly = shop.web.world.tariff("VPS Hourly", {"hour": 2, "1m": 2000})
    # when the client opens the catalog and the tariff
    page = text(shop.a.http.get("/order/"))
    configure = text(shop.a.http.get(f"/order/{hourly.pk}/"))
    # then the hourly price comes with its month of 730 hours (14.60)
    assert "from $0.02 per hour, about $14.60 per month" in page
    assert "$0.02 per hour, about $14.60 per month</option>" in configure
    assert "1 month · $20.00</option>" in configure


def test_the_configure_page_offers_a_trial_with_its_days(shop: Shop) -> None:
    catalog.update_tariff(tariff=shop.web.tariff, trial_days=7)
    configure = text(shop.a.http.get(f"/order/{shop.web.tariff.pk}/"))
    assert '<option value="trial">Trial, 7 days free</option>' in configure


def test_a_trial_ordered_through_the_shop_shows_what_follows_it(
    shop: Shop, django_capture_on_commit_callbacks: Any
) -> None:
    # given a 7-day trial of VPS S ordered through the configure page and the checkout
    catalog.update_tariff(tariff=shop.web.tariff, trial_days=7)
    data = {"currency": "USD", "period": "trial", "addon_ram": "1", "param_os": "debian-12"}
    assert shop.a.http.post(f"/order/{shop.web.tariff.pk}/", data).status_code == 302
    with django_capture_on_commit_callbacks(execute=True):
        result = orders.checkout(client=shop.a.client, provider_id=shop.web.world.provider.pk)
    assert result.paid and result.order.total_minor == 0
    service = Service.objects.get(client=shop.a.client, period="trial")
    # when the client opens the service
    page = text(shop.a.http.get(f"/services/{service.pk}/"))
    # then it says the trial continues as a monthly paid service
    assert "After the trial" in page
    assert "continues as a paid service, renewed every 1 month" in page


def test_an_hourly_service_page_shows_the_hourly_price_and_the_paid_hour(
    shop: Shop, django_capture_on_commit_callbacks: Any
) -> None:
    hourly = shop.web.world.tariff("VPS Hourly", {"hour": 2})
    spec = orders_selectors.ItemSpec("i1", hourly.pk, "hour", {}, {"os": "debian-12"})
    with django_capture_on_commit_callbacks(execute=True):
        result = orders.checkout(
            client=shop.a.client,
            provider_id=shop.web.world.provider.pk,
            items=[spec],
            currency="USD",
            now=datetime(2027, 3, 10, 14, 25, tzinfo=UTC),
        )
    (item,) = result.items
    page = text(shop.a.http.get(f"/services/{item.service_id}/"))
    assert "$0.02 per hour, about $14.60 per month" in page
    assert "Renew now" not in page
    listing = text(shop.a.http.get("/services/"))
    assert "Mar 10, 2027" in listing
