"""PostgreSQL for the benchmarks: a fresh database on ``BENCH_DATABASE_URL``'s server (dropped at
exit), or else a throwaway cluster from ``scripts/postgres-up.sh`` (fsync off), stopped by PID
with ``scripts/postgres-down.sh`` at exit."""

from __future__ import annotations

import contextlib
import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def postgres_url(tmp: Path, stack: contextlib.ExitStack, tag: str = "bench") -> str:
    given = os.environ.get("BENCH_DATABASE_URL")
    if given:
        return fresh_database(given, stack, tag)
    tmp.chmod(0o755)  # the postgres OS user (when run as root) must reach its data dir
    pgdir = str(tmp / "pg")
    down = [str(ROOT / "scripts" / "postgres-down.sh"), pgdir]
    stack.callback(subprocess.run, down, check=False)  # runs before tmp is removed
    up = [str(ROOT / "scripts" / "postgres-up.sh"), pgdir]
    return subprocess.run(up, check=True, capture_output=True, text=True).stdout.strip()


def fresh_database(url: str, stack: contextlib.ExitStack, tag: str = "bench") -> str:
    """Create ``<db>_<tag>_<pid>`` next to the given database; drop it at exit."""
    import psycopg

    base, _, dbname = url.rpartition("/")
    name = f"{dbname.split('?')[0]}_{tag}_{os.getpid()}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    stack.callback(drop)
    return f"{base}/{name}"
