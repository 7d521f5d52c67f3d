"""Hand-written SQL of the usage app (PostgreSQL; the SQLite path is the ORM in ``storage``).

Each builder is in the SQL test matrix (tests/sql/test_usage_sql.py), which compares what the
statements store with the ORM path (``storage.PlainStorage``) on the same rows.

- records known to be new (stamped after the latest stored of their parameter and day:
  ``latest_ts_sql``) are COPYed straight into the partitioned raw table (``raw_copy_sql``) and
  their statistics, added up in Python, folded into ``ParameterDaily`` (``fold_stats_sql``);
- the others go by COPY into the per-connection staging table, and ``insert_new_sql`` moves
  them into the raw table (duplicates skipped by ``ON CONFLICT DO NOTHING`` on the two
  idempotency indexes) and folds only the rows that were new into ``ParameterDaily`` (an upsert
  adding sums and counts, keeping the maximum and the latest value): the rollup is
  incremental by construction;
- ``meter_daily_sql`` / ``meter_monthly_sql``: the meters' rollups of the touched keys;
- ``rebuild_group_sql`` / ``rebuild_parameter_daily_sql``: a range's statistics again from the
  raw rows (a parallel ``CREATE TABLE AS``, then one insert);
- ``bulk_*``: the bulk upload's SQL path (``usage.bulk``): upload lines COPYed as text into a
  staging table, then typed, checked (service, window, value cap), stored and folded in one
  statement that also returns the per-line errors;
- ``lock_buckets_sql``: transaction advisory locks on service buckets (``service_id % 64``),
  taken in order, so two concurrent batches of one service serialize their meter rollups;
- partition DDL: one partition per UTC day, listed from ``pg_inherits``, dropped by retention.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.db.backends.base.base import BaseDatabaseWrapper

from billow.core import rows
from billow.services.selectors import service_table
from billow.usage.models import (
    ParameterDaily,
    RerateMark,
    UsageDaily,
    UsageMonthly,
    UsageRecord,
)
from billow.usage.parsing import MAX_VALUE

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


#: The value of the latest record (ties: the larger value) without sorting: the maximum of
#: ``epoch microseconds * 10^21 + value * 10^6`` (values are below 10^15 with 6 decimals, so
#: the low 21 digits hold the value exactly), an ordinary parallel-safe ``max``.
_LAST_VALUE = (
    "mod(max((extract(epoch FROM ts) * 1000000) * 1000000000000000000000 + value * 1000000), "
    "1000000000000000000000) / 1000000"
)

#: How stored daily statistics and new ones merge (the ``pd`` row and ``EXCLUDED``); equal
#: ``last_ts`` keeps the larger value, as ``storage._Stats`` does.
_MERGE = """
    total = pd.total + EXCLUDED.total,
    count = pd.count + EXCLUDED.count,
    maximum = GREATEST(pd.maximum, EXCLUDED.maximum),
    last_value = CASE
        WHEN EXCLUDED.last_ts > pd.last_ts THEN EXCLUDED.last_value
        WHEN EXCLUDED.last_ts = pd.last_ts THEN GREATEST(pd.last_value, EXCLUDED.last_value)
        ELSE pd.last_value END,
    last_ts = GREATEST(pd.last_ts, EXCLUDED.last_ts)
"""


@rows.per_vendor
def insert_new_sql(conn: BaseDatabaseWrapper) -> str:
    """Stage → raw table (new rows only) → ``ParameterDaily``. Parameter: ``received_at``.
    Returns one row per touched (service, parameter, day) with the count of new raw rows.
    The stage holds no duplicate keys (``storage`` drops them while it writes the COPY)."""
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
                   max(value), max(ts), {_LAST_VALUE}
            FROM new
            GROUP BY service_id, parameter, (ts AT TIME ZONE 'UTC')::date
            ON CONFLICT (service_id, parameter, day) DO UPDATE SET {_MERGE}
            RETURNING service_id, parameter, day
        )
        SELECT service_id, parameter, day, (SELECT count(*) FROM new) FROM folded
    """  # noqa: S608 (quoted names)


@rows.per_vendor
def raw_copy_sql(conn: BaseDatabaseWrapper) -> str:
    """COPY straight into the partitioned raw table (records known to be new)."""
    raw = rows.table(UsageRecord, conn)
    cols = rows.columns(
        UsageRecord, ["service_id", "parameter", "ts", "value", "event_id", "received_at"], conn
    )
    return f"COPY {raw} ({cols}) FROM STDIN"


