"""The billing app's hand-written SQL, each statement kept only where a benchmark needs it.

- ``lock_wallet_row``: the checkout's balance lock and credit terms in one statement (the ORM
  query with its join cost more to compile than to run; ``bench/checkout.py``, pinned statement
  count in tests/orders).
- ``insert_expense_rows``: the billing run's thousands of expenses per chunk by COPY on
  PostgreSQL, executemany on SQLite (the ORM's ``bulk_create`` costs several times more;
  ``bench/billing_run.py``).

Names are quoted and the connection is the router's (``billow.core.rows``); tests/sql runs both
against their ORM equivalents.
"""

from __future__ import annotations

from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.transaction import TransactionManagementError

from billow.billing.models import ClientBillingSettings, Expense
from billow.core import rows
from billow.ledger.models import AccountKind, LedgerAccount

EXPENSE_FIELDS = (
    "service",
    "client",
    "provider",
    "kind",
    "reason",
    "key",
    "period_from",
    "period_to",
    "amount_minor",
    "currency",
    "transaction",
    "description",
    "created_at",
    "tax_minor",
    "tax_added_minor",
    "tax_rate",
    "reverse_charge",
    "invoice",
    "credit_note",
)

#: The same columns as model attributes (``service_id`` ...), to build ``Expense`` objects.
EXPENSE_ATTRS = tuple(
    Expense._meta.get_field(name).get_attname()  # type: ignore[union-attr]
    for name in EXPENSE_FIELDS
)

WalletRow = tuple[int, int, int | None, bool | None]


@rows.per_vendor
def wallet_sql(conn: BaseDatabaseWrapper) -> str:
    """The client's balance account with its credit terms, locked (``FOR UPDATE OF`` the
    account on PostgreSQL; SQLite holds the database write lock of ``BEGIN IMMEDIATE``)."""

    def account(field: str) -> str:
        return "a." + rows.column(LedgerAccount, field, conn)

    def terms(field: str) -> str:
        return "s." + rows.column(ClientBillingSettings, field, conn)

    sql = (
        f"SELECT {account('id')}, {account('balance_minor')},"  # noqa: S608 (quoted names)
        f" {terms('credit_limit_minor')}, {terms('postpaid')}"
        f" FROM {rows.table(LedgerAccount, conn)} a"
        f" LEFT JOIN {rows.table(ClientBillingSettings, conn)} s"
        f" ON {terms('client')} = %s AND {terms('currency')} = %s"  # unique: at most one row
        f" WHERE {account('kind')} = %s AND {account('currency')} = %s"
        f" AND {account('client')} = %s AND {account('provider')} = %s"
        f" ORDER BY {account('id')} LIMIT 1"
    )
    if conn.features.has_select_for_update_of:
        return sql + " FOR UPDATE OF a"
    if conn.features.has_select_for_update:  # pragma: no cover - no such backend here
        return sql + " FOR UPDATE"
    return sql


def lock_wallet_row(client_id: int, provider_id: int, currency: str) -> WalletRow | None:
    """(account id, balance, credit limit, post-paid) of the client's balance account with
    ``provider_id`` in ``currency``, locked until the transaction ends; None when the account
    does not exist yet. Inside a transaction only."""
    conn = rows.connection_for(LedgerAccount)
    if conn.features.has_select_for_update and conn.get_autocommit():
        raise TransactionManagementError("the balance is locked inside a transaction only")
    params: list[Any] = [
        client_id,
        currency,
        AccountKind.CLIENT_BALANCE.value,
        currency,
        client_id,
        provider_id,
    ]
    with conn.cursor() as cursor:
        cursor.execute(wallet_sql(conn), params)
        row: Any = cursor.fetchone()
    return row


@rows.per_vendor
def expense_insert_sql(conn: BaseDatabaseWrapper) -> str:
    """COPY (PostgreSQL) or INSERT (SQLite, executemany) of expense rows in ``EXPENSE_FIELDS``
    order."""
    table, cols = rows.table(Expense, conn), rows.columns(Expense, EXPENSE_FIELDS, conn)
    if conn.vendor == "postgresql":
        return f"COPY {table} ({cols}) FROM STDIN"
    placeholders = ", ".join(["%s"] * len(EXPENSE_FIELDS))
    return f"INSERT INTO {table} ({cols}) VALUES ({placeholders})"  # noqa: S608 (quoted names)


def insert_expense_rows(expense_rows: list[tuple[Any, ...]]) -> None:
    """Insert expense rows (values in ``EXPENSE_FIELDS`` order, amounts within the signed 64-bit
    range). Unique keys still guard against a second charge of a service-period."""
    for row in expense_rows:
        rows.check_int64(row[8], field="amount_minor")
        rows.check_int64(row[13], field="tax_minor")
    conn = rows.connection_for(Expense)
    with conn.cursor() as cursor:
        if conn.vendor == "postgresql":
            with cursor.cursor.copy(expense_insert_sql(conn)) as copy:
                for row in expense_rows:
                    copy.write_row(row)
            return
        stamp = conn.ops.adapt_datetimefield_value
        cursor.executemany(
            expense_insert_sql(conn),
            [(*row[:12], stamp(row[12]), *row[13:]) for row in expense_rows],
        )
