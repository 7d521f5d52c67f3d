"""Hand-written SQL on the services app's tables, kept where the ORM costs a hot path its target.

Names are quoted with the connection's ``quote_name``. Each statement has one ORM equivalent the
other database uses, so both write the same rows.
"""

from __future__ import annotations

import functools
from datetime import date, datetime

from django.db import connection

from billow.services.models import Service


@functools.cache
def _set_paid_until_sql() -> str:
    quote = connection.ops.quote_name
    return (
        f"UPDATE {quote(Service._meta.db_table)} "  # noqa: S608 (names from the model)
        f"SET {quote('paid_until')} = %s, {quote('updated_at')} = %s "
        f"WHERE {quote('id')} = ANY(%s)"
    )


def set_paid_until(service_ids: list[int], paid_until: date, now: datetime) -> None:
    """Move ``paid_until`` of ``service_ids`` to one date: on PostgreSQL one UPDATE with the ids
    as one array parameter (a billing chunk's thousands of renewals), else the ORM's IN list."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(_set_paid_until_sql(), [paid_until, now, service_ids])
        return
    Service.objects.filter(pk__in=service_ids).update(paid_until=paid_until, updated_at=now)