@rows.per_vendor
def latest_ts_sql(conn: BaseDatabaseWrapper) -> str:
    """``last_ts`` of the ``ParameterDaily`` rows of the given (service, parameter, day) keys
    (three arrays)."""
    pd = rows.table(ParameterDaily, conn)
    return f"""
        SELECT pd.service_id, pd.parameter, pd.day, pd.last_ts
        FROM unnest(%s::bigint[], %s::text[], %s::date[]) AS k(service_id, parameter, day)
        JOIN {pd} pd ON pd.service_id = k.service_id AND pd.parameter = k.parameter
            AND pd.day = k.day
    """  # noqa: S608 (quoted names)


@rows.per_vendor
def fold_stats_sql(conn: BaseDatabaseWrapper) -> str:
    """Add per-day statistics computed by the caller (eight arrays: service, parameter, day,
    total, count, maximum, last_ts, last_value) to ``ParameterDaily``, merging as
    ``insert_new_sql`` does."""
    pd = rows.table(ParameterDaily, conn)
    pd_cols = rows.columns(
        ParameterDaily,
        ["service_id", "parameter", "day", "total", "count", "maximum", "last_ts", "last_value"],
        conn,
    )
    return f"""
        INSERT INTO {pd} AS pd ({pd_cols})
        SELECT * FROM unnest(
            %s::bigint[], %s::text[], %s::date[], %s::numeric[], %s::bigint[], %s::numeric[],
            %s::timestamptz[], %s::numeric[]
        )
        ON CONFLICT (service_id, parameter, day) DO UPDATE SET {_MERGE}
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


REBUILD_TABLE = "usage_rebuild"


@rows.per_vendor
def rebuild_group_sql(conn: BaseDatabaseWrapper) -> str:
    """``ParameterDaily`` rows of ``[%s, %s)`` (UTC timestamps) grouped from the raw rows into
    the temporary table ``usage_rebuild`` (dropped at commit). ``CREATE TABLE AS`` may run as a
    parallel query (workers scan the day partitions and aggregate partially), which an
    ``INSERT ... SELECT`` never does: this is the month rebuild's heavy part."""
    raw = rows.table(UsageRecord, conn)
    table = conn.ops.quote_name(REBUILD_TABLE)
    return f"""
        CREATE TEMPORARY TABLE {table} ON COMMIT DROP AS
        SELECT service_id, parameter, (ts AT TIME ZONE 'UTC')::date AS day, sum(value) AS total,
               count(*) AS count, max(value) AS maximum, max(ts) AS last_ts,
               {_LAST_VALUE} AS last_value
        FROM {raw} WHERE ts >= %s AND ts < %s
        GROUP BY service_id, parameter, (ts AT TIME ZONE 'UTC')::date
    """  # noqa: S608 (quoted names)


@rows.per_vendor
def rebuild_memory_sql(conn: BaseDatabaseWrapper) -> str:
    """Room for the rebuild's grouping to hash in memory (the transaction only): a month's
    keys (services x parameters x days) fit, where the default 4 MB makes it sort 10M rows."""
    return "SET LOCAL work_mem = '128MB'"


@rows.per_vendor
def rebuild_drop_sql(conn: BaseDatabaseWrapper) -> str:
    """Drop the rebuild's table (a second rebuild in one transaction: tests)."""
    return f"DROP TABLE IF EXISTS {conn.ops.quote_name(REBUILD_TABLE)}"


