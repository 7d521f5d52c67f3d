"""The embedded queue's SQLite settings (billow.jobs.storage)."""

from __future__ import annotations

from pathlib import Path

from billow.jobs.storage import BillowSqliteHuey


def test_the_queue_file_is_wal_with_normal_sync(tmp_path: Path) -> None:
    huey = BillowSqliteHuey("t", filename=str(tmp_path / "jobs.sqlite3"))
    conn = huey.storage.conn
    assert conn.execute("pragma journal_mode").fetchone()[0] == "wal"
    assert conn.execute("pragma synchronous").fetchone()[0] == 1  # NORMAL, not FULL (2)


def test_the_queue_still_queues(tmp_path: Path) -> None:
    huey = BillowSqliteHuey("t", filename=str(tmp_path / "jobs.sqlite3"))
    huey.storage.enqueue(b"one")
    huey.storage.enqueue(b"two")
    assert huey.storage.queue_size() == 2
    assert huey.storage.dequeue() == b"one"
    assert huey.storage.queue_size() == 1
