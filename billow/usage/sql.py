"""Hand-written SQL of the usage app (PostgreSQL; the SQLite path is the ORM in ``storage``).

Each builder is in the SQL test matrix (tests/sql/test_usage_sql.py), which compares what the
statements store with the ORM path (``storage.PlainStorage``) on the same rows.

- the per-connection staging table and its COPY: a batch of parsed records goes in by COPY;
- ``insert_new_sql``: one statement moves the batch into the partitioned raw table (duplicates
  skipped by ``ON CONFLICT DO NOTHING`` on the two idempotency indexes) and folds only the rows
  that were new into ``ParameterDaily`` (an upsert adding sums and counts, keeping the maximum
  and the latest value): the rollup is incremental by construction;
- ``lock_buckets_sql``: transaction advisory locks on service buckets (``service_id % 64``),
  taken in order, so two concurrent batches of one service serialize their meter rollups;
- partition DDL: one partition per UTC day, listed from ``pg_inherits``, dropped by retention.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.db.backends.base.base import BaseDatabaseWrapper

from billow.core import rows
from billow.usage.models import (
    ParameterDaily,
    RerateMark,
    UsageDaily,
    UsageMonthly,
    UsageRecord,
)

STAGE_TABLE = "usage_stage"
#: The advisory lock class of usage rollups (``pg_advisory_xact_lock(class, bucket)``).
LOCK_CLASS = 1_402_014
LOCK_BUCKETS = 64
PARTITION_PREFIX = "usage_usagerecord_p"


@rows.per_vendor
def stage_create_sql(conn: BaseDatabaseWrapper) -> str:
    """The session's staging table, emptied at every commit."""
    stage = conn.ops.quote_name(STAGE_TABLE)
    return (
        f"CREATE TEMPORARY TABLE IF NOT EXISTS {stage} (service_id bigint NOT NULL, "
        "parameter varchar(64) NOT NULL, ts timestamptz NOT NULL, value numeric(24, 6) NOT NULL, "
        "event_id varchar(128) NULL) ON COMMIT DELETE ROWS"
    )


@rows.per_vendor
def stage_clear_sql(conn: BaseDatabaseWrapper) -> str:
    """Empty the staging table (a test's transaction never commits, so ON COMMIT is not enough)."""
    return f"TRUNCATE {conn.ops.quote_name(STAGE_TABLE)}"


@rows.per_vendor
def stage_copy_sql(conn: BaseDatabaseWrapper) -> str:
    stage = conn.ops.quote_name(STAGE_TABLE)
    return f"COPY {stage} (service_id, parameter, ts, value, event_id) FROM STDIN"


@rows.per_vendor
def insert_new_sql(conn: BaseDatabaseWrapper) -> str:
    """Stage → raw table (new rows only) → ``ParameterDaily``. Parameter: ``received_at``.
    Returns one row per touched (service, parameter, day) with the count of new raw rows."""
    stage = conn.ops.quote_name(STAGE_TABLE)
    raw = rows.table(UsageRecord, conn)
    raw_cols = rows.columns(
        UsageRecord, ["service_id", "parameter", "ts", "value", "event_id", "received_at"], conn
    )
    pd = rows.table(ParameterDaily, conn)
    pd_cols = rows.columns(
        ParameterDaily,
        ["service_id", "parameter", "day", "total", "count", "maximum", "last_ts", "last_value"],
        conn,
    )
    return f"""
        WITH new AS (
            INSERT INTO {raw} ({raw_cols})
            SELECT service_id, parameter, ts, value, event_id, %s FROM {stage}
            ON CONFLICT DO NOTHING
            RETURNING service_id, parameter, ts, value
        ), folded AS (
            INSERT INTO {pd} AS pd ({pd_cols})
            SELECT service_id, parameter, (ts AT TIME ZONE 'UTC')::date, sum(value), count(*),
                   max(value), max(ts), (array_agg(value ORDER BY ts DESC, value DESC))[1]
            FROM new
            GROUP BY service_id, parameter, (ts AT TIME ZONE 'UTC')::date
            ON CONFLICT (service_id, parameter, day) DO UPDATE SET
                total = pd.total + EXCLUDED.total,
                count = pd.count + EXCLUDED.count,
                maximum = GREATEST(pd.maximum, EXCLUDED.maximum),
                last_value = CASE
                    WHEN EXCLUDED.last_ts > pd.last_ts THEN EXCLUDED.last_value
                    WHEN EXCLUDED.last_ts = pd.last_ts
                        THEN GREATEST(pd.last_value, EXCLUDED.last_value)
                    ELSE pd.last_value END,
                last_ts = GREATEST(pd.last_ts, EXCLUDED.last_ts)
            RETURNING service_id, parameter, day
        )
        SELECT service_id, parameter, day, (SELECT count(*) FROM new) FROM folded
    """  # noqa: S608 (quoted names)


