"""The ledger's hand-written SQL: the writers behind ``post_transactions_bulk`` (``bulk.py``).

Kept by hand because the billing run's benchmark needs COPY (PostgreSQL) and executemany
(SQLite), and the checkout's benchmark the two-statement small path. Every name is quoted and
every statement runs on the connection the router picks for the ledger's models
(``billow.core.rows``). A balance moves only while it stays within its currency's limit: each
UPDATE carries the window the balance must be in (``postings.balance_window``), so the check costs
no round trip (``balance_out_of_range`` otherwise, raised before the caller's atomic block commits
anything).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper

from billow.core import rows
from billow.ledger.errors import UnknownAccountError
from billow.ledger.models import LedgerAccount, LedgerEntry, LedgerTransaction
from billow.ledger.postings import balance_refused, balance_window

TXN_COLUMNS = (
    "id",
    "kind",
    "idempotency_key",
    "reference_type",
    "reference_id",
    "memo",
    "actor_kind",
    "actor_id",
    "legs_hash",
    "created_at",
)
ENTRY_COLUMNS = ("transaction", "account", "amount_minor", "currency")

# Table and column names come from the models, never from input (hence the noqa on f-strings).


def connection() -> BaseDatabaseWrapper:
    """The ledger's connection (the router's for writes of ledger transactions)."""
    return rows.connection_for(LedgerTransaction)


def _names(conn: BaseDatabaseWrapper) -> dict[str, str]:
    qn = conn.ops.quote_name
    return {
        "txn": rows.table(LedgerTransaction, conn),
        "entry": rows.table(LedgerEntry, conn),
        "account": rows.table(LedgerAccount, conn),
        "txn_cols": rows.columns(LedgerTransaction, TXN_COLUMNS, conn),
        "entry_cols": rows.columns(LedgerEntry, ENTRY_COLUMNS, conn),
        "id": qn("id"),
        "key": qn("idempotency_key"),
        "hash": qn("legs_hash"),
        "balance": qn("balance_minor"),
    }


# --- PostgreSQL -------------------------------------------------------------------------------


@rows.per_vendor
def pg_copy_txn(conn: BaseDatabaseWrapper) -> str:
    n = _names(conn)
    return f"COPY {n['txn']} ({n['txn_cols']}) FROM STDIN"


@rows.per_vendor
def pg_copy_entry(conn: BaseDatabaseWrapper) -> str:
    n = _names(conn)
    return f"COPY {n['entry']} ({n['entry_cols']}) FROM STDIN"


@rows.per_vendor
def pg_sequence(conn: BaseDatabaseWrapper) -> str:
    """The name of a table's id sequence (parameter: the table name; both names are text
    arguments here, not identifiers)."""
    return "SELECT pg_get_serial_sequence(%s, 'id')"


@rows.per_vendor
def pg_next_ids(conn: BaseDatabaseWrapper) -> str:
    """n ids from the sequence; usually contiguous (then only the bounds travel back), else all
    of them. The sequence is passed as a constant: pg_get_serial_sequence() per row costs 4x
    nextval()."""
    return (
        "WITH s AS (SELECT nextval(%s::regclass) AS v FROM generate_series(1, %s)) "
        "SELECT min(v), max(v), CASE WHEN max(v) - min(v) + 1 = count(*) THEN NULL "
        "ELSE array_agg(v) END FROM s"
    )


@rows.per_vendor
def pg_existing_keys(conn: BaseDatabaseWrapper) -> str:
    n = _names(conn)
    return (
        f"SELECT {n['key']}, {n['id']}, {n['hash']} FROM {n['txn']} "  # noqa: S608
        f"WHERE {n['key']} = ANY(%s)"
    )


@rows.per_vendor
def pg_lock_accounts(conn: BaseDatabaseWrapper) -> str:
    n = _names(conn)
    return (
        f"SELECT {n['id']} FROM {n['account']} WHERE {n['id']} = ANY(%s::bigint[]) "  # noqa: S608
        f"ORDER BY {n['id']} FOR NO KEY UPDATE"
    )


@rows.per_vendor
def pg_apply_deltas(conn: BaseDatabaseWrapper) -> str:
    """Every named account moves by its delta, unless its balance is outside the window that
    keeps it within the limit: the caller compares the row count with the accounts it locked."""
    n = _names(conn)
    return (
        f"UPDATE {n['account']} AS a SET {n['balance']} = a.{n['balance']} + v.delta "  # noqa: S608
        f"FROM unnest({DELTA_ARRAYS}) AS v(id, delta, low, high) "
        f"WHERE a.{n['id']} = v.id AND a.{n['balance']} BETWEEN v.low AND v.high"
    )


DELTA_ARRAYS = "%s::bigint[], %s::bigint[], %s::bigint[], %s::bigint[]"


#: Batches up to this size take the two-statement path on PostgreSQL.
SMALL_BATCH = 16


@rows.per_vendor
def pg_plan_small(conn: BaseDatabaseWrapper) -> str:
    """'k' rows: existing keys; 'i' rows: n fresh ids (one left unused by a replay is a gap in
    the ids); one 'a' row: how many of the named accounts exist, all of them locked in id
    order."""
    n = _names(conn)
    return (
        f"SELECT 'k', {n['key']}, {n['id']}, {n['hash']} FROM {n['txn']} "  # noqa: S608
        f"WHERE {n['key']} = ANY(%s) "
        "UNION ALL SELECT 'i', NULL, nextval(%s::regclass), NULL FROM generate_series(1, %s) "
        f"UNION ALL SELECT 'a', NULL, count(*), NULL FROM (SELECT {n['id']} FROM {n['account']} "
        f"WHERE {n['id']} = ANY(%s::bigint[]) ORDER BY {n['id']} FOR NO KEY UPDATE) AS locked"
    )


@rows.hand_written
def pg_insert_small(conn: BaseDatabaseWrapper, txns: int, entries: int) -> str:
    """``txns`` transactions, ``entries`` entries and the balance moves of the accounts
    ``pg_plan_small`` locked, in one statement (entries have no FK; PostgreSQL runs every
    data-modifying WITH part to completion). It returns how many accounts moved: fewer than
    asked means a balance would leave its limit, and the caller's savepoint undoes all."""
    n = _names(conn)
    txn_row = "(" + ", ".join(["%s"] * len(TXN_COLUMNS)) + ")"
    entry_row = "(" + ", ".join(["%s"] * len(ENTRY_COLUMNS)) + ")"
    return (
        f"WITH t AS (INSERT INTO {n['txn']} ({n['txn_cols']}) VALUES "  # noqa: S608
        + ", ".join([txn_row] * txns)
        + f"), e AS (INSERT INTO {n['entry']} ({n['entry_cols']}) VALUES "  # noqa: S608
        + ", ".join([entry_row] * entries)
        + f"), u AS (UPDATE {n['account']} AS a "  # noqa: S608
        f"SET {n['balance']} = a.{n['balance']} + v.delta "
        f"FROM unnest({DELTA_ARRAYS}) AS v(id, delta, low, high) "
        f"WHERE a.{n['id']} = v.id AND a.{n['balance']} BETWEEN v.low AND v.high "
        "RETURNING 1) SELECT count(*) FROM u"
    )


