"""The API's hand-written SQL: statements that run on (nearly) every request.

Kept by hand because the ORM costs more to build them than the database takes to run them, and
the API benchmarks (``bench/web.py``, ``bench/checkout.py``) count that:

- :func:`load_token` — the token by prefix with its user, client user, client and the client's
  providers and groups (one statement; the ``select_related`` query costs ~10x the CPU to build);
- :func:`insert_idempotency_claim` / :func:`complete_idempotency_record` — the claim and the
  stored response of every idempotent POST (the checkout goes through them);
- :func:`hit_throttle` — the throttle's counter upsert with its two-window arithmetic (an
  ``INSERT ... ON CONFLICT DO UPDATE ... RETURNING`` with conditional SET the ORM cannot
  express).

Names are quoted, the connection is the router's (``billow.core.rows``).
"""

from __future__ import annotations

import functools
from typing import Any

from django.contrib.auth import get_user_model
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Model

from billow.accounts.models import Client, ClientGroupMembership, ClientUser
from billow.api.models import ApiToken, IdempotencyRecord, ThrottleCounter
from billow.core import rows

# Table and column names come from the models, never from input (hence the noqa on f-strings).

# --- the token lookup -------------------------------------------------------------------------


class TokenRow:
    """The columns of the token lookup, in row order."""

    def __init__(self) -> None:
        self.token = rows.Columns(ApiToken, "t")
        self.user = rows.Columns(get_user_model(), "u")
        self.client_user = rows.Columns(ClientUser, "cu")
        self.client = rows.Columns(Client, "c")


@functools.cache
def token_row() -> TokenRow:
    """Built on first use: the user model is only known once the apps are loaded."""
    return TokenRow()


@rows.per_vendor
def token_sql(conn: BaseDatabaseWrapper) -> str:
    """The unrevoked token with prefix ``%s``: the columns of ``token_row()`` in order, then the
    client's provider ids and group ids (arrays on PostgreSQL, comma-separated on SQLite)."""
    qn = conn.ops.quote_name
    cols = token_row()
    user_model = get_user_model()

    def table(model: type[Model]) -> str:
        return rows.table(model, conn)

    agg = "array_agg" if conn.vendor == "postgresql" else "group_concat"
    members = Client.providers.through
    scope = (
        f"(SELECT {agg}(p.{qn('provider_id')}) FROM {table(members)} p "  # noqa: S608
        f"WHERE p.{qn('client_id')} = c.{qn('id')}), "
        f"(SELECT {agg}(g.{qn('group_id')}) FROM {table(ClientGroupMembership)} g "
        f"WHERE g.{qn('client_id')} = c.{qn('id')})"
    )
    return (
        f"SELECT {cols.token.sql}, {cols.user.sql}, {cols.client_user.sql}, "  # noqa: S608
        f"{cols.client.sql}, {scope} FROM {table(ApiToken)} t "
        f"JOIN {table(user_model)} u ON u.{qn('id')} = t.{qn('user_id')} "
        f"LEFT JOIN {table(ClientUser)} cu ON cu.{qn('user_id')} = u.{qn('id')} "
        f"LEFT JOIN {table(Client)} c ON c.{qn('id')} = cu.{qn('client_id')} "
        f"WHERE t.{qn('prefix')} = %s AND t.{qn('revoked_at')} IS NULL"
    )


def load_token(prefix: str) -> tuple[tuple[Any, ...] | None, BaseDatabaseWrapper]:
    """The row of :func:`token_sql` for ``prefix`` (or None) and the connection it was read
    on (to load instances from it)."""
    conn = rows.connection_for(ApiToken, write=False)
    with conn.cursor() as cursor:
        cursor.execute(token_sql(conn), [prefix])
        row: tuple[Any, ...] | None = cursor.fetchone()
    return row, conn


# --- idempotency records ----------------------------------------------------------------------

