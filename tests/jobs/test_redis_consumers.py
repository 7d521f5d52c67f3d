"""Two Huey consumer processes on a real Redis (``JOBS_URL=redis://...``; the Redis pass of
scripts/test.sh): the billing run's chunks spread across both, one consumer dies in the middle
of a chunk (``os._exit`` before its commit, as a SIGKILL would), the chunk is queued again by
the redispatch janitor and billed by the other, and every service is charged exactly once."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection, connections

ROOT = Path(__file__).resolve().parents[2]
DAY = "2025-03-10"
CLIENTS, PER_CLIENT, CHUNK = 70, 4, 10  # 280 services, about 28 chunks

pytestmark = [
    pytest.mark.redis,
    pytest.mark.postgres_only,
    pytest.mark.skipif(
        not settings.JOBS_URL.startswith("redis"), reason="needs JOBS_URL=redis://..."
    ),
]


@contextlib.contextmanager
def migrated_copy() -> Iterator[str]:
    """A new database copied from the suite's migrated test database (``CREATE DATABASE ...
    TEMPLATE``: milliseconds, where migrating a fresh one takes a minute on a busy machine)."""
    import psycopg

    s = connection.settings_dict
    base = f"postgresql://{s['USER']}:{s['PASSWORD']}@{s['HOST']}:{s['PORT']}"
    name = f"{s['NAME']}_consumers_{os.getpid()}"
    connections.close_all()  # the template must have no other session
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{s["NAME"]}"')
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=300
    )


def consumer(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """``billow run -n -w 1``: one worker thread, no scheduler (the test plays the scheduler)."""
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "manage.py", "run_huey", "-n", "-w", "1"],
            env=env,
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def wait_for(predicate: object, timeout: float, step: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return True
        time.sleep(step)
    return False


def chunk_pids(log: Path) -> list[str]:
    return re.findall(r"billing chunk \d+ done in process (\d+)", log.read_text())


@pytest.mark.slow
def test_two_consumers_bill_every_service_once_when_one_dies_mid_chunk(
    tmp_path: Path, django_db_setup: None, django_db_blocker: object
) -> None:
    from huey.contrib.djhuey import HUEY

    from billow.billing.tasks import redispatch_billing_chunks, run_billing_day
    from billow.jobs.storage import BillowRedisHuey

    assert isinstance(HUEY, BillowRedisHuey)
    HUEY.flush()
    with django_db_blocker.unblock(), migrated_copy() as url:  # type: ignore[attr-defined]
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "BILLOW_VAR_DIR": str(tmp_path / "var"),
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "BILLOW_BILLING_CHUNK_SERVICES": str(CHUNK),
            "BILLOW_BILLING_CHUNK_REDISPATCH_SECONDS": "2",
            "LOG_LEVEL": "INFO",
        }
        env.pop("BILLOW_BILL_CRASH_AFTER_CHUNKS", None)
        seeded = run(
            ["-m", "tests.scenarios.crash_helper", "seed", str(CLIENTS), str(PER_CLIENT), DAY], env
        )
        assert seeded.returncode == 0, seeded.stderr
        # given two consumers, the first of which dies inside its second chunk
        dying_log, living_log = tmp_path / "dying.log", tmp_path / "living.log"
        dying = consumer(
            {**env, "BILLOW_BILL_CRASH_AFTER_CHUNKS": "1", "BILLOW_BILL_CRASH_MID_CHUNK": "1"},
            dying_log,
        )
        living = consumer(env, living_log)
        try:
            started = "consumer started"
            assert wait_for(
                lambda: started in dying_log.read_text() and started in living_log.read_text(),
                180,  # a busy CI machine takes long to import Django
            ), dying_log.read_text() + living_log.read_text()
            # when the day's run is queued (as the scheduler does)
            run_billing_day(date.fromisoformat(DAY))
            assert dying.wait(timeout=180) == 75, dying_log.read_text()

            # then the janitor (every minute in production) queues the lost chunk again ...
            def finished() -> bool:
                out = run(["-m", "tests.scenarios.crash_helper", "verify", DAY], env).stdout
                if json.loads(out)["runs"] == ["done"]:
                    return True
                redispatch_billing_chunks()
                return False

            assert wait_for(finished, 180, step=1.0), living_log.read_text()
        finally:
            for proc in (dying, living):
                if proc.poll() is None:
                    proc.send_signal(signal.SIGINT)
            for proc in (dying, living):
                try:
                    proc.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    proc.kill()
            HUEY.flush()
        # SIGINT: the consumer finishes the job in hand, then exits cleanly
        assert living.returncode == 0, living_log.read_text()
        # ... and both consumers billed chunks, every payable service charged exactly once
        assert len(chunk_pids(dying_log)) == 1
        assert chunk_pids(living_log)
        assert "queued again" in living_log.read_text()
        result = json.loads(run(["-m", "tests.scenarios.crash_helper", "verify", DAY], env).stdout)
        poor = len([i for i in range(CLIENTS) if i % 7 == 0]) * PER_CLIENT
        assert result["charged_services"] == CLIENTS * PER_CLIENT - poor
        assert result["max_charges_per_service"] == 1
        assert result["expense_keys_match_ledger"] is True
        assert result["statuses"] == {
            "active": CLIENTS * PER_CLIENT - poor,
            "suspended_nonpayment": poor,
        }
        reconcile = run(["manage.py", "reconcile"], env)
        assert reconcile.returncode == 0, reconcile.stdout + reconcile.stderr


def test_each_periodic_task_of_a_minute_goes_to_one_scheduler() -> None:
    from datetime import datetime

    from billow.jobs.storage import BillowRedisHuey

    url = settings.HUEY["url"]
    first = BillowRedisHuey("billow-periodic-test", url=url, utc=True)
    second = BillowRedisHuey("billow-periodic-test", url=url, utc=True)

    @first.periodic_task(lambda moment: True, name="every_minute")
    def every_minute_here() -> None:
        pass

    @second.periodic_task(lambda moment: True, name="every_minute")
    def every_minute_there() -> None:
        pass

    minute = datetime(2031, 1, 2, 3, 4, 5)
    next_minute = datetime(2031, 1, 2, 3, 5, 0)
    first.storage.conn.delete(
        *first.storage.conn.keys("billow:periodic:billow-periodic-test:*") or ["-"]
    )
    assert [t.name for t in first.read_periodic(minute)] == ["every_minute"]
    assert second.read_periodic(minute.replace(second=40)) == []  # same minute: taken
    assert [t.name for t in second.read_periodic(next_minute)] == ["every_minute"]
    assert first.read_periodic(next_minute) == []