# --- SQLite -----------------------------------------------------------------------------------


@rows.per_vendor
def sqlite_existing_keys(conn: BaseDatabaseWrapper) -> str:
    n = _names(conn)
    return (
        f"SELECT {n['key']}, {n['id']}, {n['hash']} FROM {n['txn']} "  # noqa: S608
        f"WHERE {n['key']} IN (SELECT value FROM json_each(%s))"
    )


@rows.per_vendor
def sqlite_max_id(conn: BaseDatabaseWrapper) -> str:
    n = _names(conn)
    return f"SELECT COALESCE(MAX({n['id']}), 0) FROM {n['txn']}"  # noqa: S608


@rows.per_vendor
def sqlite_insert_txn(conn: BaseDatabaseWrapper) -> str:
    n = _names(conn)
    return (
        f"INSERT INTO {n['txn']} ({n['txn_cols']}) "  # noqa: S608
        f"VALUES ({', '.join(['%s'] * len(TXN_COLUMNS))})"
    )


@rows.per_vendor
def sqlite_insert_entry(conn: BaseDatabaseWrapper) -> str:
    n = _names(conn)
    return (
        f"INSERT INTO {n['entry']} ({n['entry_cols']}) "  # noqa: S608
        f"VALUES ({', '.join(['%s'] * len(ENTRY_COLUMNS))})"
    )


