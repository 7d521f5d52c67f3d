"""Where raw usage records live: a small interface and its two implementations.

``UsageStorage`` is everything ingestion and maintenance need from the raw store:

- ``insert_new(records, received_at)`` stores the records not stored yet (idempotent by event id
  or by (service, parameter, ts)), folds exactly those into ``ParameterDaily`` and returns the
  touched (service, parameter, day) keys with the count of new records;
- ``ensure_days(days)`` prepares the store for records of those UTC days;
- ``drop_before(day)`` drops raw records of the days before ``day`` (retention);
- ``days()`` lists the days the store holds.

``PostgresStorage`` keeps one partition per UTC day (declarative range partitioning on ``ts``)
and moves a batch in with COPY + one statement (``usage.sql``). ``PlainStorage`` is the ORM path
of any other database (SQLite), also the reference the SQL matrix compares with. A columnar
store (ClickHouse, see docs/usage.md) would be a third implementation: rollups are kept in the
main database either way, so only this interface changes hands.
"""

from __future__ import annotations

import io
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, Protocol

from django.db import IntegrityError, ProgrammingError, transaction
from django.db.models import Q

from billow.core import rows
from billow.usage import sql
from billow.usage.models import ParameterDaily, UsageRecord
from billow.usage.parsing import RecordIn


@dataclass(frozen=True, slots=True)
class Inserted:
    """What a batch changed: the count of new raw records and the touched rollup keys."""

    new: int
    touched: frozenset[tuple[int, str, date]]


class UsageStorage(Protocol):
    def insert_new(self, records: Sequence[RecordIn], received_at: datetime) -> Inserted: ...

    def ensure_days(self, days: set[date]) -> None: ...

    def drop_before(self, day: date) -> list[date]: ...

    def days(self) -> list[date]: ...


def utc_day(ts: datetime) -> date:
    return ts.date()  # ingestion normalizes every ts to UTC


@dataclass
class _Stats:
    total: Decimal
    count: int
    maximum: Decimal
    last_ts: datetime
    last_value: Decimal

    def add(self, value: Decimal, ts: datetime) -> None:
        self.total += value
        self.count += 1
        self.maximum = max(self.maximum, value)
        if ts > self.last_ts or (ts == self.last_ts and value > self.last_value):
            self.last_ts, self.last_value = ts, value

    def merge(self, other: _Stats) -> None:
        self.total += other.total
        self.count += other.count
        self.maximum = max(self.maximum, other.maximum)
        if other.last_ts > self.last_ts or (
            other.last_ts == self.last_ts and other.last_value > self.last_value
        ):
            self.last_ts, self.last_value = other.last_ts, other.last_value


class PlainStorage:
    """The raw table as a plain table, written through the ORM (SQLite; the reference path)."""

    def insert_new(self, records: Sequence[RecordIn], received_at: datetime) -> Inserted:
        if not records:
            return Inserted(0, frozenset())
        fresh = self._not_stored(records)
        UsageRecord.objects.bulk_create(
            [
                UsageRecord(
                    service_id=r.service_id,
                    parameter=r.parameter,
                    ts=r.ts,
                    value=r.value,
                    event_id=r.event_id,
                    received_at=received_at,
                )
                for r in fresh
            ],
            batch_size=500,
        )
        stats: dict[tuple[int, str, date], _Stats] = {}
        for r in fresh:
            key = (r.service_id, r.parameter, utc_day(r.ts))
            if key in stats:
                stats[key].add(r.value, r.ts)
            else:
                stats[key] = _Stats(r.value, 1, r.value, r.ts, r.value)
        _fold_into_parameter_daily(stats)
        return Inserted(len(fresh), frozenset(stats))

    @staticmethod
    def _not_stored(records: Sequence[RecordIn]) -> list[RecordIn]:
        """The records whose idempotency key is neither stored nor earlier in the batch."""
        service_ids = {r.service_id for r in records}
        low, high = min(r.ts for r in records), max(r.ts for r in records)
        stored = UsageRecord.objects.filter(
            service_id__in=service_ids, ts__gte=low, ts__lte=high
        ).values_list("service_id", "parameter", "ts", "event_id")
        seen = {_key(s, p, ts, e) for s, p, ts, e in stored}
        fresh = []
        for r in records:
            key = _key(r.service_id, r.parameter, r.ts, r.event_id)
            if key not in seen:
                seen.add(key)
                fresh.append(r)
        return fresh

    def ensure_days(self, days: set[date]) -> None:
        return None

    def drop_before(self, day: date) -> list[date]:
        start = datetime(day.year, day.month, day.day, tzinfo=UTC)
        old = UsageRecord.objects.filter(ts__lt=start)
        dropped = sorted({utc_day(ts) for ts in old.values_list("ts", flat=True).distinct()})
        old.delete()
        return dropped

    def days(self) -> list[date]:
        return sorted({utc_day(ts) for ts in UsageRecord.objects.values_list("ts", flat=True)})