@rows.per_vendor
def lock_buckets_sql(conn: BaseDatabaseWrapper) -> str:
    """Advisory locks on the given bucket numbers (an ascending int array), in order."""
    return (
        "SELECT count(pg_advisory_xact_lock(%s, bucket)) FROM "
        "(SELECT bucket FROM unnest(%s::int[]) AS bucket ORDER BY bucket) AS ordered"
    )


@rows.per_vendor
def list_partitions_sql(conn: BaseDatabaseWrapper) -> str:
    return (
        "SELECT child.relname FROM pg_inherits "
        "JOIN pg_class parent ON parent.oid = pg_inherits.inhparent "
        "JOIN pg_class child ON child.oid = pg_inherits.inhrelid "
        "WHERE parent.relname = %s AND parent.relnamespace = child.relnamespace "
        "AND pg_table_is_visible(parent.oid)"
    )


def partition_name(day: date) -> str:
    return f"{PARTITION_PREFIX}{day:%Y%m%d}"


def partition_day(name: str) -> date | None:
    """The day of a partition named by ``partition_name`` (None for another name)."""
    if not name.startswith(PARTITION_PREFIX):
        return None
    digits = name[len(PARTITION_PREFIX) :]
    if len(digits) != 8 or not digits.isdigit():
        return None
    return date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))


@rows.hand_written
def create_partition_sql(conn: BaseDatabaseWrapper, day: date) -> str:
    """DDL of the partition holding ``[day 00:00 UTC, next day 00:00 UTC)`` (dates only are
    interpolated: DDL takes no parameters)."""
    raw = rows.table(UsageRecord, conn)
    name = conn.ops.quote_name(partition_name(day))
    upper = day + timedelta(days=1)
    return (
        f"CREATE TABLE IF NOT EXISTS {name} PARTITION OF {raw} FOR VALUES "
        f"FROM ('{day.isoformat()} 00:00:00+00') TO ('{upper.isoformat()} 00:00:00+00')"
    )


@rows.hand_written
def drop_partition_sql(conn: BaseDatabaseWrapper, day: date) -> str:
    return f"DROP TABLE IF EXISTS {conn.ops.quote_name(partition_name(day))}"


@rows.per_vendor
def rebuild_parameter_daily_sql(conn: BaseDatabaseWrapper) -> str:
    """``ParameterDaily`` of ``[%s, %s)`` (UTC timestamps) recomputed from the raw rows in one
    GROUP BY (after the caller deleted that range's rows). Returns the written keys."""
    raw = rows.table(UsageRecord, conn)
    pd = rows.table(ParameterDaily, conn)
    pd_cols = rows.columns(
        ParameterDaily,
        ["service_id", "parameter", "day", "total", "count", "maximum", "last_ts", "last_value"],
        conn,
    )
    return f"""
        INSERT INTO {pd} ({pd_cols})
        SELECT service_id, parameter, (ts AT TIME ZONE 'UTC')::date, sum(value), count(*),
               max(value), max(ts), (array_agg(value ORDER BY ts DESC, value DESC))[1]
        FROM {raw} WHERE ts >= %s AND ts < %s
        GROUP BY service_id, parameter, (ts AT TIME ZONE 'UTC')::date
        RETURNING service_id, parameter, day
    """  # noqa: S608 (quoted names)