@rows.per_vendor
def sqlite_apply_delta(conn: BaseDatabaseWrapper) -> str:
    """Parameters: delta, account id, then the window the balance must be in (low, high)."""
    n = _names(conn)
    return (
        f"UPDATE {n['account']} SET {n['balance']} = {n['balance']} + %s "  # noqa: S608
        f"WHERE {n['id']} = %s AND {n['balance']} BETWEEN %s AND %s"
    )


@rows.per_vendor
def count_accounts(conn: BaseDatabaseWrapper) -> str:
    """How many of a JSON array of account ids exist (SQLite: after a refused move)."""
    n = _names(conn)
    return (
        f"SELECT count(*) FROM {n['account']} "  # noqa: S608
        f"WHERE {n['id']} IN (SELECT value FROM json_each(%s))"
    )


# --- the writers ------------------------------------------------------------------------------


def txn_row(txn_id: int, p: Any, created_at: object) -> tuple[Any, ...]:
    """The transaction row of a ``CheckedPosting`` in TXN_COLUMNS order."""
    return (
        txn_id,
        p.kind,
        p.idempotency_key,
        p.reference_type,
        p.reference_id,
        p.memo,
        p.actor_kind,
        p.actor_id,
        p.legs_hash,
        created_at,
    )


_SEQUENCES: dict[tuple[Any, ...], str] = {}


class PostgresWriter:
    """COPY FROM STDIN through the psycopg 3 connection Django holds in its transaction."""

    def __init__(self, conn: BaseDatabaseWrapper) -> None:
        self.conn = conn
        self.cursor = conn.cursor()

    def created_at(self, now: datetime) -> object:
        return now

    def existing(self, keys: list[str]) -> list[tuple[str, int, str]]:
        """(key, id, legs_hash) of the keys already posted: one array parameter, one query."""
        self.cursor.execute(pg_existing_keys(self.conn), [keys])
        return [tuple(row) for row in self.cursor.fetchall()]

    def allocate_ids(self, n: int) -> list[int]:
        self.cursor.execute(pg_next_ids(self.conn), [self.sequence(), n])
        low, high, scattered = self.cursor.fetchone()
        return list(scattered) if scattered is not None else list(range(low, high + 1))

    def sequence(self) -> str:
        db = self.conn.settings_dict
        where = (db.get("HOST"), db.get("PORT"), db.get("NAME"))
        sequence = _SEQUENCES.get(where)
        if sequence is None:  # one lookup per database and process: the name never changes
            self.cursor.execute(pg_sequence(self.conn), [LedgerTransaction._meta.db_table])
            (sequence,) = self.cursor.fetchone()
            _SEQUENCES[where] = sequence
        return sequence

    def plan_small(
        self, keys: list[str], account_ids: list[int]
    ) -> tuple[list[tuple[str, int, str]], list[int]]:
        """The existing keys (as ``existing``) and ``len(keys)`` fresh ids, with every account
        in ``account_ids`` locked (``unknown_account`` if one is missing), in one query."""
        self.cursor.execute(
            pg_plan_small(self.conn), (keys, self.sequence(), len(keys), account_ids)
        )
        found, ids, accounts = [], [], 0
        for row_kind, key, value, legs_hash in self.cursor.fetchall():
            if row_kind == "k":
                found.append((key, value, legs_hash))
            elif row_kind == "i":
                ids.append(value)
            else:
                accounts = int(value)
        check_found(len(account_ids), accounts)
        return found, ids

    def insert_small(
        self,
        txns: list[tuple[Any, ...]],
        entries: list[tuple[Any, ...]],
        deltas: dict[int, int],
        currencies: dict[int, str],
    ) -> None:
        """The transactions, their entries and the balance moves of the accounts this
        transaction has locked (``plan_small``), in one statement."""
        if not txns:
            return
        moving = [i for i in sorted(deltas) if deltas[i]]
        arrays = delta_arrays(moving, deltas, currencies)
        sql = pg_insert_small(self.conn, len(txns), len(entries))
        self.cursor.execute(sql, [*(v for row in (*txns, *entries) for v in row), *arrays])
        (moved,) = self.cursor.fetchone()
        if moved != len(moving):  # every account is locked: it exists
            raise balance_refused(None)

    def _apply(self, moving: list[int], deltas: dict[int, int], currencies: dict[int, str]) -> None:
        self.cursor.execute(pg_apply_deltas(self.conn), delta_arrays(moving, deltas, currencies))
        if self.cursor.rowcount != len(moving):  # every account is locked: it exists
            raise balance_refused(None)

    def _copy(self, sql: str, rows_: Iterable[tuple[Any, ...]]) -> None:
        with self.cursor.cursor.copy(sql) as copy:  # the psycopg cursor under Django's wrapper
            for row in rows_:
                copy.write_row(row)

    def copy_txns(self, rows_: Iterable[tuple[Any, ...]]) -> None:
        """Streams: the server ingests rows while the caller's generator validates the next."""
        self._copy(pg_copy_txn(self.conn), rows_)

    def copy_entries(self, rows_: Iterable[tuple[Any, ...]]) -> None:
        self._copy(pg_copy_entry(self.conn), rows_)

    def apply_deltas(self, deltas: dict[int, int], currencies: dict[int, str]) -> None:
        if not deltas:
            return
        ids = sorted(deltas)
        # Lock in id order first (as post_transaction does) so concurrent posters never deadlock.
        self.cursor.execute(pg_lock_accounts(self.conn), [ids])
        check_found(len(ids), len(self.cursor.fetchall()))
        moving = [i for i in ids if deltas[i]]
        if moving:
            self._apply(moving, deltas, currencies)