IDEMPOTENCY_ROW = rows.Columns(IdempotencyRecord, "r")
#: The fields a claim writes, in parameter order.
CLAIMED = ("user", "token", "key", "method", "path", "fingerprint", "created_at")


@rows.per_vendor
def claim_sql(conn: BaseDatabaseWrapper) -> str:
    return (
        f"INSERT INTO {rows.table(IdempotencyRecord, conn)} "  # noqa: S608
        f"({rows.columns(IdempotencyRecord, CLAIMED, conn)}) "
        f"VALUES ({', '.join(['%s'] * len(CLAIMED))}) "
        f"RETURNING {rows.column(IdempotencyRecord, 'id', conn)}"
    )


def insert_idempotency_claim(record: IdempotencyRecord) -> int:
    """INSERT the claim ``record`` (its CLAIMED fields); its new id. A second claim of one
    (user, key) raises ``IntegrityError``."""
    conn = rows.connection_for(IdempotencyRecord)
    values = [IDEMPOTENCY_ROW.prep(f, getattr(record, _attname(f)), conn) for f in CLAIMED]
    with conn.cursor() as cursor:
        cursor.execute(claim_sql(conn), values)
        return int(cursor.fetchone()[0])


def _attname(field: str) -> str:
    return IdempotencyRecord._meta.get_field(field).attname  # type: ignore[union-attr]


@rows.per_vendor
def complete_sql(conn: BaseDatabaseWrapper) -> str:
    def col(field: str) -> str:
        return rows.column(IdempotencyRecord, field, conn)

    return (
        f"UPDATE {rows.table(IdempotencyRecord, conn)} SET {col('response_status')} = %s, "  # noqa: S608
        f"{col('response_body')} = %s, {col('completed_at')} = %s WHERE {col('id')} = %s"
    )


def complete_idempotency_record(record_id: int, status: int, body: Any, completed_at: Any) -> None:
    """Store the response of the claim ``record_id``."""
    prep = IDEMPOTENCY_ROW.prep
    conn = rows.connection_for(IdempotencyRecord)
    params = [
        prep("response_status", status, conn),
        prep("response_body", body, conn),
        prep("completed_at", completed_at, conn),
        record_id,
    ]
    with conn.cursor() as cursor:
        cursor.execute(complete_sql(conn), params)


# --- the throttle counter ---------------------------------------------------------------------


@rows.per_vendor
def hit_sql(conn: BaseDatabaseWrapper) -> str:
    """Parameters: key, window, duration. Returns (count, previous)."""

    def col(field: str) -> str:
        return rows.column(ThrottleCounter, field, conn)

    t, k, w, c, p = (
        rows.table(ThrottleCounter, conn),
        col("key"),
        col("window"),
        col("count"),
        col("previous"),
    )
    return (
        f"INSERT INTO {t} ({k}, {w}, {c}, {p}) VALUES (%s, %s, 1, 0) "  # noqa: S608
        f"ON CONFLICT ({k}) DO UPDATE SET "
        f"{p} = CASE WHEN {t}.{w} >= EXCLUDED.{w} THEN {t}.{p} "
        f"WHEN {t}.{w} = EXCLUDED.{w} - %s THEN {t}.{c} ELSE 0 END, "
        f"{c} = CASE WHEN {t}.{w} >= EXCLUDED.{w} THEN {t}.{c} + 1 ELSE 1 END, "
        f"{w} = CASE WHEN {t}.{w} > EXCLUDED.{w} THEN {t}.{w} ELSE EXCLUDED.{w} END "
        f"RETURNING {c}, {p}"
    )


def hit_throttle(key: str, window: int, duration: int) -> tuple[int, int]:
    """Count one request for ``key`` in the window starting at ``window``; returns (requests in
    this window, requests in the previous one). One statement (PostgreSQL and SQLite >= 3.35)."""
    conn = rows.connection_for(ThrottleCounter)
    with conn.cursor() as cursor:
        cursor.execute(hit_sql(conn), [key, window, duration])
        count, previous = cursor.fetchone()
    return int(count), int(previous)
