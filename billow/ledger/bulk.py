"""The set-based path behind ``post_transactions_bulk``: COPY on PostgreSQL, executemany on SQLite.

Everything runs inside the action's ``transaction.atomic()``. Order of work (``BulkRun``):

1. one query finds which keys already exist (with their legs hash);
2. ids for the new transactions are allocated up front (from the sequence on PostgreSQL,
   ``max(id)+1`` under SQLite's write lock) so entries point at them without a round trip;
3. per chunk of ``LEDGER_BULK_BATCH`` items, each item is validated *while* its transaction row
   is streamed into COPY, so the server indexes rows while Python validates the next ones (on a
   2-core box this overlap is what reaches the throughput target); then the chunk's entries;
4. one aggregated delta per account, accounts locked in id order.

Any refusal raised mid-stream aborts the COPY and rolls the atomic block back: nothing is written.

A small batch on PostgreSQL inside the caller's transaction (``SMALL_BATCH`` items or fewer: an
order's charges) takes a shorter path of three statements and no savepoint: (1) the existing
keys, fresh ids and the lock of every account the legs name (in id order) in one query; every
item is then validated before anything is written; (2) the transactions and their entries in
one INSERT; (3) one UPDATE of the balances. A refusal is raised before the first write, so the
caller's transaction stays usable, as it does with the savepoint of the general path.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any

from django.db import connection

from billow.ledger.errors import (
    IdempotencyKeyReusedError,
    LedgerValidationError,
    UnknownAccountError,
)
from billow.ledger.models import LedgerAccount, LedgerEntry, LedgerTransaction
from billow.ledger.postings import CheckedPosting, Posting, check_posting

TXN_TABLE = LedgerTransaction._meta.db_table
ENTRY_TABLE = LedgerEntry._meta.db_table
ACCOUNT_TABLE = LedgerAccount._meta.db_table
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
ENTRY_COLUMNS = ("transaction_id", "account_id", "amount_minor", "currency")

# Table and column names come from the models above, never from input (hence the noqa).
_TXN_COLS = ", ".join(TXN_COLUMNS)
_ENTRY_COLS = ", ".join(ENTRY_COLUMNS)
PG_COPY_TXN = f"COPY {TXN_TABLE} ({_TXN_COLS}) FROM STDIN"
PG_COPY_ENTRY = f"COPY {ENTRY_TABLE} ({_ENTRY_COLS}) FROM STDIN"
PG_SEQUENCE = "SELECT pg_get_serial_sequence(%s, 'id')"
_SEQUENCES: dict[tuple[Any, ...], str] = {}
# n ids from the sequence; usually contiguous (then only the bounds travel back), else all of them.
# The sequence is passed as a constant: pg_get_serial_sequence() per row costs 4x nextval().
PG_NEXT_IDS = (
    "WITH s AS (SELECT nextval(%s::regclass) AS v FROM generate_series(1, %s)) "
    "SELECT min(v), max(v), CASE WHEN max(v) - min(v) + 1 = count(*) THEN NULL "
    "ELSE array_agg(v) END FROM s"
)
PG_EXISTING_KEYS = (
    f"SELECT idempotency_key, id, legs_hash FROM {TXN_TABLE} "  # noqa: S608
    "WHERE idempotency_key = ANY(%s)"
)
PG_LOCK_ACCOUNTS = (
    f"SELECT id FROM {ACCOUNT_TABLE} WHERE id = ANY(%s) ORDER BY id FOR NO KEY UPDATE"  # noqa: S608
)
PG_APPLY_DELTAS = (
    f"UPDATE {ACCOUNT_TABLE} AS a SET balance_minor = a.balance_minor + v.delta "  # noqa: S608
    "FROM unnest(%s::bigint[], %s::bigint[]) AS v(id, delta) WHERE a.id = v.id"
)
#: Batches up to this size take the three-statement path on PostgreSQL.
SMALL_BATCH = 16
# 'k' rows: existing keys; 'i' rows: n fresh ids (one left unused by a replay is a gap in the
# ids); one 'a' row: how many of the named accounts exist, all of them locked in id order.
PG_PLAN_SMALL = (
    f"SELECT 'k', idempotency_key, id, legs_hash FROM {TXN_TABLE} "  # noqa: S608
    "WHERE idempotency_key = ANY(%s) "
    "UNION ALL SELECT 'i', NULL, nextval(%s::regclass), NULL FROM generate_series(1, %s) "
    f"UNION ALL SELECT 'a', NULL, count(*), NULL FROM (SELECT id FROM {ACCOUNT_TABLE} "
    "WHERE id = ANY(%s) ORDER BY id FOR NO KEY UPDATE) AS locked"
)
SQLITE_EXISTING_KEYS = (
    f"SELECT idempotency_key, id, legs_hash FROM {TXN_TABLE} "  # noqa: S608
    "WHERE idempotency_key IN (SELECT value FROM json_each(%s))"
)
SQLITE_MAX_ID = f"SELECT COALESCE(MAX(id), 0) FROM {TXN_TABLE}"  # noqa: S608
SQLITE_INSERT_TXN = (
    f"INSERT INTO {TXN_TABLE} ({_TXN_COLS}) "  # noqa: S608
    f"VALUES ({', '.join(['%s'] * len(TXN_COLUMNS))})"
)
SQLITE_INSERT_ENTRY = (
    f"INSERT INTO {ENTRY_TABLE} ({_ENTRY_COLS}) "  # noqa: S608
    "VALUES (%s, %s, %s, %s)"
)
SQLITE_APPLY_DELTA = (
    f"UPDATE {ACCOUNT_TABLE} SET balance_minor = balance_minor + %s "  # noqa: S608
    "WHERE id = %s"
)


def txn_row(txn_id: int, p: CheckedPosting, created_at: object) -> tuple[Any, ...]:
    """The transaction row in TXN_COLUMNS order."""
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


class PostgresWriter:
    """COPY FROM STDIN through the psycopg 3 connection Django holds in its transaction."""

    def __init__(self) -> None:
        self.cursor = connection.cursor()

    def created_at(self, now: datetime) -> object:
        return now

    def existing(self, keys: list[str]) -> list[tuple[str, int, str]]:
        """(key, id, legs_hash) of the keys already posted: one array parameter, one query."""
        self.cursor.execute(PG_EXISTING_KEYS, [keys])
        return [tuple(row) for row in self.cursor.fetchall()]

    def allocate_ids(self, n: int) -> list[int]:
        self.cursor.execute(PG_NEXT_IDS, [self.sequence(), n])
        low, high, scattered = self.cursor.fetchone()
        return list(scattered) if scattered is not None else list(range(low, high + 1))

    def sequence(self) -> str:
        db = self.cursor.db.settings_dict
        where = (db.get("HOST"), db.get("PORT"), db.get("NAME"))
        sequence = _SEQUENCES.get(where)
        if sequence is None:  # one lookup per database and process: the name never changes
            self.cursor.execute(PG_SEQUENCE, [TXN_TABLE])
            (sequence,) = self.cursor.fetchone()
            _SEQUENCES[where] = sequence
        return sequence

    def plan_small(
        self, keys: list[str], account_ids: list[int]
    ) -> tuple[list[tuple[str, int, str]], list[int]]:
        """The existing keys (as ``existing``) and ``len(keys)`` fresh ids, with every account
        in ``account_ids`` locked (``unknown_account`` if one is missing), in one query."""
        self.cursor.execute(PG_PLAN_SMALL, (keys, self.sequence(), len(keys), account_ids))
        found, ids, accounts = [], [], 0
        for row_kind, key, value, legs_hash in self.cursor.fetchall():
            if row_kind == "k":
                found.append((key, value, legs_hash))
            elif row_kind == "i":
                ids.append(value)
            else:
                accounts = int(value)
        _check_found(len(account_ids), accounts)
        return found, ids

    def insert_small(self, txns: list[tuple[Any, ...]], entries: list[tuple[Any, ...]]) -> None:
        """The transactions and their entries in one statement (entries have no FK)."""
        if not txns:
            return
        txn_row_sql = "(" + ", ".join(["%s"] * len(TXN_COLUMNS)) + ")"
        sql = (
            f"WITH t AS (INSERT INTO {TXN_TABLE} ({_TXN_COLS}) VALUES "  # noqa: S608
            + ", ".join([txn_row_sql] * len(txns))
            + f") INSERT INTO {ENTRY_TABLE} ({_ENTRY_COLS}) VALUES "  # noqa: S608
            + ", ".join(["(%s, %s, %s, %s)"] * len(entries))
        )
        self.cursor.execute(sql, [v for row in (*txns, *entries) for v in row])

    def apply_locked(self, deltas: dict[int, int]) -> None:
        """Move balances of accounts this transaction has locked (``plan_small``)."""
        moving = [i for i in sorted(deltas) if deltas[i]]
        if moving:
            self.cursor.execute(PG_APPLY_DELTAS, [moving, [deltas[i] for i in moving]])

    def _copy(self, sql: str, rows: Iterable[tuple[Any, ...]]) -> None:
        with self.cursor.cursor.copy(sql) as copy:  # the psycopg cursor under Django's wrapper
            for row in rows:
                copy.write_row(row)

    def copy_txns(self, rows: Iterable[tuple[Any, ...]]) -> None:
        """Streams: the server ingests rows while the caller's generator validates the next."""
        self._copy(PG_COPY_TXN, rows)

    def copy_entries(self, rows: Iterable[tuple[Any, ...]]) -> None:
        self._copy(PG_COPY_ENTRY, rows)

    def apply_deltas(self, deltas: dict[int, int]) -> None:
        if not deltas:
            return
        ids = sorted(deltas)
        # Lock in id order first (as post_transaction does) so concurrent posters never deadlock.
        self.cursor.execute(PG_LOCK_ACCOUNTS, [ids])
        _check_found(len(ids), len(self.cursor.fetchall()))
        moving = [i for i in ids if deltas[i]]
        self.cursor.execute(PG_APPLY_DELTAS, [moving, [deltas[i] for i in moving]])