def _key(service_id: int, parameter: str, ts: datetime, event_id: str | None) -> tuple[object, ...]:
    return (service_id, "e", event_id, ts) if event_id is not None else (service_id, parameter, ts)


def _fold_into_parameter_daily(stats: dict[tuple[int, str, date], _Stats]) -> None:
    """Add new records' statistics to the stored ``ParameterDaily`` rows (ORM path)."""
    if not stats:
        return
    by_day: dict[date, set[int]] = defaultdict(set)
    for service_id, _parameter, day in stats:
        by_day[day].add(service_id)
    condition = Q()
    for day, service_ids in by_day.items():
        condition |= Q(day=day, service_id__in=service_ids)
    for row in ParameterDaily.objects.filter(condition):
        key = (row.service_id, row.parameter, row.day)
        if key in stats:
            stored = _Stats(row.total, row.count, row.maximum, row.last_ts, row.last_value)
            stored.merge(stats[key])
            stats[key] = stored
    ParameterDaily.objects.bulk_create(
        [
            ParameterDaily(
                service_id=s,
                parameter=p,
                day=d,
                total=st.total,
                count=st.count,
                maximum=st.maximum,
                last_ts=st.last_ts,
                last_value=st.last_value,
            )
            for (s, p, d), st in stats.items()
        ],
        update_conflicts=True,
        unique_fields=["service_id", "parameter", "day"],
        update_fields=["total", "count", "maximum", "last_ts", "last_value"],
        batch_size=500,
    )


class PostgresStorage:
    """One partition per UTC day. A batch is split by what ``ParameterDaily`` says:

    - records without an event id stamped after the latest stored one of their parameter and
      day (the usual case: agents send in time order) cannot be stored yet: they are COPYed
      straight into the raw table, their statistics added up here and folded into
      ``ParameterDaily`` with one upsert of a row per (service, parameter, day);
    - the rest (event ids, older timestamps, re-sent batches) go through the staging table and
      ``insert_new_sql``, which skips what is stored (``ON CONFLICT DO NOTHING``).

    Safe because the caller holds the services' bucket locks (``lock_services``): no other batch
    of these services writes meanwhile; the unique indexes still guard.
    """

    def insert_new(self, records: Sequence[RecordIn], received_at: datetime) -> Inserted:
        if not records:
            return Inserted(0, frozenset())
        conn = rows.connection_for(UsageRecord)
        latest = self._latest(conn, {(r.service_id, r.parameter, r.ts.date()) for r in records})
        stamp = received_at.isoformat()
        fresh, checked = io.StringIO(), io.StringIO()
        stats: dict[tuple[int, str, date], _Stats] = {}
        seen: set[tuple[object, ...]] = set()
        for r in records:
            # The first of a batch's records with one key wins (as in PlainStorage).
            key = (
                (r.service_id, r.parameter, r.ts)
                if r.event_id is None
                else (r.service_id, 0, r.event_id, r.ts)
            )
            if key in seen:
                continue
            seen.add(key)
            day_key = (r.service_id, r.parameter, r.ts.date())
            last = latest.get(day_key)
            # Parameters and event ids are validated to characters COPY takes as they are.
            if r.event_id is None and (last is None or r.ts > last):
                fresh.write(
                    f"{r.service_id}\t{r.parameter}\t{r.ts.isoformat()}\t{r.value}\t\\N\t{stamp}\n"
                )
                day_stats = stats.get(day_key)
                if day_stats is None:
                    stats[day_key] = _Stats(r.value, 1, r.value, r.ts, r.value)
                else:
                    day_stats.add(r.value, r.ts)
            else:
                event = r.event_id if r.event_id is not None else "\\N"
                checked.write(
                    f"{r.service_id}\t{r.parameter}\t{r.ts.isoformat()}\t{r.value}\t{event}\n"
                )
        new = 0
        touched: set[tuple[int, str, date]] = set()
        with conn.cursor() as cursor:
            if stats:
                with cursor.cursor.copy(sql.raw_copy_sql(conn)) as copy:
                    copy.write(fresh.getvalue())
                new += sum(st.count for st in stats.values())
                columns: tuple[list[Any], ...] = ([], [], [], [], [], [], [], [])
                for (service_id, parameter, day), st in stats.items():
                    values = (
                        service_id,
                        parameter,
                        day,
                        st.total,
                        st.count,
                        st.maximum,
                        st.last_ts,
                        st.last_value,
                    )
                    for column, value in zip(columns, values, strict=True):
                        column.append(value)
                cursor.execute(sql.fold_stats_sql(conn), list(columns))
                touched.update(stats)
            if checked.tell():
                cursor.execute(sql.stage_create_sql(conn))
                cursor.execute(sql.stage_clear_sql(conn))
                with cursor.cursor.copy(sql.stage_copy_sql(conn)) as copy:
                    copy.write(checked.getvalue())
                cursor.execute(sql.insert_new_sql(conn), [received_at])
                result = cursor.fetchall()
                new += int(result[0][3]) if result else 0
                touched.update((s, p, d) for s, p, d, _n in result)
        return Inserted(new, frozenset(touched))

    @staticmethod
    def _latest(
        conn: Any, keys: set[tuple[int, str, date]]
    ) -> dict[tuple[int, str, date], datetime]:
        """``ParameterDaily.last_ts`` of the keys that have a row."""
        columns: tuple[list[Any], ...] = ([], [], [])
        for key in keys:
            for column, value in zip(columns, key, strict=True):
                column.append(value)
        with conn.cursor() as cursor:
            cursor.execute(sql.latest_ts_sql(conn), list(columns))
            return {(s, p, d): ts for s, p, d, ts in cursor.fetchall()}

    def lock_services(self, service_ids: set[int]) -> None:
        """Serialize concurrent batches that touch the same services (bucketed locks, in order)."""
        conn = rows.connection_for(UsageRecord)
        buckets = sorted({s % sql.LOCK_BUCKETS for s in service_ids})
        with conn.cursor() as cursor:
            cursor.execute(sql.lock_buckets_sql(conn), [sql.LOCK_CLASS, buckets])

    def ensure_days(self, days: set[date]) -> None:
        # Read every time, never cached: a partition created in a transaction that rolled back
        # (or dropped by another process) must not be taken as existing.
        missing = days - set(self.days())
        conn = rows.connection_for(UsageRecord)
        for day in sorted(missing):
            try:
                # A savepoint: another worker creating the same partition at the same moment
                # makes ours fail (IF NOT EXISTS does not cover a race), which is fine.
                with transaction.atomic(using=conn.alias), conn.cursor() as cursor:
                    cursor.execute(sql.create_partition_sql(conn, day))
            except (IntegrityError, ProgrammingError):
                if day not in self.days():
                    raise

    def drop_before(self, day: date) -> list[date]:
        conn = rows.connection_for(UsageRecord)
        dropped = [d for d in self.days() if d < day]
        with conn.cursor() as cursor:
            for old in dropped:
                cursor.execute(sql.drop_partition_sql(conn, old))
        return dropped

    def days(self) -> list[date]:
        conn = rows.connection_for(UsageRecord)
        with conn.cursor() as cursor:
            cursor.execute(sql.list_partitions_sql(conn), [UsageRecord._meta.db_table])
            names = [name for (name,) in cursor.fetchall()]
        return sorted(d for d in map(sql.partition_day, names) if d is not None)