@rows.per_vendor
def rebuild_parameter_daily_sql(conn: BaseDatabaseWrapper) -> str:
    """Write the grouped rows of ``usage_rebuild`` into ``ParameterDaily`` (after the caller
    deleted that range's rows). Returns the count of rows and the services they are of."""
    table = conn.ops.quote_name(REBUILD_TABLE)
    pd = rows.table(ParameterDaily, conn)
    pd_cols = rows.columns(
        ParameterDaily,
        ["service_id", "parameter", "day", "total", "count", "maximum", "last_ts", "last_value"],
        conn,
    )
    return f"""
        WITH written AS (
            INSERT INTO {pd} ({pd_cols})
            SELECT service_id, parameter, day, total, count, maximum, last_ts, last_value
            FROM {table}
            RETURNING service_id
        )
        SELECT count(*), coalesce(array_agg(DISTINCT service_id), '{{}}') FROM written
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


@rows.per_vendor
def rebuild_daily_sql(conn: BaseDatabaseWrapper) -> str:
    """``UsageDaily`` of every service and meter over ``[%s, %s)`` (days) from that range's
    ``ParameterDaily``, as ``meter_daily_sql`` computes one key. Parameters: the days, the
    services' tariffs (two arrays), the tariffs' meters (tariff, meter, parameter, aggregation,
    combine: five arrays), ``updated_at``."""
    pd = rows.table(ParameterDaily, conn)
    daily = rows.table(UsageDaily, conn)
    return f"""
        WITH service AS (
            SELECT * FROM unnest(%s::bigint[], %s::bigint[]) AS s(service_id, tariff_id)
        ), meter AS (
            SELECT * FROM unnest(%s::bigint[], %s::bigint[], %s::text[], %s::text[], %s::text[])
                AS m(tariff_id, meter_id, parameter, aggregation, combine)
        ), value AS (
            SELECT pd.service_id, m.meter_id, pd.day, m.combine,
                   CASE m.aggregation
                       WHEN 'max' THEN pd.maximum
                       WHEN 'last' THEN pd.last_value
                       WHEN 'avg' THEN round(pd.total / pd.count, 6)
                       ELSE pd.total END AS v
            FROM {pd} pd
            JOIN service s ON s.service_id = pd.service_id
            JOIN meter m ON m.tariff_id = s.tariff_id AND m.parameter = pd.parameter
            WHERE pd.day >= %s AND pd.day < %s
        )
        INSERT INTO {daily} AS d (service_id, meter_id, day, value, updated_at)
        SELECT service_id, meter_id, day,
               CASE WHEN min(combine) = 'max' THEN max(v) ELSE sum(v) END, %s
        FROM value GROUP BY service_id, meter_id, day
        ON CONFLICT (service_id, meter_id, day) DO UPDATE
            SET value = EXCLUDED.value, updated_at = EXCLUDED.updated_at
    """  # noqa: S608 (quoted names)


@rows.per_vendor
def rebuild_monthly_sql(conn: BaseDatabaseWrapper) -> str:
    """``UsageMonthly`` of every service and meter of the month starting ``%s`` from its daily
    rows (as ``meter_monthly_sql``). Parameters: the month's first day, ``updated_at``, the
    meters' (meter, aggregation) (two arrays), the month's first day and the next month's."""
    daily = rows.table(UsageDaily, conn)
    monthly = rows.table(UsageMonthly, conn)
    return f"""
        INSERT INTO {monthly} AS mo (service_id, meter_id, month, value, days, updated_at)
        SELECT d.service_id, d.meter_id, %s::date,
               CASE min(m.aggregation)
                   WHEN 'max' THEN max(d.value)
                   WHEN 'last' THEN (array_agg(d.value ORDER BY d.day DESC))[1]
                   WHEN 'avg' THEN round(avg(d.value), 6)
                   ELSE sum(d.value) END,
               count(*), %s
        FROM {daily} d
        JOIN unnest(%s::bigint[], %s::text[]) AS m(meter_id, aggregation)
            ON m.meter_id = d.meter_id
        WHERE d.day >= %s AND d.day < %s
        GROUP BY d.service_id, d.meter_id
        ON CONFLICT (service_id, meter_id, month) DO UPDATE
            SET value = EXCLUDED.value, days = EXCLUDED.days, updated_at = EXCLUDED.updated_at
    """  # noqa: S608 (quoted names)


# --- the bulk upload's SQL path (``usage.bulk``) -----------------------------------------------

BULK_STAGE_TABLE = "usage_bulk_stage"
#: Values from here on are refused: the Python parser's cap, so both paths refuse the same.
BULK_MAX_VALUE = int(MAX_VALUE)


@rows.per_vendor
def bulk_stage_create_sql(conn: BaseDatabaseWrapper) -> str:
    """The session's staging table of upload lines as text, numbered in COPY order."""
    stage = conn.ops.quote_name(BULK_STAGE_TABLE)
    return (
        f"CREATE TEMPORARY TABLE IF NOT EXISTS {stage} ("
        "line bigint GENERATED ALWAYS AS IDENTITY, service text NOT NULL, "
        "parameter text NOT NULL, ts text NOT NULL, value text NOT NULL, "
        "event_id text NOT NULL) ON COMMIT DELETE ROWS"
    )


@rows.per_vendor
def bulk_stage_clear_sql(conn: BaseDatabaseWrapper) -> str:
    """Empty the staging table and number its lines from 1 again."""
    return f"TRUNCATE {conn.ops.quote_name(BULK_STAGE_TABLE)} RESTART IDENTITY"


