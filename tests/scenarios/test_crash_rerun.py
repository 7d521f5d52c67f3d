"""Crash test: ``billow bill --date`` killed (os._exit) after a random number of chunks, or in
the middle of one, then rerun: every service-period is charged exactly once and ``billow
reconcile`` passes. Runs against a throwaway database of the suite's engine (a SQLite file, or
a fresh database on the PostgreSQL server)."""

from __future__ import annotations

import contextlib
import json
import os
import random
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
DAY = "2025-03-10"
CLIENTS, PER_CLIENT, CHUNK = 70, 4, 25  # 280 services, about 12 chunks


@contextlib.contextmanager
def throwaway_database(tmp_path: Path) -> Iterator[str]:
    if connection.vendor != "postgresql":
        yield f"sqlite:///{tmp_path / 'crash.sqlite3'}"
        return
    import psycopg

    s = connection.settings_dict
    base = f"postgresql://{s['USER']}:{s['PASSWORD']}@{s['HOST']}:{s['PORT']}"
    name = f"{s['NAME']}_crash_{os.getpid()}"
    with psycopg.connect(f"{base}/{s['NAME']}", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(f"{base}/{s['NAME']}", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=600
    )


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_killed_run_reruns_without_charging_twice(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    crash_after = rng.randint(0, 8)
    mid_chunk = rng.random() < 0.5
    with throwaway_database(tmp_path) as url:
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "BILLOW_VAR_DIR": str(tmp_path / "var"),
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "BILLOW_BILLING_CHUNK_SERVICES": str(CHUNK),
        }
        env.pop("BILLOW_BILL_CRASH_AFTER_CHUNKS", None)
        assert run(["manage.py", "migrate", "-v", "0"], env).returncode == 0
        seeded = run(
            ["-m", "tests.scenarios.crash_helper", "seed", str(CLIENTS), str(PER_CLIENT), DAY], env
        )
        assert seeded.returncode == 0, seeded.stderr
        # given a billing run that dies after `crash_after` chunks (or inside the next one)
        crash_env = {**env, "BILLOW_BILL_CRASH_AFTER_CHUNKS": str(crash_after)}
        if mid_chunk:
            crash_env["BILLOW_BILL_CRASH_MID_CHUNK"] = "1"
        crashed = run(["manage.py", "bill", "--date", DAY], crash_env)
        assert crashed.returncode == 75, crashed.stderr
        partial = json.loads(run(["-m", "tests.scenarios.crash_helper", "verify", DAY], env).stdout)
        assert partial["runs"] == ["running"]
        assert partial["charged_services"] < 240
        # when it is run again (twice)
        for _ in range(2):
            again = run(["manage.py", "bill", "--date", DAY], env)
            assert again.returncode == 0, again.stderr
        # then every payable service was charged exactly once, the rest suspended
        result = json.loads(run(["-m", "tests.scenarios.crash_helper", "verify", DAY], env).stdout)
        poor = len([i for i in range(CLIENTS) if i % 7 == 0]) * PER_CLIENT
        assert result["charged_services"] == CLIENTS * PER_CLIENT - poor
        assert result["max_charges_per_service"] == 1
        assert result["expense_keys_match_ledger"] is True
        assert result["statuses"] == {
            "active": CLIENTS * PER_CLIENT - poor,
            "suspended_nonpayment": poor,
        }
        assert result["runs"][0] == "done"
        reconcile = run(["manage.py", "reconcile"], env)
        assert reconcile.returncode == 0, reconcile.stdout + reconcile.stderr