@rows.per_vendor
def meter_daily_sql(conn: BaseDatabaseWrapper) -> str:
    """``UsageDaily`` of the wanted (service, meter, day) triples from their ``ParameterDaily``
    rows: each parameter's value by the aggregation (average rounded to 6 places, half away
    from zero as ``rollups.parameter_value``), combined by sum or max. Parameters: the triples
    (three arrays), the meters' (meter, parameter, aggregation, combine) rows (four arrays),
    ``updated_at``; then ``marked_at`` and the first day not marked for re-rating (days before
    it that changed get a ``RerateMark``)."""
    pd = rows.table(ParameterDaily, conn)
    daily = rows.table(UsageDaily, conn)
    marks = rows.table(RerateMark, conn)
    return f"""
        WITH wanted AS (
            SELECT * FROM unnest(%s::bigint[], %s::bigint[], %s::date[])
                AS w(service_id, meter_id, day)
        ), meter AS (
            SELECT * FROM unnest(%s::bigint[], %s::text[], %s::text[], %s::text[])
                AS m(meter_id, parameter, aggregation, combine)
        ), value AS (
            SELECT w.service_id, w.meter_id, w.day, m.combine,
                   CASE m.aggregation
                       WHEN 'max' THEN pd.maximum
                       WHEN 'last' THEN pd.last_value
                       WHEN 'avg' THEN round(pd.total / pd.count, 6)
                       ELSE pd.total END AS v
            FROM wanted w
            JOIN meter m ON m.meter_id = w.meter_id
            JOIN {pd} pd ON pd.service_id = w.service_id AND pd.day = w.day
                AND pd.parameter = m.parameter
        ), written AS (
            INSERT INTO {daily} AS d (service_id, meter_id, day, value, updated_at)
            SELECT service_id, meter_id, day,
                   CASE WHEN min(combine) = 'max' THEN max(v) ELSE sum(v) END, %s
            FROM value GROUP BY service_id, meter_id, day
            ON CONFLICT (service_id, meter_id, day) DO UPDATE
                SET value = EXCLUDED.value, updated_at = EXCLUDED.updated_at
            RETURNING service_id, meter_id, day
        ), marked AS (
            INSERT INTO {marks} (service_id, meter_id, day, marked_at)
            SELECT service_id, meter_id, day, %s FROM written WHERE day < %s
            ON CONFLICT (service_id, meter_id, day) DO NOTHING
        )
        SELECT service_id, meter_id, day FROM written
    """  # noqa: S608 (quoted names)


@rows.per_vendor
def meter_monthly_sql(conn: BaseDatabaseWrapper) -> str:
    """``UsageMonthly`` of the wanted (service, meter, month) triples from their months' daily
    rows, by the aggregation (sum, max, average of the days rounded to 6 places, the last day's
    value). Parameters: the triples (three arrays), the meters' (meter, aggregation) (two
    arrays), ``updated_at``."""
    daily = rows.table(UsageDaily, conn)
    monthly = rows.table(UsageMonthly, conn)
    return f"""
        WITH wanted AS (
            SELECT * FROM unnest(%s::bigint[], %s::bigint[], %s::date[])
                AS w(service_id, meter_id, month)
        ), meter AS (
            SELECT * FROM unnest(%s::bigint[], %s::text[]) AS m(meter_id, aggregation)
        )
        INSERT INTO {monthly} AS mo (service_id, meter_id, month, value, days, updated_at)
        SELECT w.service_id, w.meter_id, w.month,
               CASE min(m.aggregation)
                   WHEN 'max' THEN max(d.value)
                   WHEN 'last' THEN (array_agg(d.value ORDER BY d.day DESC))[1]
                   WHEN 'avg' THEN round(avg(d.value), 6)
                   ELSE sum(d.value) END,
               count(*), %s
        FROM wanted w
        JOIN meter m ON m.meter_id = w.meter_id
        JOIN {daily} d ON d.service_id = w.service_id AND d.meter_id = w.meter_id
            AND d.day >= w.month AND d.day < (w.month + interval '1 month')::date
        GROUP BY w.service_id, w.meter_id, w.month
        ON CONFLICT (service_id, meter_id, month) DO UPDATE
            SET value = EXCLUDED.value, days = EXCLUDED.days, updated_at = EXCLUDED.updated_at
    """  # noqa: S608 (quoted names)