def get_storage() -> UsageStorage:
    """The storage of the database the raw table lives in (one instance per process)."""
    conn = rows.connection_for(UsageRecord)
    known = _STORAGES.get(conn.alias)
    if known is None:
        known = _STORAGES[conn.alias] = (
            PostgresStorage() if conn.vendor == "postgresql" else PlainStorage()
        )
    return known


_STORAGES: dict[str, UsageStorage] = {}


def days_between(first: date, last: date) -> set[date]:
    return {first + timedelta(days=n) for n in range((last - first).days + 1)}


@dataclass(frozen=True, slots=True)
class Rebuilt:
    """What a rebuild wrote: the count of (service, parameter, day) keys, their services, and
    the keys themselves on the ORM path (PostgreSQL rolls the meters up in SQL: no keys)."""

    keys: int
    service_ids: frozenset[int]
    touched: frozenset[tuple[int, str, date]] | None


def rebuild_parameter_daily(first: date, end: date) -> Rebuilt:
    """Recompute ``ParameterDaily`` of the days ``[first, end)`` from the raw records still
    stored (repair, or a meter's new parameters)."""
    start = datetime(first.year, first.month, first.day, tzinfo=UTC)
    stop = datetime(end.year, end.month, end.day, tzinfo=UTC)
    ParameterDaily.objects.filter(day__gte=first, day__lt=end).delete()
    conn = rows.connection_for(UsageRecord)
    if conn.vendor == "postgresql":
        with conn.cursor() as cursor:
            cursor.execute(sql.rebuild_memory_sql(conn))
            cursor.execute(sql.rebuild_drop_sql(conn))
            cursor.execute(sql.rebuild_group_sql(conn), [start, stop])
            cursor.execute(sql.rebuild_parameter_daily_sql(conn))
            count, service_ids = cursor.fetchone()
            cursor.execute(sql.rebuild_drop_sql(conn))
        return Rebuilt(int(count), frozenset(service_ids), None)
    stats: dict[tuple[int, str, date], _Stats] = {}
    for s, p, ts, value in (
        UsageRecord.objects.filter(ts__gte=start, ts__lt=stop)
        .values_list("service_id", "parameter", "ts", "value")
        .iterator(chunk_size=10_000)
    ):
        key = (s, p, utc_day(ts))
        if key in stats:
            stats[key].add(value, ts)
        else:
            stats[key] = _Stats(value, 1, value, ts, value)
    _fold_into_parameter_daily(stats)
    return Rebuilt(len(stats), frozenset(s for s, _p, _d in stats), frozenset(stats))
