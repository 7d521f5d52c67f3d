"""billow/usage/sql.py: the staged COPY + insert-and-fold statement stores the raw rows and the
per-parameter daily statistics the ORM path (``PlainStorage``) stores for the same records, with
duplicates, event ids, day boundaries, ids near 2**62 and values near the 10^15 cap; partitions
are created, listed and dropped; the bucket locks are taken."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from django.apps import apps
from django.conf import settings
from django.db import connection, transaction

from billow.usage import sql
from billow.usage.models import ParameterDaily, UsageRecord
from billow.usage.parsing import RecordIn
from billow.usage.storage import PlainStorage, PostgresStorage
from tests.sql.conftest import BIG
from tests.usage.meters import traffic as traffic  # a fixture

pytestmark = [pytest.mark.django_db, pytest.mark.postgres_only]

RECEIVED = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)
CAP = Decimal("999999999999999.999999")
VALUE_ERROR = "value must be a number from 0 below 10^15"
NOT_JSON = "not JSON: Expecting value: line 1 column 1 (char 0)"
UNKNOWN = "No such service (or not one of this module instance's services)."
TOO_LATE = "The record is older than the late-record window."
IN_FUTURE = "The record's timestamp is in the future."


def _records() -> list[RecordIn]:
    at = lambda *a: datetime(*a, tzinfo=UTC)  # noqa: E731
    return [
        RecordIn(1, BIG, "traffic_in", at(2027, 2, 28, 23, 59, 59, 999999), CAP, None),
        RecordIn(2, BIG, "traffic_in", at(2027, 3, 1, 0, 0, 0), Decimal("1.000001"), None),
        RecordIn(3, BIG, "traffic_in", at(2027, 3, 1, 0, 0, 0), Decimal("5"), None),  # dup key
        RecordIn(4, BIG, "traffic_in", at(2027, 3, 1, 0, 0, 0), Decimal("2"), "ev-1"),
        RecordIn(5, BIG, "traffic_in", at(2027, 3, 1, 0, 0, 0), Decimal("3"), "ev-1"),  # dup event
        RecordIn(6, BIG, "traffic_in", at(2027, 3, 1, 6, 0, 0), Decimal("0.5"), "ev-2"),
        RecordIn(7, 7, "storage", at(2027, 3, 1, 6, 0, 0), Decimal("10"), None),
        RecordIn(8, 7, "storage", at(2027, 3, 1, 6, 0, 0), Decimal("12"), "same-instant"),
    ]


def _stored() -> dict[str, Any]:
    return {
        "raw": sorted(
            UsageRecord.objects.values_list(
                "service_id", "parameter", "ts", "value", "event_id", "received_at"
            )
        ),
        "daily": sorted(
            ParameterDaily.objects.values_list(
                "service_id",
                "parameter",
                "day",
                "total",
                "count",
                "maximum",
                "last_ts",
                "last_value",
            )
        ),
    }


def _store_twice(storage: Any) -> tuple[Any, Any, dict[str, Any]]:
    # the raw table is partitioned on PostgreSQL whichever path writes it
    PostgresStorage().ensure_days({date(2027, 2, 28), date(2027, 3, 1)})
    first = storage.insert_new(_records(), RECEIVED)
    second = storage.insert_new(_records()[::-1], RECEIVED)
    at = datetime(2027, 3, 1, 3, tzinfo=UTC)
    third = storage.insert_new(
        [
            RecordIn(1, BIG, "traffic_in", at, Decimal("4"), None),  # before the latest: checked
            RecordIn(2, BIG, "traffic_in", at.replace(hour=7), Decimal("5"), None),  # after it
            RecordIn(3, 7, "storage", at.replace(hour=6), Decimal("99"), None),  # stored already
        ],
        RECEIVED,
    )
    return first, second, third, _stored()


def test_the_insert_and_fold_stores_what_the_orm_path_stores(binding: str) -> None:
    with transaction.atomic():
        pg = _store_twice(PostgresStorage())
        transaction.set_rollback(True)
    with transaction.atomic():
        orm = _store_twice(PlainStorage())
        transaction.set_rollback(True)

    assert pg == orm
    first, second, third, stored = pg
    assert (first.new, second.new, third.new) == (6, 0, 2)
    assert first.touched == {
        (BIG, "traffic_in", date(2027, 2, 28)),
        (BIG, "traffic_in", date(2027, 3, 1)),
        (7, "storage", date(2027, 3, 1)),
    }
    assert stored["daily"][-1] == (
        BIG,
        "traffic_in",
        date(2027, 3, 1),
        Decimal("12.500001"),
        5,
        Decimal("5"),
        datetime(2027, 3, 1, 7, tzinfo=UTC),
        Decimal("5"),
    )


def test_partitions_are_created_listed_and_dropped(binding: str) -> None:
    storage = PostgresStorage()
    with connection.cursor() as cursor:
        cursor.execute("SELECT relkind FROM pg_class WHERE relname = 'usage_usagerecord'")
        assert cursor.fetchone() == ("p",)

    storage.ensure_days({date(2027, 3, 1), date(2027, 3, 2), date(2027, 2, 27)})
    storage.ensure_days({date(2027, 3, 1)})  # already there: nothing to do

    assert storage.days() == [date(2027, 2, 27), date(2027, 3, 1), date(2027, 3, 2)]
    assert storage.drop_before(date(2027, 3, 1)) == [date(2027, 2, 27)]
    assert storage.days() == [date(2027, 3, 1), date(2027, 3, 2)]
    assert sql.partition_day(sql.partition_name(date(2027, 3, 2))) == date(2027, 3, 2)
    assert sql.partition_day("usage_usagerecord_default") is None


def test_the_bucket_locks_are_taken_in_the_transaction(binding: str) -> None:
    with transaction.atomic():
        PostgresStorage().lock_services({1, 65, 2, BIG})  # buckets 1, 2 and BIG % 64
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT classid::bigint * 4294967296 + objid::bigint FROM pg_locks "
                "WHERE locktype = 'advisory' AND pid = pg_backend_pid() ORDER BY 1"
            )
            held = [row[0] for row in cursor.fetchall()]
    expected = sorted(sql.LOCK_CLASS * 4294967296 + b for b in {1, 2, BIG % sql.LOCK_BUCKETS})
    assert held == expected


def test_the_rebuild_groups_the_raw_rows_as_the_incremental_fold(binding: str) -> None:
    from billow.usage.storage import rebuild_parameter_daily

    _store_twice(PostgresStorage())
    folded = _stored()

    rebuilt = rebuild_parameter_daily(date(2027, 2, 1), date(2027, 4, 1))
    again = rebuild_parameter_daily(date(2027, 2, 1), date(2027, 4, 1))  # its table dropped

    assert _stored() == folded
    assert rebuilt == again
    assert (rebuilt.keys, rebuilt.service_ids, rebuilt.touched) == (3, {BIG, 7}, None)
    with transaction.atomic():
        orm = _orm_rebuild()
        transaction.set_rollback(True)
    assert (orm.keys, orm.service_ids) == (3, {BIG, 7})
    assert orm.touched == {
        (BIG, "traffic_in", date(2027, 2, 28)),
        (BIG, "traffic_in", date(2027, 3, 1)),
        (7, "storage", date(2027, 3, 1)),
    }


def _orm_rebuild() -> Any:
    """The ORM branch of ``rebuild_parameter_daily`` on this database (as on SQLite)."""
    from unittest import mock

    from billow.usage import storage

    plain = mock.Mock(wraps=storage.rows.connection_for(UsageRecord), vendor="sqlite")
    with mock.patch.object(storage.rows, "connection_for", return_value=plain):
        return storage.rebuild_parameter_daily(date(2027, 2, 1), date(2027, 4, 1))


def test_the_meter_rollups_in_sql_equal_the_python_ones(binding: str) -> None:
    from billow.usage.models import RerateMark, UsageDaily, UsageMonthly
    from billow.usage.rollups import write_rollups_in_python, write_rollups_in_sql
    from billow.usage.selectors import MeterInfo

    def meter(meter_id: int, aggregation: str, combine: str) -> MeterInfo:
        return MeterInfo(
            meter_id,
            0,
            0,
            ("traffic_in", "storage"),
            combine,
            aggregation,
            "",
            None,
            0,
            Decimal(0),
            "USD",
            "per_month",
        )

    _store_twice(PostgresStorage())
    meters = [
        meter(i + 1, aggregation, combine)
        for i, (aggregation, combine) in enumerate(
            [("sum", "sum"), ("max", "max"), ("last", "sum"), ("avg", "max"), ("avg", "sum")]
        )
    ]
    wanted = {
        (BIG, date(2027, 2, 28)): meters,
        (BIG, date(2027, 3, 1)): meters,
        (7, date(2027, 3, 1)): meters,
        (8, date(2027, 3, 1)): meters,  # no statistics: no row
    }

    def rollups(write: Any) -> Any:
        from django.db import connection as conn

        with transaction.atomic():
            with conn.cursor() as cursor:  # the meters exist only as ids here
                cursor.execute("SET CONSTRAINTS ALL DEFERRED")
            written = sorted(write(wanted, RECEIVED))
            got = (
                written,
                sorted(UsageDaily.objects.values_list("service_id", "meter_id", "day", "value")),
                sorted(
                    UsageMonthly.objects.values_list(
                        "service_id", "meter_id", "month", "value", "days"
                    )
                ),
            )
            transaction.set_rollback(True)
        return got

    marks: list[Any] = []

    def in_sql_with_marks(wanted: Any, now: datetime) -> Any:
        written = write_rollups_in_sql(wanted, now, date(2027, 3, 1))
        marks.extend(RerateMark.objects.values_list("service_id", "meter_id", "day", "marked_at"))
        return written

    in_sql = rollups(in_sql_with_marks)

    assert in_sql == rollups(write_rollups_in_python)
    assert sorted(marks) == [(BIG, m, date(2027, 2, 28), RECEIVED) for m in range(1, 6)]
    assert len(in_sql[0]) == 15
    # (1.000001 + 2 + 0.5 + 4 + 5) / 5 = 2.5000002, rounded to 6 places
    assert (BIG, 4, date(2027, 3, 1), Decimal("2.500000")) in in_sql[1]


def test_the_month_rebuild_statements_give_the_incremental_rollups(
    binding: str, service: Any, tariff: Any
) -> None:
    from billow.catalog import actions as catalog
    from billow.core import clock
    from billow.usage.actions import rebuild_month, set_meter
    from billow.usage.ingest import ingest_records
    from billow.usage.models import RerateMark
    from tests.usage.conftest import usage_state

    for aggregation, combine in [("sum", "sum"), ("max", "max"), ("last", "sum"), ("avg", "max")]:
        addon = catalog.create_addon(
            tariff=tariff,
            name=aggregation,
            intname=f"m_{aggregation}",
            value_type="int",
            billing_type="statistics",
            currency="USD",
            aggregation=aggregation,
        )
        set_meter(addon=addon, parameters=["a", "b"], combine=combine)
    samples = [("a", 1, 1, "4"), ("a", 1, 2, "1.5"), ("b", 1, 3, "2"), ("a", 2, 0, "3")]
    samples += [("b", 2, 5, "7.25"), ("a", 3, 1, "0.000001")]
    records = [
        RecordIn(n, service.pk, p, datetime(2027, 2, 20 + d, h, tzinfo=UTC), Decimal(v), None)
        for n, (p, d, h, v) in enumerate(samples)
    ]
    with clock.use_clock(clock.FixedClock(datetime(2027, 2, 25, tzinfo=UTC))):
        ingest_records(records)
    RerateMark.objects.all().delete()
    incremental = usage_state()

    assert rebuild_month(month=date(2027, 2, 1)) == 5

    assert usage_state() == incremental
    assert len(incremental["usagedaily"]) == 12 and len(incremental["usagemonthly"]) == 4


def _bulk_body(service_id: int) -> bytes:
    s = service_id
    return b"".join(
        line.encode() + b"\n"
        for line in [
            f'{{"service":{s},"parameter":"traffic_in","ts":"2027-03-01T01:00:00Z","value":2}}',
            f'{{"service":"{s}","parameter":"traffic_out","ts":1803862800,"value":"0.000001"}}',
            # at the cap, and over it
            f'{{"service":{s},"parameter":"traffic_in","ts":"2027-03-01T02:00:00+03:00",'
            '"value":999999999999999.999999}',
            f'{{"service":{s},"parameter":"traffic_in","ts":"2027-03-01T03:00:00Z",'
            '"value":1000000000000000}',
            # another key order (the Python parser), an id past 2**62 (no such service)
            f'{{"value":3,"ts":"2027-03-01T04:00:00Z","parameter":"traffic_out","service":{s}}}',
            f'{{"service":{BIG},"parameter":"traffic_in","ts":"2027-03-01T01:00:00Z","value":1}}',
            "",
            "not json",
            f'{{"service":{s},"parameter":"traffic_in","ts":"2027-02-21T23:59:59Z","value":1}}',
            f'{{"service":{s},"parameter":"traffic_in","ts":"2027-03-01T12:10:01Z","value":1}}',
            # the first of a key wins; an event id is its own key
            f'{{"service":{s},"parameter":"traffic_in","ts":"2027-03-01T01:00:00Z","value":9}}',
            f'{{"service":{s},"parameter":"traffic_in","ts":"2027-03-01T01:00:00Z","value":5,'
            '"event_id":"ev-1"}',
            f'{{"service":{s},"parameter":"traffic_in","ts":"2027-02-28T22:00:00Z","value":7}}',
        ]
    )


def _bulk_upload(body: bytes, **kw: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    from io import BytesIO

    from billow.usage.bulk import ingest_body
    from tests.usage.conftest import usage_state

    answer = ingest_body(BytesIO(body), "application/x-ndjson", **kw).as_dict()
    again = ingest_body(BytesIO(body), "application/x-ndjson", **kw).as_dict()
    state = usage_state()
    for model in apps.get_app_config("usage").get_models():  # the next upload starts afresh
        if model._meta.model_name not in {"meter", "ingesttoken"}:
            model.objects.all().delete()
    assert again["accepted"] == 0
    return answer, state


def test_the_bulk_statements_check_store_and_list_errors_as_the_python_path(
    binding: str, service: Any, traffic: Any
) -> None:
    from django.test import override_settings

    body = _bulk_body(service.pk)

    in_sql = _bulk_upload(body)
    with override_settings(BILLOW={**settings.BILLOW, "USAGE_INGEST_SQL": False}):
        in_python = _bulk_upload(body)

    assert in_sql == in_python
    answer, state = in_sql
    assert answer == {
        "received": 12,
        "accepted": 6,
        "duplicates": 1,
        "rejected": 5,
        "errors": [
            {"line": 4, "code": "bad_record", "message": VALUE_ERROR},
            {"line": 8, "code": "bad_record", "message": NOT_JSON},
            {"line": 6, "code": "unknown_service", "message": UNKNOWN, "service": BIG},
            {"line": 9, "code": "too_late", "message": TOO_LATE, "service": service.pk},
            {"line": 10, "code": "in_future", "message": IN_FUTURE, "service": service.pk},
        ],
        "errors_truncated": False,
    }
    assert state["usagemonthly"] == [
        (service.pk, traffic.pk, date(2027, 2, 1), Decimal("1000000000000006.999999"), 1),
        (service.pk, traffic.pk, date(2027, 3, 1), Decimal("10.000001"), 1),
    ]
    assert state["reratemark"] == [(service.pk, traffic.pk, date(2027, 2, 28))]


def test_a_line_postgresql_cannot_type_sends_its_batch_the_python_way(
    binding: str, service: Any, traffic: Any
) -> None:
    body = (
        _bulk_body(service.pk)
        + (
            f'{{"service":{service.pk},"parameter":"traffic_in","ts":"2027-02-30T01:00:00Z",'
            '"value":1}\n'
        ).encode()
    )

    answer, _state = _bulk_upload(body)

    assert (answer["received"], answer["accepted"], answer["rejected"]) == (13, 6, 6)
    assert answer["errors"][2] == {
        "line": 14,
        "code": "bad_record",
        "message": "day is out of range for month",
    }
