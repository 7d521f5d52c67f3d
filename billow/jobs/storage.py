"""The embedded job queue: Huey's SQLite storage with ``synchronous=NORMAL``.

Huey's ``SqliteStorage`` leaves SQLite at its default ``synchronous=FULL``, so every enqueue
(one per operation, from the web request that commits it) and every dequeue waits for an fsync.
In WAL mode ``NORMAL`` keeps the file consistent through crashes and power loss and only risks
the last commits before a power loss -- jobs the database-driven janitor re-dispatches anyway
(the rows, not the queue, are the source of truth; DESIGN §6).
"""

from __future__ import annotations

import sqlite3

from huey import SqliteHuey
from huey.storage import SqliteStorage


class NormalSyncSqliteStorage(SqliteStorage):
    def _create_connection(self) -> sqlite3.Connection:
        conn: sqlite3.Connection = super()._create_connection()
        conn.execute("pragma synchronous=NORMAL")
        return conn


class BillowSqliteHuey(SqliteHuey):
    storage_class = NormalSyncSqliteStorage
