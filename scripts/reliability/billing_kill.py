#!/usr/bin/env python
"""The billing run killed with SIGKILL at random points, rerun each time.

    DATABASE_URL=postgresql://... scripts/reliability/billing_kill.py [--kills 50] [--seed 22]

Seeds ``--services`` monthly services (bench/billing_run.py's seed, funded for every month the
check bills), then for each of ``--kills`` consecutive billing dates (one month apart, so every
service is due each time): starts ``billow bill --date D`` in a subprocess with chunks of
``--chunk`` services, SIGKILLs it after a delay drawn from a seeded random (up to the length of
an uninterrupted run, so kills land across chunks), reruns it to completion and checks:
0 duplicate (service, period) charges, every service charged exactly once per date so far.
``billow reconcile`` must exit 0 every 10 dates and at the end. Prints one JSON line
``{"attempts", "failures", "killed_mid_run", "notes"}``; exits 1 on any failure.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FIRST = date(2025, 3, 10)


def month(k: int) -> date:
    m = FIRST.month - 1 + k
    return date(FIRST.year + m // 12, m % 12 + 1, FIRST.day)


def billow(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - fixed argv
        [sys.executable, "-m", "billow.cli", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )


def forked_run(day: date) -> int:
    """``run_billing(day)`` in a forked child (Django is set up once, in the parent: a fork costs
    milliseconds where a new interpreter costs seconds); returns the child's pid."""
    from django.db import connections

    connections.close_all()  # the child opens its own connection
    pid = os.fork()
    if pid == 0:  # the child
        code = 1
        try:
            from billow.billing.run import run_billing

            run_billing(day=day)
            code = 0
        finally:
            os._exit(code)
    return pid


def wait(pid: int, timeout: float | None) -> int | None:
    """The child's exit status, or None when it still runs after ``timeout`` seconds."""
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        done, status = os.waitpid(pid, 0 if deadline is None else os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        if deadline is not None and time.monotonic() >= deadline:
            return None
        time.sleep(0.01)


def seed(services: int, months: int) -> None:
    """Migrate, seed (bench's seed) and fund every wallet for ``months`` renewals."""
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "bench"))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from billing_run import PER_CLIENT, PRICE, TAX, _seed  # the bench's seed: one copy

    from billow.ledger.actions import post_transactions_bulk
    from billow.ledger.models import AccountKind, LedgerAccount
    from billow.ledger.postings import Posting
    from billow.ledger.selectors import get_or_create_account

    _seed(services, FIRST)
    house = get_or_create_account(kind=AccountKind.ADJUSTMENTS, currency="USD")
    fund = (PRICE + TAX) * PER_CLIENT * (months + 1)
    wallets = LedgerAccount.objects.filter(kind=AccountKind.CLIENT_BALANCE).values_list(
        "pk", flat=True
    )
    post_transactions_bulk(
        [Posting("adjustment", [(w, fund), (house.pk, -fund)], f"rel-fund-{w}") for w in wallets]
    )


def charges() -> tuple[int, dict[int, int]]:
    """(duplicate (service, kind, period) groups, charges per service)."""
    from django.db.models import Count

    from billow.billing.models import Expense

    dup = (
        Expense.objects.values("service_id", "kind", "period_from")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .count()
    )
    per = dict(
        Expense.objects.values_list("service_id")
        .annotate(n=Count("id"))
        .values_list("service_id", "n")
    )
    return dup, per


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--kills", type=int, default=50)
    p.add_argument("--seed", type=int, default=22)
    p.add_argument("--services", type=int, default=200)
    p.add_argument("--chunk", type=int, default=20)
    args = p.parse_args()
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    os.environ["BILLOW_BILLING_CHUNK_SERVICES"] = str(args.chunk)
    seed(args.services, args.kills)
    rng = random.Random(args.seed)
    failures, killed, notes = 0, 0, []
    full = 0.0  # seconds of the longest uninterrupted run so far: kills land within a run
    for k in range(args.kills):
        day = month(k)
        pid = forked_run(day)
        if wait(pid, rng.uniform(0.05, full or 2.0)) is None:
            os.kill(pid, signal.SIGKILL)
            wait(pid, None)
            killed += 1
        t0 = time.perf_counter()
        code = wait(forked_run(day), None)
        full = max(full, time.perf_counter() - t0)
        dup, per = charges()
        bad = []
        if code:
            bad.append(f"the rerun of {day} exited {code}")
        if dup:
            bad.append(f"{day}: {dup} duplicate (service, period) charges")
        if sorted(set(per.values())) != [k + 1] or len(per) != args.services:
            bad.append(f"{day}: charges per service {sorted(set(per.values()))} (want [{k + 1}])")
        if bad:
            failures += 1
            notes.extend(bad)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    reconciled = billow("reconcile", env=env)
    if reconciled.returncode:
        failures += 1
        notes.append(f"billow reconcile exited {reconciled.returncode}: {reconciled.stderr[-500:]}")
    summary = {"attempts": args.kills, "failures": failures, "killed_mid_run": killed}
    sys.stdout.write(json.dumps({**summary, "notes": notes}) + "\n")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