class SqliteWriter:
    """executemany in the one IMMEDIATE transaction (the write lock is already held)."""

    def __init__(self, conn: BaseDatabaseWrapper) -> None:
        self.conn = conn
        self.cursor = conn.cursor()

    def created_at(self, now: datetime) -> object:
        return self.conn.ops.adapt_datetimefield_value(now)

    def existing(self, keys: list[str]) -> list[tuple[str, int, str]]:
        """(key, id, legs_hash) of the keys already posted: the keys go in as one JSON array."""
        self.cursor.execute(sqlite_existing_keys(self.conn), [json.dumps(keys)])
        return [tuple(row) for row in self.cursor.fetchall()]

    def allocate_ids(self, n: int) -> list[int]:
        self.cursor.execute(sqlite_max_id(self.conn))
        row = self.cursor.fetchone()
        start = int(row[0] if row else 0) + 1
        return list(range(start, start + n))

    def copy_txns(self, rows_: Iterable[tuple[Any, ...]]) -> None:
        # Materialised first: Django's debug cursor (DEBUG=True) needs len() of the params.
        self.cursor.executemany(sqlite_insert_txn(self.conn), list(rows_))

    def copy_entries(self, rows_: Iterable[tuple[Any, ...]]) -> None:
        self.cursor.executemany(sqlite_insert_entry(self.conn), list(rows_))

    def apply_deltas(self, deltas: dict[int, int], currencies: dict[int, str]) -> None:
        if not deltas:
            return
        ids = sorted(deltas)
        params = []
        for i in ids:
            low, high = balance_window(i, deltas[i], currencies[i])
            params.append((rows.check_int64(deltas[i], field="balance_minor"), i, low, high))
        self.cursor.executemany(sqlite_apply_delta(self.conn), params)
        if self.cursor.rowcount == len(ids):
            return
        self.cursor.execute(count_accounts(self.conn), [json.dumps(ids)])
        check_found(len(ids), int(self.cursor.fetchone()[0]))
        raise balance_refused(None)


def delta_arrays(
    moving: list[int], deltas: dict[int, int], currencies: dict[int, str]
) -> list[list[int]]:
    """The four arrays of ``pg_apply_deltas``: ids, deltas and the window each balance must be
    in (a delta too wide for any window is refused here, before the statement)."""
    amounts, lows, highs = [], [], []
    for i in moving:
        low, high = balance_window(i, deltas[i], currencies[i])
        amounts.append(rows.check_int64(deltas[i], field="balance_minor"))
        lows.append(low)
        highs.append(high)
    return [moving, amounts, lows, highs]


def check_found(wanted: int, found: int) -> None:
    """Entries carry no FK constraint, so the balance update is where a missing account shows."""
    if found != wanted:
        raise UnknownAccountError(f"{wanted - found} ledger accounts of this batch do not exist")


Writer = PostgresWriter | SqliteWriter


def writer(conn: BaseDatabaseWrapper) -> Writer:
    if conn.vendor == "postgresql":
        return PostgresWriter(conn)
    if conn.vendor == "sqlite":
        return SqliteWriter(conn)
    raise NotImplementedError(f"bulk posting is not implemented for {conn.vendor}")
