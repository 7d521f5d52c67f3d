#!/usr/bin/env python
"""Referral payout on the 1st, on PostgreSQL (or SQLite).

    .venv/bin/python bench/referral_payout.py [--partners 1000] [--referrals 100]
                                              [--backend postgres] [--catch-up]

In one process on one fresh database:

* seeds P partners with R referrals each (one program: 10 % of every charge, on charge) and a
  month of charges: every referral's monthly service charged once in January, on a day spread
  over the month (P x R expenses, bulk);
* ``daily``: the referral job of 2 to 31 January, as the schedule runs it (each day sees the
  day before's charges); the slowest day is printed;
* ``raw``: a plain insert of the rows the run of 1 February writes (31 January's referral
  charges and accruals, one reward per partner for that day with its ledger transaction and
  two entries, P payouts with theirs; COPY on PostgreSQL, executemany on SQLite), rolled back;
* ``run``: ``run_referral_day`` for 1 February: the last day's rewards, then every partner
  paid the month's rewards (P x 31 reward rows) to its balance;
* ``rerun``: the same day again (must write nothing), then checks every partner was paid
  exactly 10 % of its referrals' charges and the ledger reconciles.

``--catch-up`` skips the daily runs: the run of 1 February then accrues the whole month at
once (a consumer that was down all month) before paying.

Prints the run's seconds and run/raw. PostgreSQL: ``BENCH_DATABASE_URL`` (a fresh database on
that server, dropped at exit) or else a throwaway cluster from ``scripts/postgres-up.sh``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import postgres_url

ROOT = Path(__file__).resolve().parent.parent
PRICE = 1000  # 10.00 a month, no tax
REWARD = 100  # 10 %
MONTH_DAYS = 31


# --- parent ----------------------------------------------------------------------------------
def _run_child(backend: str, url: str, args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "BILLOW_VAR_DIR": str(tmp / "var"),
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    cmd = [
        sys.executable,
        __file__,
        "--child",
        backend,
        "--partners",
        str(args.partners),
        "--referrals",
        str(args.referrals),
        *(["--catch-up"] if args.catch_up else []),
    ]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=ROOT)
    if out.returncode:
        sys.stderr.write(out.stderr)
        raise SystemExit(f"{backend} child failed")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _report(r: dict[str, Any]) -> None:
    n = r["partners"] * r["referrals"]
    print(
        f"\n== {r['backend']} ({r['server']}), {r['partners']:,} partners x "
        f"{r['referrals']:,} referrals = {n:,} charges in January =="
    )
    print(f"seed         : {r['seed_s']:.1f}s")
    if r["daily_days"]:
        print(f"daily runs   : {r['daily_days']} days, slowest {r['daily_max_s']:.3f}s")
    print(
        f"raw insert   : {r['raw_charges']:,} charges + {r['raw_charges']:,} accruals + "
        f"{r['raw_rewards']:,} rewards + {r['payouts']:,} payouts, their ledger rows, "
        f"in {r['raw_s']:.3f}s"
    )
    print(
        f"run of 1 Feb : {r['run_s']:.3f}s ({r['run_s'] / r['raw_s']:.2f}x the raw insert): "
        f"{'whole month' if r['catch_up'] else 'last day'} accrued, "
        f"{r['payouts']:,} partners paid from {r['rewards']:,} reward rows"
    )
    print(f"rerun        : {r['rerun_s']:.3f}s, wrote {r['rerun_writes']} rows")
    print(
        f"paid {r['paid']:,} minor units (expected {r['expected']:,}); reconcile: "
        f"{'ok' if r['reconciled'] else 'MISMATCH'}"
    )


def parent(args: argparse.Namespace) -> int:
    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    results = []
    with contextlib.ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="billow-bench-")))
        tmp.chmod(0o711)
        for backend in backends:
            url = (
                f"sqlite:///{tmp / 'bench.sqlite3'}"
                if backend == "sqlite"
                else postgres_url(tmp, stack, "refbench")
            )
            results.append(_run_child(backend, url, args, tmp))
            _report(results[-1])
    ok = all(
        r["reconciled"] and r["paid"] == r["expected"] and r["rerun_writes"] == 0 for r in results
    )
    return 0 if ok else 1


# --- child -----------------------------------------------------------------------------------
def child(args: argparse.Namespace) -> int:
    import django

    sys.path.insert(0, str(ROOT))
    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from datetime import date, timedelta

    from billow.ledger.selectors import get_reconcile_report
    from billow.marketing.referrals.daily import run_referral_day
    from billow.marketing.referrals.models import ReferralPayout

    t0 = time.perf_counter()
    seeded = _seed(args.partners, args.referrals)
    seed_s = time.perf_counter() - t0
    daily = []
    if not args.catch_up:
        for d in range(2, 32):
            t0 = time.perf_counter()
            run_referral_day(day=date(2025, 1, d))
            daily.append(time.perf_counter() - t0)
    day = date(2025, 2, 1)
    last = None if args.catch_up else day - timedelta(days=1)
    raw_s, raw_charges, raw_rewards = _time_raw(seeded, last)
    raw_s = min(raw_s, _time_raw(seeded, last)[0])
    t0 = time.perf_counter()
    run_referral_day(day=day)
    run_s = time.perf_counter() - t0
    before = _row_count()
    t0 = time.perf_counter()
    run_referral_day(day=day)
    rerun_s = time.perf_counter() - t0
    payouts = list(ReferralPayout.objects.values_list("amount_minor", flat=True))
    print(
        json.dumps(
            {
                "backend": args.child,
                "server": _server(),
                "partners": args.partners,
                "referrals": args.referrals,
                "seed_s": seed_s,
                "raw_s": raw_s,
                "run_s": run_s,
                "rerun_s": rerun_s,
                "rerun_writes": _row_count() - before,
                "rewards": seeded["rewards"],
                "catch_up": args.catch_up,
                "daily_days": len(daily),
                "daily_max_s": max(daily, default=0.0),
                "raw_charges": raw_charges,
                "raw_rewards": raw_rewards,
                "payouts": len(payouts),
                "paid": sum(payouts),
                "expected": REWARD * args.partners * args.referrals,
                "reconciled": get_reconcile_report().ok,
            }
        )
    )
    return 0


def _row_count() -> int:
    from billow.ledger.models import LedgerEntry, LedgerTransaction
    from billow.marketing.referrals.models import (
        ReferralAccrual,
        ReferralCharge,
        ReferralPayout,
        ReferralReward,
    )

    models = (ReferralCharge, ReferralAccrual, ReferralReward, ReferralPayout)
    return sum(m.objects.count() for m in (*models, LedgerTransaction, LedgerEntry))


def _server() -> str:
    import sqlite3

    from django.db import connection

    if connection.vendor == "sqlite":
        return f"SQLite {sqlite3.sqlite_version}"
    with connection.cursor() as cur:
        cur.execute("SHOW server_version")
        return f"PostgreSQL {cur.fetchone()[0]}"


def _seed(partners: int, per_partner: int) -> dict[str, Any]:
    """Partners, referrals, one service each and its January charge (expense rows only: the
    referral job reads billing's expenses, not the ledger)."""
    from datetime import UTC, date, datetime, timedelta
    from decimal import Decimal

    from django.db import connection, transaction

    from billow.accounts.models import Client, Provider
    from billow.billing.models import Expense
    from billow.catalog import actions as catalog
    from billow.marketing.referrals.models import Referral, ReferralPartner
    from billow.marketing.referrals.programs import add_referral_rule, create_referral_program
    from billow.services.models import Service

    catalog.create_currency(code="USD", name="US dollar", symbol="$")
    provider = Provider.objects.create(name="Bench Hosting", code="bench")
    vps = catalog.create_product_type(name="VPS", intname="vps")
    tariff = catalog.create_tariff(provider_id=provider.pk, product_type=vps, name="VPS")
    program = create_referral_program(
        provider=provider,
        name="Partners",
        currency="USD",
        starts_on=date(2025, 1, 1),
        website_url="https://bench.example/",
    )
    add_referral_rule(program=program, accrual_type="percent", percent=Decimal(10))
    n = partners * per_partner
    joined = datetime(2024, 12, 20, tzinfo=UTC)
    with transaction.atomic():
        owners = Client.objects.bulk_create(
            (Client(name=f"p{i}", email=f"p{i}@example.com") for i in range(partners)),
            batch_size=5000,
        )
        partner_rows = ReferralPartner.objects.bulk_create(
            (ReferralPartner(program=program, client=c, joined_at=joined) for c in owners),
            batch_size=5000,
        )
        people = Client.objects.bulk_create(
            (Client(name=f"r{i}", email=f"r{i}@example.com") for i in range(n)), batch_size=5000
        )
        Referral.objects.bulk_create(
            (
                Referral(
                    partner=partner_rows[i // per_partner],
                    client=c,
                    source="link",
                    joined_at=joined,
                )
                for i, c in enumerate(people)
            ),
            batch_size=5000,
        )
        Service.objects.bulk_create(
            (
                Service(
                    client=c,
                    provider=provider,
                    tariff=tariff,
                    period="1m",
                    currency="USD",
                    billing_mode="anniversary",
                    status="active",
                    auto_renew_period="1m",
                )
                for c in people
            ),
            batch_size=5000,
        )
        services = list(Service.objects.order_by("id").values_list("id", "client_id"))
        rows = []
        for k, (sid, cid) in enumerate(services):
            start = date(2025, 1, 1) + timedelta(days=k % MONTH_DAYS)
            end = start.replace(month=2) if start.day <= 28 else date(2025, 2, 28)
            at = datetime(start.year, start.month, start.day, 0, 5, tzinfo=UTC)
            key = f"charge:{sid}:{start}"
            head = (sid, cid, provider.pk, "charge", "period", key, start, end)
            rows.append((*head, PRICE, "USD", None, "", at, 0, 0, "0", False, None, None))
        cols = (
            "service_id, client_id, provider_id, kind, reason, key, period_from, period_to, "
            "amount_minor, currency, transaction_id, description, created_at, tax_minor, "
            "tax_added_minor, tax_rate, reverse_charge, invoice_id, credit_note_id"
        )
        _copy(connection, Expense._meta.db_table, cols, rows)
    days = min(MONTH_DAYS, n)
    return {
        "provider": provider.pk,
        "program": program.pk,
        "rule": program.rules.get().pk,
        "partners": [(p.pk, p.client_id) for p in partner_rows],
        "per_partner": per_partner,
        "expenses": list(
            Expense.objects.order_by("id").values_list("id", "client_id", "created_at")
        ),
        "rewards": partners * min(days, per_partner),
    }


def _copy(connection: Any, table: str, cols: str, rows: list[tuple[Any, ...]]) -> None:
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            with cur.cursor.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join(["%s"] * (cols.count(",") + 1))
            adapt = connection.ops.adapt_datetimefield_value
            fixed = [
                tuple(adapt(v) if hasattr(v, "tzinfo") and hasattr(v, "hour") else v for v in r)
                for r in rows
            ]
            cur.executemany(f"INSERT INTO {table} ({cols}) VALUES ({marks})", fixed)


def _time_raw(seeded: dict[str, Any], last: Any) -> tuple[float, int, int]:
    """Insert the rows the run of the 1st writes, without any logic, then roll them back:
    ``last`` day's charges (every day's with ``last`` None), their accruals and rewards, and
    the payouts. Returns (seconds, charges, rewards)."""
    from datetime import date

    from django.db import connection, transaction
    from django.utils import timezone

    from billow.ledger import sql as ledger_sql
    from billow.ledger.models import AccountKind, LedgerAccount
    from billow.marketing.referrals.models import (
        Referral,
        ReferralAccrual,
        ReferralCharge,
        ReferralPayout,
        ReferralReward,
    )

    pg = connection.vendor == "postgresql"
    now: Any = timezone.now()
    stamp = now if pg else connection.ops.adapt_datetimefield_value(now)
    referral_of = dict(Referral.objects.values_list("client_id", "id"))
    per = seeded["per_partner"]
    partners = seeded["partners"]
    rule = seeded["rule"]
    base = 50_000_000
    charges, accruals, rewards, payouts, txns, entries = [], [], [], [], [], []
    reward_of: dict[tuple[int, Any], int] = {}
    with transaction.atomic():
        expense_acc = LedgerAccount.objects.get_or_create(
            kind=AccountKind.REFERRAL_EXPENSE, currency="USD", provider_id=seeded["provider"]
        )[0].pk
        payable = {}
        balance = {}
        for pid, cid in partners:
            payable[pid] = LedgerAccount.objects.get_or_create(
                kind=AccountKind.REFERRAL_PAYABLE,
                currency="USD",
                client_id=cid,
                provider_id=seeded["provider"],
            )[0].pk
            balance[pid] = LedgerAccount.objects.get_or_create(
                kind=AccountKind.CLIENT_BALANCE,
                currency="USD",
                client_id=cid,
                provider_id=seeded["provider"],
            )[0].pk
        for k, (eid, cid, at) in enumerate(seeded["expenses"]):
            if last is not None and at.date() != last:
                continue
            ref = referral_of[cid]
            pid = partners[k // per][0]
            charge_id = eid
            charges.append(
                (
                    charge_id,
                    ref,
                    eid,
                    at.date(),
                    at.date(),
                    PRICE,
                    "USD",
                    at if pg else connection.ops.adapt_datetimefield_value(at),
                    True,
                    None,
                )
            )
            key = (pid, at.date())
            if key not in reward_of:
                rid = reward_of[key] = base + len(reward_of)
                rewards.append((rid, pid, rule, at.date(), 0, "USD", date(2025, 2, 1), None))
                tid = base + len(txns)
                txns.append(
                    (
                        tid,
                        "referral_reward",
                        f"referral:reward:{rid}",
                        "marketing.referralreward",
                        str(rid),
                        "",
                        "system",
                        "",
                        "0" * 64,
                        stamp,
                    )
                )
                entries += [(tid, payable[pid], REWARD, "USD"), (tid, expense_acc, -REWARD, "USD")]
            accruals.append(
                (base + k, rule, pid, ref, charge_id, REWARD, 0, 0, at.date(), reward_of[key])
            )
        for pid, _ in partners:
            payid = base + len(payouts)
            payouts.append(
                (
                    payid,
                    pid,
                    date(2025, 2, 1),
                    "USD",
                    REWARD * per,
                    "balance",
                    "paid",
                    "",
                    stamp,
                    "",
                    stamp,
                )
            )
            tid = base + len(txns)
            txns.append(
                (
                    tid,
                    "referral_payout",
                    f"referral:payout:{pid}:2025-02-01:USD",
                    "marketing.referralpayout",
                    str(payid),
                    "",
                    "system",
                    "",
                    "0" * 64,
                    stamp,
                )
            )
            entries += [
                (tid, payable[pid], -REWARD * per, "USD"),
                (tid, balance[pid], REWARD * per, "USD"),
            ]
        tables = [
            (
                ReferralCharge._meta.db_table,
                "id, referral_id, service_id, period_from, period_to, net_minor, currency, "
                "charged_at, eligible, paid_at",
                charges,
            ),
            (
                ReferralReward._meta.db_table,
                "id, partner_id, rule_id, day, amount_minor, currency, run_day, payout_id",
                rewards,
            ),
            (
                ReferralAccrual._meta.db_table,
                "id, rule_id, partner_id, referral_id, charge_id, amount_minor, reversed_minor, "
                "withheld_minor, due_on, reward_id",
                accruals,
            ),
            (
                ReferralPayout._meta.db_table,
                "id, partner_id, month, currency, amount_minor, method, status, decided_by, "
                "decided_at, reason, created_at",
                payouts,
            ),
        ]
        start = time.perf_counter()
        with connection.cursor() as cur:
            if pg:
                for sql, rows in (
                    (ledger_sql.pg_copy_txn(connection), txns),
                    (ledger_sql.pg_copy_entry(connection), entries),
                ):
                    with cur.cursor.copy(sql) as copy:
                        for row in rows:
                            copy.write_row(row)
            else:
                cur.executemany(ledger_sql.sqlite_insert_txn(connection), txns)
                cur.executemany(ledger_sql.sqlite_insert_entry(connection), entries)
        for t, c, r in tables:
            _copy(connection, t, c, r)
        elapsed = time.perf_counter() - start
        transaction.set_rollback(True)
    return elapsed, len(charges), len(rewards)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--partners", type=int, default=1000)
    p.add_argument("--referrals", type=int, default=100, help="referrals per partner")
    p.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="postgres")
    p.add_argument("--catch-up", action="store_true", help="no daily runs before the 1st")
    p.add_argument("--child", choices=["sqlite", "postgres"], help=argparse.SUPPRESS)
    args = p.parse_args()
    return child(args) if args.child else parent(args)


if __name__ == "__main__":
    sys.exit(main())
