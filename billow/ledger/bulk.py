"""The set-based path behind ``post_transactions_bulk``: COPY on PostgreSQL, executemany on SQLite.

The statements are in ``billow.ledger.sql``; this module decides what to write. Everything
runs inside the action's ``transaction.atomic()``. Order of work (``BulkRun``):

1. one query finds which keys already exist (with their legs hash);
2. ids for the new transactions are allocated up front (from the sequence on PostgreSQL,
   ``max(id)+1`` under SQLite's write lock) so entries point at them without a round trip;
3. per chunk of ``LEDGER_BULK_BATCH`` items, each item is validated *while* its transaction row
   is streamed into COPY, so the server indexes rows while Python validates the next ones (on a
   2-core box this overlap is what reaches the throughput target); then the chunk's entries;
4. one aggregated delta per account, accounts locked in id order, a balance that would leave
   its currency's limit refused (``balance_out_of_range``) by the balance UPDATE itself.

Any refusal raised mid-stream aborts the COPY and rolls the atomic block back: nothing is written.

A small batch on PostgreSQL inside the caller's transaction (``SMALL_BATCH`` items or fewer: an
order's charges) takes a shorter path of two statements: (1) the existing keys, fresh ids and
the lock of every account the legs name (in id order) in one query; every item is then validated
before anything is written; (2) the transactions, their entries and the balance moves in one
statement (data-modifying WITH parts). Like the general path it runs in a savepoint (two
statements more), so a database error (a key posted concurrently, a balance out of range)
leaves the caller's transaction usable.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from billow.ledger import sql
from billow.ledger.errors import IdempotencyKeyReusedError, LedgerValidationError
from billow.ledger.postings import Posting, check_posting

SMALL_BATCH = sql.SMALL_BATCH


class BulkRun:
    """One ``post_transactions_bulk`` call: plan, stream, aggregate (see the module docstring)."""

    def __init__(
        self, items: Sequence[Posting], currencies: dict[int, str], now: datetime, batch: int
    ) -> None:
        self.items, self.currencies, self.batch = items, currencies, batch
        self.w = sql.writer(sql.connection())
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
        self.w.apply_deltas(self.deltas, self.currencies)
        return [self.key_ids[item.idempotency_key] for item in self.items]

    def execute_small(self) -> list[int]:
        """The short path (see the module docstring): every item is validated before the
        first write. Only for ``is_small`` batches, inside the caller's transaction."""
        w = self.w
        assert isinstance(w, sql.PostgresWriter)
        keys = self._keys()
        found, self.new_ids = w.plan_small(keys, sorted(self.currencies))
        for key, txn_id, legs_hash in found:
            self.key_ids[key], self.hashes[key] = txn_id, legs_hash
        txns = list(self._stream(self.items))
        w.insert_small(txns, self.entries, self.deltas, self.currencies)
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
            yield sql.txn_row(txn_id, p, self.created_at)


def is_small(items: Sequence[Posting]) -> bool:
    """Whether ``items`` take the short path: few, on PostgreSQL, in a transaction."""
    conn = sql.connection()
    return len(items) <= SMALL_BATCH and conn.vendor == "postgresql" and conn.in_atomic_block
