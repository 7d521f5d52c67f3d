"""The referral job's hand-written SQL, kept because ``bench/referral_payout.py`` needs it:
the referral charges and accruals of a day (thousands of rows) by COPY on PostgreSQL and
executemany on SQLite (the ORM's ``bulk_create`` costs several times the insert itself).

Names are quoted and the connection is the router's (``billow.core.rows``); tests/sql runs
both against their ORM equivalents. A charge's id is billing's expense id, so neither table
needs its ids back.
"""

from __future__ import annotations

from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Model

from billow.core import rows
from billow.marketing.referrals.models import ReferralAccrual, ReferralCharge

CHARGE_FIELDS = (
    "id",
    "referral",
    "service_id",
    "period_from",
    "period_to",
    "net_minor",
    "currency",
    "charged_at",
    "eligible",
    "paid_at",
)
ACCRUAL_FIELDS = (
    "rule",
    "partner",
    "referral",
    "charge",
    "amount_minor",
    "reversed_minor",
    "withheld_minor",
    "due_on",
)
_MONEY = {ReferralCharge: (5,), ReferralAccrual: (4, 5, 6)}
_MOMENTS = {ReferralCharge: (7, 9), ReferralAccrual: ()}


def _copy_or_insert(model: type[Model], fields: tuple[str, ...], conn: BaseDatabaseWrapper) -> str:
    table, cols = rows.table(model, conn), rows.columns(model, fields, conn)
    if conn.vendor == "postgresql":
        return f"COPY {table} ({cols}) FROM STDIN"
    placeholders = ", ".join(["%s"] * len(fields))
    return f"INSERT INTO {table} ({cols}) VALUES ({placeholders})"  # noqa: S608 (quoted names)


@rows.per_vendor
def charge_insert_sql(conn: BaseDatabaseWrapper) -> str:
    """COPY / INSERT of referral charge rows in ``CHARGE_FIELDS`` order."""
    return _copy_or_insert(ReferralCharge, CHARGE_FIELDS, conn)


@rows.per_vendor
def accrual_insert_sql(conn: BaseDatabaseWrapper) -> str:
    """COPY / INSERT of accrual rows in ``ACCRUAL_FIELDS`` order."""
    return _copy_or_insert(ReferralAccrual, ACCRUAL_FIELDS, conn)


def _write(model: type[Model], statement: Any, values: list[tuple[Any, ...]]) -> None:
    for row in values:
        for i in _MONEY[model]:
            rows.check_int64(row[i], field="amount_minor")
    if not values:
        return
    conn = rows.connection_for(model)
    with conn.cursor() as cursor:
        if conn.vendor == "postgresql":
            with cursor.cursor.copy(statement(conn)) as copy:
                for row in values:
                    copy.write_row(row)
            return
        stamp = conn.ops.adapt_datetimefield_value
        moments = _MOMENTS[model]
        cursor.executemany(
            statement(conn),
            [tuple(stamp(v) if i in moments else v for i, v in enumerate(r)) for r in values],
        )


def insert_charge_rows(values: list[tuple[Any, ...]]) -> None:
    """Insert referral charges (values in ``CHARGE_FIELDS`` order; the id is unique, so a
    charge is stored once)."""
    _write(ReferralCharge, charge_insert_sql, values)


def insert_accrual_rows(values: list[tuple[Any, ...]]) -> None:
    """Insert accruals (values in ``ACCRUAL_FIELDS`` order; (rule, charge) is unique)."""
    _write(ReferralAccrual, accrual_insert_sql, values)
