"""Ingestion: rollups from records, idempotent re-ingest, the late window, per-record errors."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from io import BytesIO
from typing import Any

import pytest
from django.conf import settings
from django.test import override_settings

from billow.services.models import Service
from billow.usage import status
from billow.usage.bulk import ingest_body
from billow.usage.ingest import ingest_records
from billow.usage.models import Meter, RerateMark, UsageMonthly, UsageRecord
from billow.usage.parsing import parse_body
from billow.usage.selectors import daily_series, month_total, period_usage
from tests.usage.conftest import jsonl, usage_state

pytestmark = pytest.mark.django_db


PATH = {"bulk": False}


@pytest.fixture(autouse=True, params=["records", "bulk"])
def ingest_path(request: pytest.FixtureRequest) -> Iterator[str]:
    """Every test here runs through ``ingest_records`` and through the bulk upload's path
    (``bulk.ingest_body``: the SQL path on PostgreSQL, the same Python path elsewhere): both
    must give the same answers, rows and rollups."""
    PATH["bulk"] = request.param == "bulk"
    yield request.param
    PATH["bulk"] = False


def ingest(body: bytes, content_type: str = "application/x-ndjson", **kw: Any) -> Any:
    if not PATH["bulk"]:
        return ingest_records(parse_body(BytesIO(body), content_type), **kw)
    size = kw.pop("batch_size", None)
    batch = {"USAGE_INGEST_BATCH": size} if size else {}
    with override_settings(BILLOW={**settings.BILLOW, **batch}):
        return ingest_body(BytesIO(body), content_type, **kw)


def rec(service: Service, parameter: str, ts: str, value: Any, **extra: Any) -> dict[str, Any]:
    return {"service": service.pk, "parameter": parameter, "ts": ts, "value": value, **extra}


def batch(service: Service) -> bytes:
    return jsonl(
        [
            rec(service, "traffic_in", "2027-03-01T01:00:00Z", "10.5"),
            rec(service, "traffic_out", "2027-03-01T02:00:00Z", 4),
            rec(service, "traffic_in", "2027-03-01T03:00:00+03:00", 2.25),  # 00:00 UTC
            rec(service, "traffic_in", "2027-02-28T23:00:00Z", 7),  # yesterday: late, in window
            rec(service, "storage_gib", "2027-03-01T01:00:00Z", 30),
            rec(service, "storage_gib", "2027-03-01T05:00:00Z", 25),
        ]
    )


def test_records_roll_up_per_day_and_month(
    service: Service, traffic: Meter, storage_meter: Meter
) -> None:
    result = ingest(batch(service))

    assert result.as_dict() == {
        "received": 6,
        "accepted": 6,
        "duplicates": 0,
        "rejected": 0,
        "errors": [],
        "errors_truncated": False,
    }
    assert UsageRecord.objects.count() == 6
    assert daily_series(service, traffic, date(2027, 2, 28), date(2027, 3, 1)) == [
        (date(2027, 2, 28), Decimal("7")),
        (date(2027, 3, 1), Decimal("16.75")),
    ]
    assert daily_series(service, storage_meter, date(2027, 3, 1), date(2027, 3, 1)) == [
        (date(2027, 3, 1), Decimal("30"))
    ]
    assert month_total(service, traffic, date(2027, 3, 1)) == Decimal("16.75")
    assert month_total(service, traffic, date(2027, 2, 1)) == Decimal("7")
    assert period_usage(service, traffic, date(2027, 2, 28), date(2027, 3, 2)) == Decimal("23.75")
    assert period_usage(service, storage_meter, date(2027, 3, 1), date(2027, 4, 1)) == Decimal("30")
    assert (
        UsageMonthly.objects.get(service=service, meter=traffic, month=date(2027, 3, 1)).days == 1
    )


def test_re_ingesting_the_same_batch_changes_nothing(
    service: Service, traffic: Meter, storage_meter: Meter
) -> None:
    ingest(batch(service))
    before = usage_state()

    again = ingest(batch(service))

    assert (again.accepted, again.duplicates, again.rejected) == (0, 6, 0)
    assert usage_state() == before


def test_duplicates_inside_one_batch_are_stored_once(service: Service, traffic: Meter) -> None:
    line = rec(service, "traffic_in", "2027-03-01T01:00:00Z", 5)
    result = ingest(jsonl([line, line, {**line, "value": 6}]))

    assert (result.accepted, result.duplicates) == (1, 2)
    assert daily_series(service, traffic, date(2027, 3, 1), date(2027, 3, 1)) == [
        (date(2027, 3, 1), Decimal("5"))
    ]


def test_an_event_id_is_the_key_when_given(service: Service, traffic: Meter) -> None:
    ts = "2027-03-01T01:00:00Z"
    first = ingest(
        jsonl(
            [
                rec(service, "traffic_in", ts, 1, event_id="a-1"),
                rec(service, "traffic_in", ts, 2, event_id="a-2"),  # same instant, another event
            ]
        )
    )
    again = ingest(jsonl([rec(service, "traffic_in", ts, 1, event_id="a-1")]))

    assert (first.accepted, again.accepted, again.duplicates) == (2, 0, 1)
    assert month_total(service, traffic, date(2027, 3, 1)) == Decimal("3")


def test_a_late_record_inside_the_window_is_rolled_up_and_marked_for_re_rating(
    service: Service, traffic: Meter
) -> None:
    ingest(jsonl([rec(service, "traffic_in", "2027-02-27T10:00:00Z", 10)]))
    RerateMark.objects.all().delete()  # the rating re-rated the day

    result = ingest(jsonl([rec(service, "traffic_out", "2027-02-22T00:00:00Z", 3)]))

    assert (result.accepted, result.rejected) == (1, 0)
    assert month_total(service, traffic, date(2027, 2, 1)) == Decimal("13")
    assert list(RerateMark.objects.values_list("service_id", "meter_id", "day")) == [
        (service.pk, traffic.pk, date(2027, 2, 22))
    ]


def test_a_record_outside_the_window_is_refused_and_changes_nothing(
    service: Service, traffic: Meter
) -> None:
    ingest(jsonl([rec(service, "traffic_in", "2027-02-27T10:00:00Z", 10)]))
    before = usage_state()

    result = ingest(jsonl([rec(service, "traffic_in", "2027-02-21T23:59:59Z", 3)]))

    assert (result.accepted, result.rejected) == (0, 1)
    assert result.errors == [
        {
            "line": 1,
            "code": "too_late",
            "message": "The record is older than the late-record window.",
            "service": service.pk,
        }
    ]
    assert usage_state() == before


def test_the_window_is_a_setting(service: Service, traffic: Meter, settings: Any) -> None:
    settings.BILLOW = {**settings.BILLOW, "USAGE_LATE_DAYS": 30}

    result = ingest(jsonl([rec(service, "traffic_in", "2027-01-30T00:00:00Z", 3)]))

    assert result.accepted == 1


def test_unknown_and_deleted_services_are_listed_and_the_rest_accepted(
    service: Service, traffic: Meter, client: Any, tariff: Any
) -> None:
    from billow.services import actions as services

    gone = services.create_service(
        client=client, tariff=tariff, period="1m", currency="USD", parameters={"os": "debian-12"}
    )
    Service.objects.filter(pk=gone.pk).update(status="deleted")  # test setup only
    body = jsonl(
        [
            rec(service, "traffic_in", "2027-03-01T01:00:00Z", 1),
            {
                "service": 999_999,
                "parameter": "traffic_in",
                "ts": "2027-03-01T01:00:00Z",
                "value": 1,
            },
            rec(gone, "traffic_in", "2027-03-01T01:00:00Z", 1),
            rec(service, "traffic_in", "2027-03-01T02:00:00Z", 2),
            rec(service, "traffic_in", "2027-03-01T13:00:00Z", 2),  # an hour ahead of T0
        ]
    )
    body += b"not json\n" + jsonl([rec(service, "bad param", "2027-03-01T01:00:00Z", 1)])

    result = ingest(body)

    assert (result.received, result.accepted, result.rejected) == (7, 2, 5)
    assert [(e["line"], e["code"]) for e in result.errors] == [
        (6, "bad_record"),
        (7, "bad_record"),
        (2, "unknown_service"),
        (3, "service_deleted"),
        (5, "in_future"),
    ]
    assert month_total(service, traffic, date(2027, 3, 1)) == Decimal("3")
    assert not UsageRecord.objects.exclude(service_id=service.pk).exists()


def test_a_module_instance_sends_for_its_own_services_only(
    service: Service, traffic: Meter
) -> None:
    result = ingest(
        jsonl([rec(service, "traffic_in", "2027-03-01T01:00:00Z", 1)]),
        module_instance_id=service.module_instance_id + 1,
    )

    assert [e["code"] for e in result.errors] == ["unknown_service"]
    assert not UsageRecord.objects.exists()


def test_csv_uploads(service: Service, traffic: Meter) -> None:
    body = (
        "service,parameter,ts,value,event_id\n"
        f"{service.pk},traffic_in,2027-03-01T01:00:00Z,1.5,e1\n"
        f"{service.pk},traffic_out,1803862800,2,\n"  # 2027-03-01T01:00:00Z as Unix seconds
        f"{service.pk},traffic_out,2027-03-01T01:00:00Z\n"
    ).encode()

    result = ingest(body, "text/csv; charset=utf-8")

    assert (result.accepted, [(e["line"], e["code"]) for e in result.errors]) == (
        2,
        [(4, "bad_record")],
    )
    assert month_total(service, traffic, date(2027, 3, 1)) == Decimal("3.5")


def test_aggregations_and_combining_by_max(service: Service, tariff: Any) -> None:
    from billow.catalog import actions as catalog
    from billow.usage.actions import set_meter

    meters = {}
    for aggregation in ("sum", "max", "last", "avg"):
        addon = catalog.create_addon(
            tariff=tariff,
            name=aggregation,
            intname=f"m_{aggregation}",
            value_type="int",
            billing_type="statistics",
            currency="USD",
            aggregation=aggregation,
        )
        meters[aggregation] = set_meter(addon=addon, parameters=["a", "b"], combine="max")
    samples = [("a", "01", 4), ("a", "02", 1), ("b", "03", 2), ("a", "00", 3)]
    ingest(jsonl([rec(service, p, f"2027-02-28T{h}:00:00Z", v) for p, h, v in samples]))
    ingest(jsonl([rec(service, "a", "2027-03-01T01:00:00Z", 6)]))

    day = date(2027, 2, 28)
    got = {k: daily_series(service, m, day, day)[0][1] for k, m in meters.items()}
    # a: sum 8, max 4, last 1 (02:00), avg 8/3; b: 2 everywhere; combined by max
    assert got == {
        "sum": Decimal("8"),
        "max": Decimal("4"),
        "last": Decimal("2"),
        "avg": Decimal("2.666667"),
    }
    march = {k: month_total(service, m, date(2027, 3, 1)) for k, m in meters.items()}
    assert march == {k: Decimal("6") for k in meters}
    two_days = {
        k: period_usage(service, m, date(2027, 2, 28), date(2027, 3, 2)) for k, m in meters.items()
    }
    assert two_days == {
        "sum": Decimal("14"),
        "max": Decimal("6"),
        "last": Decimal("6"),
        "avg": Decimal("4.3333335"),
    }


def test_the_status_hook_gets_what_changed(
    service: Service, traffic: Meter, storage_meter: Meter, monkeypatch: Any
) -> None:
    calls: list[Any] = []
    monkeypatch.setattr(status, "refresh", lambda **kw: calls.append(kw))

    ingest(batch(service))
    ingest(batch(service))  # nothing new: no call

    assert calls == [
        {
            "changes": {(service.pk, traffic.pk), (service.pk, storage_meter.pk)},
            "now": datetime(2027, 3, 1, 12, 0, tzinfo=UTC),
        }
    ]


def test_batches_commit_one_by_one(service: Service, traffic: Meter) -> None:
    lines = [rec(service, "traffic_in", f"2027-03-01T0{h}:00:00Z", 1) for h in range(5)]

    result = ingest(jsonl(lines), batch_size=2)

    assert result.accepted == 5
    assert month_total(service, traffic, date(2027, 3, 1)) == Decimal("5")


def test_a_month_rebuilt_from_raw_records_equals_the_incremental_rollups(
    service: Service, traffic: Meter, storage_meter: Meter
) -> None:
    from billow.usage.actions import rebuild_month

    ingest(batch(service))
    ingest(jsonl([rec(service, "traffic_out", "2027-03-01T08:00:00Z", 1)]))
    RerateMark.objects.all().delete()
    before = usage_state()

    assert rebuild_month(month=date(2027, 3, 1)) == 3
    assert rebuild_month(month=date(2027, 2, 1)) == 1

    assert usage_state() == before


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_postgresql_writes_while_the_next_batch_is_parsed(
    service: Service, traffic: Meter, monkeypatch: Any, ingest_path: str
) -> None:
    if ingest_path == "bulk":
        pytest.skip("the Python path's writer thread")
    import threading

    from billow.usage import ingest as ingest_module

    writers: set[str] = set()
    real_write = ingest_module._Batcher.write

    def spy(self: Any, checked: Any) -> None:
        writers.add(threading.current_thread().name)
        real_write(self, checked)

    monkeypatch.setattr(ingest_module._Batcher, "write", spy)
    lines = [rec(service, "traffic_in", f"2027-03-01T0{h}:00:00Z", h) for h in range(9)]
    lines.append({"service": 999_999, "parameter": "x", "ts": "2027-03-01T01:00:00Z", "value": 1})

    result = ingest(jsonl(lines), batch_size=2)

    assert (result.accepted, result.rejected) == (9, 1)
    assert month_total(service, traffic, date(2027, 3, 1)) == Decimal("36")
    assert writers and threading.current_thread().name not in writers