class SqliteWriter:
    """executemany in the one IMMEDIATE transaction (the write lock is already held)."""

    def __init__(self) -> None:
        self.cursor = connection.cursor()

    def created_at(self, now: datetime) -> object:
        return connection.ops.adapt_datetimefield_value(now)

    def existing(self, keys: list[str]) -> list[tuple[str, int, str]]:
        """(key, id, legs_hash) of the keys already posted: the keys go in as one JSON array."""
        self.cursor.execute(SQLITE_EXISTING_KEYS, [json.dumps(keys)])
        return [tuple(row) for row in self.cursor.fetchall()]

    def allocate_ids(self, n: int) -> list[int]:
        self.cursor.execute(SQLITE_MAX_ID)
        row = self.cursor.fetchone()
        start = int(row[0] if row else 0) + 1
        return list(range(start, start + n))

    def copy_txns(self, rows: Iterable[tuple[Any, ...]]) -> None:
        # Materialised first: Django's debug cursor (DEBUG=True) needs len() of the params.
        self.cursor.executemany(SQLITE_INSERT_TXN, list(rows))

    def copy_entries(self, rows: Iterable[tuple[Any, ...]]) -> None:
        self.cursor.executemany(SQLITE_INSERT_ENTRY, list(rows))

    def apply_deltas(self, deltas: dict[int, int]) -> None:
        if not deltas:
            return
        self.cursor.executemany(SQLITE_APPLY_DELTA, [(deltas[i], i) for i in sorted(deltas)])
        _check_found(len(deltas), self.cursor.rowcount)


