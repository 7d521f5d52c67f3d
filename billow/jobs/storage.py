"""The job queues: the embedded one (Huey's SQLite storage with ``synchronous=NORMAL``) and
Redis for many consumers (:class:`BillowRedisHuey`).

Huey's ``SqliteStorage`` leaves SQLite at its default ``synchronous=FULL``, so every enqueue
(one per operation, from the web request that commits it) and every dequeue waits for an fsync.
In WAL mode ``NORMAL`` keeps the file consistent through crashes and power loss and only risks
the last commits before a power loss -- jobs the database-driven janitor re-dispatches anyway
(the rows, not the queue, are the source of truth; DESIGN §6).
"""

from __future__ import annotations

import os
import sqlite3
from datetime import datetime
from typing import Any

from huey import RedisHuey, SqliteHuey
from huey.storage import SqliteStorage


class NormalSyncSqliteStorage(SqliteStorage):
    def _create_connection(self) -> sqlite3.Connection:
        conn: sqlite3.Connection = super()._create_connection()
        conn.execute("pragma synchronous=NORMAL")
        return conn


class BillowSqliteHuey(SqliteHuey):
    storage_class = NormalSyncSqliteStorage


class BillowRedisHuey(RedisHuey):
    """The queue of a multi-node deployment (``JOBS_URL=redis://...``): any number of consumers
    on any machines, each running the periodic scheduler.

    Every scheduler asks for the periodic tasks due in a minute; each task of that minute is
    handed to one scheduler only, by a lock in Redis (``SET NX`` of ``billow:periodic:<task>:
    <minute>``, expiring after an hour). So ``billow run`` on every job node schedules each
    periodic job once, and losing any one node loses no schedule.
    """

    #: How long a (task, minute) claim is kept: far longer than schedulers' clocks drift apart.
    PERIODIC_CLAIM_SECONDS = 3600

    def read_periodic(self, timestamp: datetime | None) -> list[Any]:
        due = super().read_periodic(timestamp)
        minute = (timestamp or self._get_timestamp()).strftime("%Y%m%d%H%M")
        return [task for task in due if self.claim_periodic(task.name, minute)]

    def claim_periodic(self, task_name: str, minute: str) -> bool:
        """True for the first scheduler to claim ``task_name`` in ``minute``, False after."""
        key = f"billow:periodic:{self.name}:{task_name}:{minute}"
        conn = self.storage.conn
        return bool(conn.set(key, os.getpid(), nx=True, ex=self.PERIODIC_CLAIM_SECONDS))
