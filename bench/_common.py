"""Shared by the benchmarks.

PostgreSQL: a fresh database on ``BENCH_DATABASE_URL``'s server (dropped at exit), or else a
throwaway cluster from ``scripts/postgres-up.sh`` (fsync off), stopped by PID with
``scripts/postgres-down.sh`` at exit. HTTP: a free loopback port, waiting for a server to listen,
latency percentiles."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import time
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
    done = subprocess.run(up, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"postgres-up.sh failed ({done.returncode}): {done.stderr.strip()}")
    return done.stdout.strip()


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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        time.sleep(0.2)
    raise SystemExit("the server did not start")


def pct(values: list[float], q: float) -> float:
    """The ``q`` quantile of ``values`` (seconds) in milliseconds."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def _tree(pid: int) -> list[int]:
    """``pid`` and its descendants (Linux ``/proc``)."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        for task in Path(f"/proc/{p}/task").glob("*/children"):
            with contextlib.suppress(OSError):
                todo += [int(c) for c in task.read_text().split()]
    return out


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) used so far by ``pid`` and its live descendants."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for p in _tree(pid):
        with contextlib.suppress(OSError, IndexError):
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
    return total / tick


def cpu_seconds_named(name: str) -> float:
    """CPU time of every live process whose command is ``name`` (e.g. all of postgres)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError):
            text = stat.read_text()
            if text.split("(", 1)[1].split(")", 1)[0] != name:
                continue
            fields = text.rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
    return total / tick
