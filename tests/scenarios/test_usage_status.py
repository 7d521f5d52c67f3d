"""Scenarios: the resource status through a month and a usage limit reached mid-month (issue 14).

Outgoing traffic includes 100 GiB a month (0.05 per GiB over); "approaching" from 80 % of it
(``USAGE_APPROACHING_PERCENT``), "exceeded" above it; statuses start over on the 1st."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from billow.core.errors import BillowError
from billow.notifications.models import Notification
from billow.services.models import ServiceEvent
from billow.services.states import ServiceStatus
from billow.usage.limits import set_meter_limit
from billow.usage.status import reset_statuses
from tests.scenarios.usage_world import Metered, at

pytestmark = pytest.mark.django_db

APRIL = date(2025, 4, 1)


def d(day: int, month: int = 3) -> date:
    return date(2025, month, day)


def test_status_goes_normal_approaching_exceeded_and_back_on_the_1st(
    django_capture_on_commit_callbacks: Any,
) -> None:
    m = Metered(django_capture_on_commit_callbacks)
    m.send(at(d(5)), (at(d(5), 9), 50))
    assert m.status() == ("normal", Decimal(50), d(1), False)
    # when usage reaches 80 GiB: approaching, with a notice
    m.send(at(d(10)), (at(d(10), 9), 30))
    assert m.status() == ("approaching", Decimal(80), d(1), False)
    # when it goes over 100 GiB: exceeded, with a notice; more usage sends nothing new
    m.send(at(d(12)), (at(d(12), 9), 25))
    m.send(at(d(13)), (at(d(13), 9), 1))
    assert m.status() == ("exceeded", Decimal(106), d(1), False)
    key = f"{m.service.pk}:{m.meter.pk}:2025-03-01"
    assert m.notices() == [
        ("usage_approaching", f"usage_approaching:{key}"),
        ("usage_exceeded", f"usage_exceeded:{key}"),
    ]
    approaching = Notification.objects.get(client=m.client, event="usage_approaching")
    assert approaching.title.endswith(": Outgoing traffic is near its included amount")
    assert "has used 80 GiB of Outgoing traffic this month, 80% of the 100 GiB included" in (
        approaching.body
    )
    # when April begins: normal again, nothing used yet
    with django_capture_on_commit_callbacks(execute=True):
        assert reset_statuses(now=at(APRIL, 0, 1)) == {"reset": 1, "resumed": 0}
        assert reset_statuses(now=at(APRIL, 0, 2)) == {"reset": 0, "resumed": 0}
    assert m.status() == ("normal", Decimal(0), APRIL, False)
    # and April has notices of its own
    m.send(at(d(2, 4)), (at(d(2, 4), 9), 101))
    assert m.status() == ("exceeded", Decimal(101), APRIL, False)
    assert m.notices("usage_exceeded")[-1] == (
        "usage_exceeded",
        f"usage_exceeded:{m.service.pk}:{m.meter.pk}:2025-04-01",
    )
    assert len(m.notices()) == 3  # normal -> exceeded at once: no "approaching" in April


def test_status_rules_per_day_start_over_every_day(django_capture_on_commit_callbacks: Any) -> None:
    m = Metered(django_capture_on_commit_callbacks, included=10, rating="per_day")
    m.send(at(d(5)), (at(d(5), 9), 9))
    assert m.status() == ("approaching", Decimal(9), d(5), False)
    with django_capture_on_commit_callbacks(execute=True):
        reset_statuses(now=at(d(6), 0, 1))
    assert m.status() == ("normal", Decimal(0), d(6), False)


def test_a_limit_reached_mid_month_suspends_until_raised_or_the_month_resets(
    django_capture_on_commit_callbacks: Any,
) -> None:
    # given a 500 GiB limit on outgoing traffic
    m = Metered(django_capture_on_commit_callbacks, limit=Decimal(500), balance=10_000)
    m.send(at(d(10)), (at(d(10), 9), 300))
    assert m.service_status() == ServiceStatus.ACTIVE
    # when usage reaches 550 GiB on 15 March
    m.send(at(d(15)), (at(d(15), 9), 250))
    # then the service is suspended over limit, and the client told why
    assert m.service_status() == ServiceStatus.SUSPENDED_OVER_LIMIT
    assert m.status() == ("exceeded", Decimal(550), d(1), True)
    (notice,) = m.notices("usage_over_limit")
    told = Notification.objects.get(client=m.client, event="usage_over_limit")
    assert "reaching its limit of 500 GiB. It resumes when the limit is raised" in told.body
    assert notice[1] == f"usage_over_limit:{m.service.pk}:{m.meter.pk}:2025-03-01"
    event = ServiceEvent.objects.filter(service=m.service).order_by("-id").first()
    assert event is not None and event.data["reason"] == "over_limit"
    # when more records arrive while suspended: still suspended, no second notice
    m.send(at(d(16)), (at(d(16), 9), 10))
    assert m.service_status() == ServiceStatus.SUSPENDED_OVER_LIMIT
    assert len(m.notices("usage_over_limit")) == 1
    # when staff raise the limit to 1000 GiB: resumed
    with django_capture_on_commit_callbacks(execute=True):
        result = set_meter_limit(meter_id=m.meter.pk, limit=Decimal(1000), now=at(d(17)))
    assert result.limit == Decimal(1000)
    assert m.service_status() == ServiceStatus.ACTIVE
    assert m.status() == ("exceeded", Decimal(560), d(1), False)
    assert m.notices("service_resumed")[-1][0] == "service_resumed"
    # when usage reaches the new limit: suspended again
    m.send(at(d(20)), (at(d(20), 9), 440))
    assert m.service_status() == ServiceStatus.SUSPENDED_OVER_LIMIT
    # when April begins: resumed, the status normal again
    with django_capture_on_commit_callbacks(execute=True):
        assert reset_statuses(now=at(APRIL, 0, 1)) == {"reset": 1, "resumed": 1}
    assert m.service_status() == ServiceStatus.ACTIVE
    assert m.status() == ("normal", Decimal(0), APRIL, False)
    reasons = [
        (e.to_status, e.data.get("reason"))
        for e in ServiceEvent.objects.filter(service=m.service).order_by("id")
        if e.to_status
    ]
    assert reasons[-4:] == [
        (ServiceStatus.SUSPENDED_OVER_LIMIT, "over_limit"),
        (ServiceStatus.ACTIVE, "limit_raised"),
        (ServiceStatus.SUSPENDED_OVER_LIMIT, "over_limit"),
        (ServiceStatus.ACTIVE, "period_reset"),
    ]
    # and the run of 1 April charges March's 900 GiB over: 45.00, with the renewal
    m.bill(APRIL)
    assert m.overage() == [(d(1), APRIL, 4500, 0)]
    assert m.balance() == 10_000 - 1000 - 1000 - 4500


def test_a_lowered_limit_suspends_at_once_and_a_bad_limit_changes_nothing(
    django_capture_on_commit_callbacks: Any,
) -> None:
    m = Metered(django_capture_on_commit_callbacks, limit=Decimal(500))
    m.send(at(d(10)), (at(d(10), 9), 300))
    with pytest.raises(BillowError) as refused:
        set_meter_limit(meter_id=m.meter.pk, limit=Decimal(-1), now=at(d(11)))
    assert refused.value.code == "bad_limit"
    m.meter.refresh_from_db()
    assert m.meter.limit == Decimal(500)
    assert m.service_status() == ServiceStatus.ACTIVE
    with django_capture_on_commit_callbacks(execute=True):
        set_meter_limit(meter_id=m.meter.pk, limit=Decimal(300), now=at(d(11)))
    assert m.service_status() == ServiceStatus.SUSPENDED_OVER_LIMIT
    assert m.status()[3] is True
