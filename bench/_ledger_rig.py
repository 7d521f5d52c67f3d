"""Fixture and timers for bench/ledger_post.py (runs inside a configured Django process)."""

from __future__ import annotations

import sqlite3
import time
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from billow.accounts.models import Client, Provider
from billow.ledger import sql as ledger_sql
from billow.ledger.actions import post_transaction, post_transactions_bulk
from billow.ledger.models import AccountKind, LedgerAccount, LedgerEntry, LedgerTransaction
from billow.ledger.postings import Posting, account_currencies, check_posting
from billow.ledger.selectors import get_or_create_account, get_reconcile_report

TABLES = (LedgerEntry._meta.db_table, LedgerTransaction._meta.db_table)
ACCOUNT_TABLE = LedgerAccount._meta.db_table


class Rig:
    """N charges from ``wallets`` client balances to one revenue account, and raw rows for them."""

    def __init__(self, n: int, wallets: int) -> None:
        provider = Provider.objects.create(name="Bench Hosting", code="bench")
        clients = Client.objects.bulk_create(
            Client(name=f"Client {i}", email=f"c{i}@example.com") for i in range(wallets)
        )
        LedgerAccount.objects.bulk_create(
            LedgerAccount(
                kind=AccountKind.CLIENT_BALANCE, currency="USD", client=c, provider=provider
            )
            for c in clients
        )
        accounts = list(LedgerAccount.objects.filter(kind=AccountKind.CLIENT_BALANCE))
        revenue = get_or_create_account(
            kind=AccountKind.PROVIDER_REVENUE, currency="USD", provider=provider
        )
        self.items = [
            Posting(
                kind="charge",
                legs=[(accounts[i % wallets], -(100 + i % 997)), (revenue, 100 + i % 997)],
                idempotency_key=f"bench:charge:{i}",
                reference=f"services.expense:{i}",
                actor="billing",
            )
            for i in range(n)
        ]
        # The raw rows: exactly what the bulk path writes, prepared outside the timed section.
        currencies = account_currencies(leg for item in self.items for leg in item.legs)
        checked = [check_posting(item, currencies) for item in self.items]
        now: Any = timezone.now()
        if connection.vendor == "sqlite":
            now = connection.ops.adapt_datetimefield_value(now)
        self.txn_rows = [ledger_sql.txn_row(i, p, now) for i, p in enumerate(checked, start=1)]
        self.entry_rows = [
            (i, a, m, c) for i, p in enumerate(checked, start=1) for a, c, m in p.legs
        ]

    def server(self) -> str:
        if connection.vendor == "sqlite":
            return f"SQLite {sqlite3.sqlite_version}"
        with connection.cursor() as cur:
            cur.execute("SHOW server_version")
            return f"PostgreSQL {cur.fetchone()[0]}"

    def reset(self) -> None:
        """Empty the ledger tables (raw SQL: the ORM refuses), zero the balances."""
        with connection.cursor() as cur:
            if connection.vendor == "postgresql":
                cur.execute(
                    f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE"
                )  # bench DB: other tables are empty
                cur.execute(f"UPDATE {ACCOUNT_TABLE} SET balance_minor = 0")
                cur.execute(f"VACUUM ANALYZE {ACCOUNT_TABLE}")
            else:
                for table in TABLES:
                    cur.execute(f"DELETE FROM {table}")
                cur.execute(f"UPDATE {ACCOUNT_TABLE} SET balance_minor = 0")
                cur.execute("DELETE FROM sqlite_sequence WHERE name IN (%s, %s)", list(TABLES))

    def time_raw(self) -> float:
        start = time.perf_counter()
        with transaction.atomic(), connection.cursor() as cur:
            if connection.vendor == "postgresql":
                for sql, rows in (
                    (ledger_sql.pg_copy_txn(connection), self.txn_rows),
                    (ledger_sql.pg_copy_entry(connection), self.entry_rows),
                ):
                    with cur.cursor.copy(sql) as copy:
                        for row in rows:
                            copy.write_row(row)
            else:
                cur.executemany(ledger_sql.sqlite_insert_txn(connection), self.txn_rows)
                cur.executemany(ledger_sql.sqlite_insert_entry(connection), self.entry_rows)
        return time.perf_counter() - start

    def time_bulk(self) -> float:
        start = time.perf_counter()
        result = post_transactions_bulk(self.items)
        elapsed = time.perf_counter() - start
        assert result.created == len(self.items), result.created
        return elapsed

    def time_single(self, n: int) -> float:
        start = time.perf_counter()
        for p in self.items[:n]:
            post_transaction(
                kind=p.kind,
                legs=p.legs,
                idempotency_key=p.idempotency_key,
                reference=p.reference,
                actor=p.actor,
            )
        return time.perf_counter() - start

    def reconciled(self) -> bool:
        return get_reconcile_report().ok
