"""Invoicing's hand-written SQL: the document counter's bump (by one, or by a run's count), and
the bulk inserts of invoices and their lines (the billing run's invoice per client and line per
service period).

One ``UPDATE ... RETURNING`` locks the (provider, year, kind) row, bumps it and returns the new
number; the ORM needs a locking SELECT and an UPDATE for it, and every checkout issues an invoice
(``bench/checkout.py``, pinned statement count). Names are quoted, the connection is the
router's (``billow.core.rows``).
"""

from __future__ import annotations

from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper

from billow.core import rows
from billow.invoicing.models import DocumentCounter, Invoice, InvoiceLine


@rows.per_vendor
def bump_sql(conn: BaseDatabaseWrapper) -> str:
    def col(field: str) -> str:
        return rows.column(DocumentCounter, field, conn)

    last = col("last_number")
    return (
        f"UPDATE {rows.table(DocumentCounter, conn)} "  # noqa: S608
        f"SET {last} = {last} + CAST(%s AS INTEGER) "
        f"WHERE {col('provider')} = %s AND {col('year')} = %s AND {col('kind')} = %s "
        f"RETURNING {last}"
    )


def bump_counter(provider_id: int, year: int, kind: str, count: int = 1) -> int | None:
    """Move (provider, year, kind)'s counter ``count`` numbers on and return the last one (the
    billing run numbers its invoices in bulk), its row locked until the transaction ends; None
    when the counter row does not exist yet."""
    if count < 1:
        raise ValueError("count must be positive")
    conn = rows.connection_for(DocumentCounter)
    with conn.cursor() as cursor:
        cursor.execute(bump_sql(conn), [count, provider_id, year, kind])
        row = cursor.fetchone()
    return None if row is None else int(row[0])


#: The invoice columns the bulk insert writes, in order (JSON values as JSON text).
INVOICE_FIELDS = (
    "provider",
    "client",
    "payer",
    "year",
    "number",
    "status",
    "currency",
    "subtotal_minor",
    "tax_minor",
    "total_minor",
    "payer_snapshot",
    "provider_snapshot",
    "reference",
    "issued_at",
    "paid_at",
    "reverse_charge",
)
_INVOICE_AMOUNTS = (7, 8, 9)
_INVOICE_MOMENTS = (13, 14)


@rows.per_vendor
def invoice_insert_sql(conn: BaseDatabaseWrapper) -> str:
    """COPY (PostgreSQL) or INSERT (SQLite, executemany) of invoices in ``INVOICE_FIELDS``
    order: the billing run issues an invoice per client and run day, hundreds per chunk
    (``bench/billing_run.py``; the ORM's multi-row INSERT costs more to build than to run)."""
    table = rows.table(Invoice, conn)
    cols = rows.columns(Invoice, INVOICE_FIELDS, conn)
    if conn.vendor == "postgresql":
        return f"COPY {table} ({cols}) FROM STDIN"
    placeholders = ", ".join(["%s"] * len(INVOICE_FIELDS))
    return f"INSERT INTO {table} ({cols}) VALUES ({placeholders})"  # noqa: S608 (quoted names)


def insert_invoice_rows(invoice_rows: list[tuple[Any, ...]]) -> None:
    """Insert invoice rows (values in ``INVOICE_FIELDS`` order; amounts are checked against
    the signed 64-bit range first). The unique (provider, year, number) still guards numbers."""
    for row in invoice_rows:
        for i in _INVOICE_AMOUNTS:
            rows.check_int64(row[i], field=INVOICE_FIELDS[i])
    conn = rows.connection_for(Invoice)
    with conn.cursor() as cursor:
        if conn.vendor == "postgresql":
            with cursor.cursor.copy(invoice_insert_sql(conn)) as copy:
                for row in invoice_rows:
                    copy.write_row(row)
            return
        stamp = conn.ops.adapt_datetimefield_value
        cursor.executemany(
            invoice_insert_sql(conn),
            [
                tuple(stamp(v) if i in _INVOICE_MOMENTS else v for i, v in enumerate(row))
                for row in invoice_rows
            ],
        )


#: The invoice line columns the bulk insert writes, in order.
LINE_FIELDS = (
    "invoice",
    "position",
    "description",
    "quantity",
    "unit_price_minor",
    "discount_minor",
    "net_minor",
    "tax_rate",
    "tax_minor",
    "total_minor",
    "service",
    "period_from",
    "period_to",
    "proration",
    "list_price_minor",
)
_LINE_AMOUNTS = (4, 5, 6, 8, 9, 14)  # positions of the minor-unit amounts in a row


@rows.per_vendor
def line_insert_sql(conn: BaseDatabaseWrapper) -> str:
    """COPY (PostgreSQL) or INSERT (SQLite, executemany) of invoice lines in ``LINE_FIELDS``
    order: the billing run issues a line per service period, thousands per chunk
    (``bench/billing_run.py``; a multi-row INSERT of them costs more to build than to run)."""
    table, cols = rows.table(InvoiceLine, conn), rows.columns(InvoiceLine, LINE_FIELDS, conn)
    if conn.vendor == "postgresql":
        return f"COPY {table} ({cols}) FROM STDIN"
    placeholders = ", ".join(["%s"] * len(LINE_FIELDS))
    return f"INSERT INTO {table} ({cols}) VALUES ({placeholders})"  # noqa: S608 (quoted names)


def insert_line_rows(line_rows: list[tuple[Any, ...]]) -> None:
    """Insert invoice line rows (values in ``LINE_FIELDS`` order; amounts are checked against
    the signed 64-bit range first)."""
    for row in line_rows:
        for i in _LINE_AMOUNTS:
            if row[i] is not None:
                rows.check_int64(row[i], field=LINE_FIELDS[i])
    conn = rows.connection_for(InvoiceLine)
    with conn.cursor() as cursor:
        if conn.vendor == "postgresql":
            with cursor.cursor.copy(line_insert_sql(conn)) as copy:
                for row in line_rows:
                    copy.write_row(row)
            return
        cursor.executemany(line_insert_sql(conn), line_rows)
