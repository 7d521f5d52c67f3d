"""The daily stat() pull (and on demand) and the raw-storage maintenance job."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from billow.services import actions, runner
from billow.services.models import Service
from billow.services.modules.base import Outcome
from billow.services.modules.dummy.module import DummyModule
from billow.services.states import ServiceStatus
from billow.usage import tasks
from billow.usage.actions import maintain_raw_storage
from billow.usage.models import Meter, UsageRecord
from billow.usage.pull import pull_stats
from billow.usage.selectors import month_total
from billow.usage.storage import get_storage
from tests.usage.conftest import usage_state

pytestmark = pytest.mark.django_db


@pytest.fixture
def opened(service: Service) -> Service:
    """The service opened on the dummy module (so it has a module instance to ask)."""
    op = actions.request_operation(service=service, operation="open")
    runner.execute_operation(operation_id=op.pk)
    service.refresh_from_db()
    assert service.status == ServiceStatus.ACTIVE and service.module_instance_id
    return service


@pytest.fixture
def module_reports(monkeypatch: Any) -> dict[str, Any]:
    """What the dummy module's stat() answers (values per parameter, or a failure)."""
    answer: dict[str, Any] = {"values": {"traffic_in": 5, "traffic_out": "1.25"}, "fail": False}
    calls: list[tuple[int, date]] = []

    def stat(self: Any, ctx: Any, day: date) -> Outcome:
        calls.append((ctx.service_id, day))
        if answer["fail"]:
            return Outcome.failed(code="host_down", message="no answer")
        return Outcome.succeeded(values=answer["values"])

    monkeypatch.setattr(DummyModule, "stat", stat)
    answer["calls"] = calls
    return answer


def test_the_daily_pull_ingests_yesterday_once(
    opened: Service, traffic: Meter, module_reports: dict[str, Any]
) -> None:
    service = opened
    accepted = tasks.pull_stats_job.call_local()
    state = usage_state()
    again = tasks.pull_stats_job.call_local()

    assert (accepted, again) == (2, 0)
    assert module_reports["calls"] == [(service.pk, date(2027, 2, 28))] * 2
    assert month_total(service, traffic, date(2027, 2, 1)) == Decimal("6.25")
    assert usage_state() == state
    assert set(UsageRecord.objects.values_list("event_id", "ts")) == {
        ("stat-2027-02-28-traffic_in", datetime(2027, 2, 28, tzinfo=UTC)),
        ("stat-2027-02-28-traffic_out", datetime(2027, 2, 28, tzinfo=UTC)),
    }


def test_an_on_demand_pull_of_some_services(
    opened: Service, traffic: Meter, module_reports: dict[str, Any]
) -> None:
    service = opened
    assert pull_stats(day=date(2027, 3, 1), service_ids=[service.pk + 1]).services == 0

    result = pull_stats(day=date(2027, 3, 1), service_ids=[service.pk])

    assert (result.services, result.accepted) == (1, 2)
    assert month_total(service, traffic, date(2027, 3, 1)) == Decimal("6.25")


def test_a_failing_module_is_counted_and_writes_nothing(
    opened: Service, traffic: Meter, module_reports: dict[str, Any]
) -> None:
    module_reports["fail"] = True

    result = pull_stats(day=date(2027, 2, 28))

    assert (result.services, result.failed, result.accepted) == (1, 1, 0)
    assert not UsageRecord.objects.exists()


def test_services_without_meters_are_not_asked(
    service: Service, module_reports: dict[str, Any]
) -> None:
    assert pull_stats(day=date(2027, 2, 28)).services == 0
    assert module_reports["calls"] == []


def test_maintenance_prepares_the_window_and_drops_past_retention(
    service: Service, traffic: Meter, settings: Any
) -> None:
    settings.BILLOW = {
        **settings.BILLOW,
        "USAGE_LATE_DAYS": 2,
        "USAGE_PARTITIONS_AHEAD": 1,
        "USAGE_RETENTION_DAYS": 3,
    }
    done = maintain_raw_storage()
    assert done.created_for == [
        date(2027, 2, 27),
        date(2027, 2, 28),
        date(2027, 3, 1),
        date(2027, 3, 2),
    ]
    from tests.usage.conftest import jsonl
    from tests.usage.test_ingest import ingest, rec

    ingest(jsonl([rec(service, "traffic_in", "2027-02-27T10:00:00Z", 4)]))
    before = month_total(service, traffic, date(2027, 2, 1))

    later = maintain_raw_storage(now=datetime(2027, 3, 3, 1, tzinfo=UTC))

    assert later.dropped == [date(2027, 2, 27)]
    assert not UsageRecord.objects.exists()
    assert month_total(service, traffic, date(2027, 2, 1)) == before == Decimal("4")
    if get_storage().__class__.__name__ == "PostgresStorage":
        assert get_storage().days() == [
            date(2027, 2, 28),
            date(2027, 3, 1),
            date(2027, 3, 2),
            date(2027, 3, 3),
            date(2027, 3, 4),
        ]