def _check_found(wanted: int, found: int) -> None:
    """Entries carry no FK constraint, so the balance update is where a missing account shows."""
    if found != wanted:
        raise UnknownAccountError(f"{wanted - found} ledger accounts of this batch do not exist")


Writer = PostgresWriter | SqliteWriter


def writer() -> Writer:
    if connection.vendor == "postgresql":
        return PostgresWriter()
    if connection.vendor == "sqlite":
        return SqliteWriter()
    raise NotImplementedError(f"bulk posting is not implemented for {connection.vendor}")


class BulkRun:
    """One ``post_transactions_bulk`` call: plan, stream, aggregate (see the module docstring)."""

    def __init__(
        self, items: Sequence[Posting], currencies: dict[int, str], now: datetime, batch: int
    ) -> None:
        self.items, self.currencies, self.batch = items, currencies, batch
        self.w = writer()
        self.created_at = self.w.created_at(now)
        self.key_ids: dict[str, int] = {}  # key -> transaction id (existing or new)
        self.hashes: dict[str, str] = {}  # key -> legs hash (existing or first seen in the batch)
        self.deltas: dict[int, int] = {}
        self.entries: list[tuple[Any, ...]] = []
        self.new_ids: list[int] = []
        self.created = 0

    def execute(self) -> list[int]:
        """Write everything; return the transaction id of every item, in input order."""
        keys = self._keys()
        for key, txn_id, legs_hash in self.w.existing(keys):
            self.key_ids[key], self.hashes[key] = txn_id, legs_hash
        fresh = len(keys) - len(self.key_ids)
        self.new_ids = self.w.allocate_ids(fresh) if fresh else []
        for start in range(0, len(self.items), self.batch):
            self.w.copy_txns(self._stream(self.items[start : start + self.batch]))
            self.w.copy_entries(self.entries)
            self.entries = []
        self.w.apply_deltas(self.deltas)
        return [self.key_ids[item.idempotency_key] for item in self.items]

    def execute_small(self) -> list[int]:
        """The short path (see the module docstring): every item is validated before the
        first write. Only for ``is_small`` batches, inside the caller's transaction."""
        w = self.w
        assert isinstance(w, PostgresWriter)
        keys = self._keys()
        found, self.new_ids = w.plan_small(keys, sorted(self.currencies))
        for key, txn_id, legs_hash in found:
            self.key_ids[key], self.hashes[key] = txn_id, legs_hash
        txns = list(self._stream(self.items))
        w.insert_small(txns, self.entries)
        w.apply_locked(self.deltas)
        return [self.key_ids[item.idempotency_key] for item in self.items]

    def _keys(self) -> list[str]:
        keys: dict[str, None] = {}
        for item in self.items:
            key = item.idempotency_key
            if type(key) is not str:
                raise LedgerValidationError(
                    "idempotency_key must be a string", code="invalid_idempotency_key"
                )
            keys[key] = None
        return list(keys)

    def _stream(self, chunk: Sequence[Posting]) -> Iterator[tuple[Any, ...]]:
        """Validate each item and yield the rows of the new ones; replays are skipped."""
        for item in chunk:
            p = check_posting(item, self.currencies)
            key = p.idempotency_key
            known = self.hashes.get(key)
            if known is not None:
                if known != p.legs_hash:
                    raise IdempotencyKeyReusedError(
                        f"idempotency key {key!r} was posted with other legs",
                        idempotency_key=key,
                        transaction_id=self.key_ids.get(key),
                    )
                continue
            txn_id = self.new_ids[self.created]
            self.created += 1
            self.hashes[key], self.key_ids[key] = p.legs_hash, txn_id
            self.entries.extend([(txn_id, a, m, c) for a, c, m in p.legs])
            for account_id, delta in p.deltas.items():
                self.deltas[account_id] = self.deltas.get(account_id, 0) + delta
            yield txn_row(txn_id, p, self.created_at)


def is_small(items: Sequence[Posting]) -> bool:
    """Whether ``items`` take the short path: few, on PostgreSQL, in a transaction."""
    return (
        len(items) <= SMALL_BATCH
        and connection.vendor == "postgresql"
        and connection.in_atomic_block
    )
