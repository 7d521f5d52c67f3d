"""The demo's usage: meters on every statistics addon, three months of traffic and S3 usage
ingested, Alice's web server approaching its traffic, Globex's bucket and pool over theirs,
and today's billing run (queued by the seed) charging the closed periods' overage through the
run's one charging path, reconciled."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from huey.contrib.djhuey import HUEY

from billow.billing.models import Expense
from billow.core import clock
from billow.demo.seed import seed_demo
from billow.ledger.selectors import get_reconcile_report
from billow.services.models import Service
from billow.usage.charts import get_usage_alerts, list_usage_for_client
from billow.usage.models import Meter, UsageDaily
from billow.usage.rating_models import UsageCharge

pytestmark = pytest.mark.django_db
T0 = datetime(2027, 3, 28, 10, 0, tzinfo=UTC)  # late in the month: the traffic has added up


@pytest.fixture
def immediate_jobs() -> Any:
    previous = HUEY.immediate
    HUEY.immediate = True
    yield
    HUEY.immediate = previous


def test_demo_usage_charts_statuses_and_an_overage_charge(
    immediate_jobs: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with clock.use_clock(clock.FixedClock(T0)), django_capture_on_commit_callbacks(execute=True):
        assert seed_demo() is True
    # every statistics addon is metered
    assert Meter.objects.count() == 5  # traffic of both VPS tariffs, three S3 addons
    media = Service.objects.get(name="media-cdn")
    assert (media.status, media.currency, media.paid_until) == ("active", "USD", date(2027, 4, 28))
    # three months of daily rollups for the bucket (28 December to 28 March)
    days = UsageDaily.objects.filter(service=media).values_list("day", flat=True)
    assert (min(days), max(days)) == (date(2026, 12, 28), date(2027, 3, 28))
    # Alice sees her VPS traffic approaching its 1000 GiB; Globex's pool is over its 2000
    with clock.use_clock(clock.FixedClock(T0)):
        alice = list_usage_for_client(media.client_id - 1, today=T0.date())
        globex = {
            u.service.name: u for u in list_usage_for_client(media.client_id, today=T0.date())
        }
    web = next(u for u in alice if u.service.name == "web-1")
    assert [(a.intname, a.status) for a in web.addons] == [("traffic", "approaching")]
    assert globex["reseller-pool-1"].status == "exceeded"
    assert {a.intname: a.status for a in globex["media-cdn"].addons}["storage"] == "exceeded"
    assert get_usage_alerts().exceeded >= 2
    # today's run charged the bucket's stored data of the days that closed in its lookback
    usage = Expense.objects.filter(service=media, reason="usage")
    assert usage.count() >= 5
    assert all(e.amount_minor > 0 and e.currency == "USD" for e in usage)
    charged = UsageCharge.objects.filter(service=media, meter__addon__intname="storage")
    assert sum(c.charged_minor for c in charged) == sum(
        e.amount_minor for e in usage if "Stored" in e.description
    )
    assert get_reconcile_report().ok
