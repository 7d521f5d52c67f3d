"""The billing app's hand-written SQL, each statement kept only where a benchmark needs it.

- ``lock_wallet_row``: the checkout's balance lock and credit terms in one statement (the ORM
  query with its two subqueries cost more to compile than to run; ``bench/checkout.py``).
- ``insert_expense_rows``: the billing run's thousands of expenses per chunk by COPY on
  PostgreSQL, executemany on SQLite (the ORM's ``bulk_create`` costs several times more;
  ``bench/billing_run.py``).
"""

from __future__ import annotations

import functools
from typing import Any

from django.db import connection
from django.db.transaction import TransactionManagementError

from billow.billing.models import ClientBillingSettings, Expense
from billow.ledger.models import AccountKind, LedgerAccount

EXPENSE_FIELDS = (
    "service_id",
    "client_id",
    "provider_id",
    "kind",
    "reason",
    "key",
    "period_from",
    "period_to",
    "amount_minor",
    "currency",
    "transaction_id",
    "description",
    "created_at",
)


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


@functools.cache
def _wallet_sql(vendor: str) -> str:
    """Built once per database vendor (the quoting is the vendor's)."""
    account, terms = _q(LedgerAccount._meta.db_table), _q(ClientBillingSettings._meta.db_table)
    return (
        f"SELECT a.{_q('id')}, a.{_q('balance_minor')},"  # noqa: S608 (names from the models)
        f" s.{_q('credit_limit_minor')}, s.{_q('postpaid')}"
        f" FROM {account} a LEFT JOIN {terms} s"
        f" ON s.{_q('client_id')} = %s AND s.{_q('currency')} = %s"  # unique: at most one row
        f" WHERE a.{_q('kind')} = %s AND a.{_q('currency')} = %s"
        f" AND a.{_q('client_id')} = %s AND a.{_q('provider_id')} = %s"
        f" ORDER BY a.{_q('id')} LIMIT 1"
    )


def lock_wallet_row(
    client_id: int, provider_id: int, currency: str
) -> tuple[int, int, int | None, bool | None] | None:
    """(account id, balance, credit limit, post-paid) of the client's balance account, locked
    (PostgreSQL ``FOR UPDATE OF``; SQLite holds the database write lock of ``BEGIN
    IMMEDIATE``); None when the account does not exist yet."""
    sql = _wallet_sql(connection.vendor)
    if connection.features.has_select_for_update and connection.get_autocommit():
        raise TransactionManagementError("the balance is locked inside a transaction only")
    if connection.features.has_select_for_update_of:
        sql += " FOR UPDATE OF a"
    elif connection.features.has_select_for_update:  # pragma: no cover - no such backend here
        sql += " FOR UPDATE"
    params: list[Any] = [
        client_id,
        currency,
        AccountKind.CLIENT_BALANCE.value,
        currency,
        client_id,
        provider_id,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row: Any = cursor.fetchone()
    return row


def insert_expense_rows(rows: list[tuple[Any, ...]]) -> None:
    """Insert expense rows (values in ``EXPENSE_FIELDS`` order): COPY on PostgreSQL,
    executemany on SQLite. Unique keys still guard against a second charge of a period."""
    table = _q(Expense._meta.db_table)
    columns = ", ".join(_q(name) for name in EXPENSE_FIELDS)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            return
        stamp = connection.ops.adapt_datetimefield_value
        placeholders = ", ".join(["%s"] * len(EXPENSE_FIELDS))
        cursor.executemany(
            f"INSERT INTO {table} ({columns}) VALUES ({placeholders})",  # noqa: S608
            [(*row[:12], stamp(row[12])) for row in rows],
        )