@rows.per_vendor
def bulk_stage_copy_sql(conn: BaseDatabaseWrapper) -> str:
    stage = conn.ops.quote_name(BULK_STAGE_TABLE)
    return f"COPY {stage} (service, parameter, ts, value, event_id) FROM STDIN"


@rows.per_vendor
def bulk_lock_sql(conn: BaseDatabaseWrapper) -> str:
    """The bucket locks (as ``lock_buckets_sql``) of the staged lines' services. Parameters:
    the lock class, the bucket count."""
    stage = conn.ops.quote_name(BULK_STAGE_TABLE)
    return f"""
        SELECT count(pg_advisory_xact_lock(%s, bucket)) FROM (
            SELECT DISTINCT (service::bigint %% %s)::int AS bucket FROM {stage}
            WHERE service <> '' ORDER BY bucket
        ) AS ordered
    """  # noqa: S608 (quoted names)


@rows.per_vendor
def bulk_ingest_sql(conn: BaseDatabaseWrapper) -> str:
    """The staged lines checked, stored and folded in one statement.

    Each staged line (``service`` '' marks a line the caller already refused or skipped) is
    typed (``ts``: Unix seconds or ISO 8601 with an offset), then checked as ``ingest._Batcher``
    checks a record, in the same order: a value of 10^15 or more (``bad_record``), no such
    service or not the module instance's, a deleted service, before the late window, after
    the allowed skew. The rest go into the raw table in line order (``ON CONFLICT DO
    NOTHING``: the first of a key wins, stored keys are skipped) and the new rows are folded
    into ``ParameterDaily`` as ``insert_new_sql`` does.

    Parameters: the line-number offset, the module instance (twice; NULL: any), the deleted
    status, the window's first and last instant, ``received_at``. Rows: ``('t', service,
    parameter, day, NULL)`` per touched key, ``('e', service, code, NULL, line)`` per refused
    line, ``('n', ..., count of new rows)`` and ``('r', ..., count of staged lines)``.
    """
    stage = conn.ops.quote_name(BULK_STAGE_TABLE)
    services = conn.ops.quote_name(service_table())
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
        WITH staged AS (
            SELECT line + %s::bigint AS line, service::bigint AS service_id, parameter,
                   CASE WHEN strpos(ts, '-') = 0 THEN to_timestamp(ts::bigint)
                        ELSE ts::timestamptz END AS ts,
                   value::numeric AS value, nullif(event_id, '') AS event_id
            FROM {stage} WHERE service <> ''
        ), checked AS (
            SELECT st.line, st.service_id, st.parameter, st.ts, st.value, st.event_id,
                   CASE
                       WHEN st.value >= {BULK_MAX_VALUE} THEN 'bad_record'
                       WHEN sv.id IS NULL OR (%s::bigint IS NOT NULL
                           AND sv.module_instance_id IS DISTINCT FROM %s::bigint)
                           THEN 'unknown_service'
                       WHEN sv.status = %s::text THEN 'service_deleted'
                       WHEN st.ts < %s::timestamptz THEN 'too_late'
                       WHEN st.ts > %s::timestamptz THEN 'in_future'
                   END AS code
            FROM staged st LEFT JOIN {services} sv ON sv.id = st.service_id
        ), new AS (
            INSERT INTO {raw} ({raw_cols})
            SELECT service_id, parameter, ts, value, event_id, %s::timestamptz
            FROM checked WHERE code IS NULL ORDER BY line
            ON CONFLICT DO NOTHING
            RETURNING service_id, parameter, ts, value
        ), folded AS (
            INSERT INTO {pd} AS pd ({pd_cols})
            SELECT service_id, parameter, (ts AT TIME ZONE 'UTC')::date, sum(value), count(*),
                   max(value), max(ts), {_LAST_VALUE}
            FROM new
            GROUP BY service_id, parameter, (ts AT TIME ZONE 'UTC')::date
            ON CONFLICT (service_id, parameter, day) DO UPDATE SET {_MERGE}
            RETURNING service_id, parameter, day
        )
        SELECT 't', service_id, parameter, day, NULL::bigint FROM folded
        UNION ALL
        SELECT 'e', service_id, code, NULL, line FROM checked WHERE code IS NOT NULL
        UNION ALL
        SELECT 'n', NULL, NULL, NULL, count(*) FROM new
        UNION ALL
        SELECT 'r', NULL, NULL, NULL, count(*) FROM staged
    """  # noqa: S608 (quoted names)
