"""Invoicing's hand-written SQL: the document counter's bump (by one, or by a run's count).

One ``UPDATE ... RETURNING`` locks the (provider, year, kind) row, bumps it and returns the new
number; the ORM needs a locking SELECT and an UPDATE for it, and every checkout issues an invoice
(``bench/checkout.py``, pinned statement count). Names are quoted, the connection is the
router's (``billow.core.rows``).
"""

from __future__ import annotations

from django.db.backends.base.base import BaseDatabaseWrapper

from billow.core import rows
from billow.invoicing.models import DocumentCounter


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
