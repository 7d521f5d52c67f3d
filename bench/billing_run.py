#!/usr/bin/env python
"""Billing run throughput on SQLite and PostgreSQL.

    .venv/bin/python bench/billing_run.py [--services 100000] [--million] [--backend both]

For each backend, in one process on one database:

* seeds N monthly services due on one date (10 per client, every client funded and in Germany,
  where the provider adds 19 % VAT), bulk;
* ``raw``: a plain insert of the rows the run writes for them (N ledger transactions, 3N
  entries: wallet, revenue and tax payable, N expenses, N/10 invoices and N invoice lines; COPY
  on PostgreSQL, executemany on SQLite), rolled back: the floor;
* ``run``: ``run_billing`` for that date (chunks of ``--chunk`` services: lock, read, price
  tax, plan, post to the ledger, issue one paid invoice per client with a line per service,
  insert expenses, move paid-until), then checks that every service was renewed once, taxed,
  documented, and that the ledger reconciles.

``--consumers 1,2`` (PostgreSQL, with Redis jobs from ``scripts/redis-up.sh``): instead of the
inline run, for each count K a fresh database is seeded, the raw insert timed, K consumer
processes (``billow run -n -w 1``, ``JOBS_URL`` on that Redis) started, and the wall time from
queueing the day's run to its last chunk measured; the speed-up over one consumer is printed.
``--kill-one`` (two or more consumers) SIGKILLs one of them after the first chunk is billed:
the redispatch janitor (queued every 2 s here, every minute by the scheduler) hands its chunk
to a survivor, and the check is every service renewed once, 0 rows from the duplicate-charge
query and ``billow reconcile`` exiting 0.

Prints services/s and run/raw. PostgreSQL: ``BENCH_DATABASE_URL`` (a fresh database is created
on that server and dropped at exit) or else a throwaway cluster from ``scripts/postgres-up.sh``.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
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
DAY = "2025-03-10"
PER_CLIENT = 10
PRICE = 1000
TAX = 190  # 19 % added


# --- parent ----------------------------------------------------------------------------------
def _run_child(backend: str, url: str, args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "BILLOW_VAR_DIR": str(tmp / "var"),
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "BILLOW_BILLING_CHUNK_SERVICES": str(args.chunk),
    }
    cmd = [sys.executable, __file__, "--child", backend, "--services", str(args.services)]
    if args.consumers:
        cmd += ["--consumers", args.consumers] + (["--kill-one"] if args.kill_one else [])
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=ROOT)
    if out.returncode:
        sys.stderr.write(out.stderr)
        raise SystemExit(f"{backend} child failed")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _report(r: dict[str, Any]) -> None:
    n = r["n"]
    print(f"\n== {r['backend']} ({r['server']}), {n:,} services due, chunks of {r['chunk']:,} ==")
    print(f"seed         : {r['seed_s']:.1f}s")
    print(
        f"raw insert   : {n:,} txns + {3 * n:,} entries + {n:,} expenses + "
        f"{r['invoices']:,} invoices + {n:,} lines in {r['raw_s']:.3f}s"
    )
    print(
        f"billing run  : {r['run_s']:.3f}s = {n / r['run_s']:,.0f} services/s "
        f"({r['run_s'] / r['raw_s']:.2f}x the raw insert)"
    )
    print(
        f"renewed {r['renewed']:,}, charged {r['amount']:,} minor units "
        f"(tax {r['tax']:,}), {r['invoices']:,} invoices with {r['lines']:,} lines; "
        f"reconcile: {'ok' if r['reconciled'] else 'MISMATCH'}"
    )


def _report_consumers(results: list[dict[str, Any]]) -> None:
    base = results[0]
    print(
        f"\n== PostgreSQL + Redis jobs, {base['n']:,} services due, chunks of {base['chunk']:,} =="
    )
    for r in results:
        killed = ", one SIGKILLed mid-run" if r["killed"] else ""
        print(
            f"{r['consumers']} consumer(s){killed}: run {r['run_s']:.2f}s = "
            f"{r['n'] / r['run_s']:,.0f} services/s, raw insert {r['raw_s']:.2f}s "
            f"({r['run_s'] / r['raw_s']:.2f}x), speed-up {base['run_s'] / r['run_s']:.2f}x; "
            f"renewed {r['renewed']:,}, duplicate charges {r['duplicates']}, "
            f"reconcile exit {r['reconcile_exit']}"
        )


def parent_consumers(args: argparse.Namespace) -> int:
    results = []
    with contextlib.ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="billow-bench-")))
        tmp.chmod(0o711)
        redis_dir = str(tmp / "redis")
        stack.callback(
            subprocess.run, [str(ROOT / "scripts" / "redis-down.sh"), redis_dir], check=False
        )
        up = subprocess.run(
            [str(ROOT / "scripts" / "redis-up.sh"), redis_dir], capture_output=True, text=True
        )
        if up.returncode:
            raise SystemExit(f"redis-up.sh failed: {up.stderr.strip()}")
        os.environ["JOBS_URL"] = up.stdout.strip() + "/0"
        for k in [int(x) for x in args.consumers.split(",")]:
            url = postgres_url(tmp, stack, f"billbench{k}")
            one = argparse.Namespace(**{**vars(args), "consumers": str(k)})
            results.append(_run_child("postgres", url, one, tmp))
    _report_consumers(results)
    ok = all(
        r["renewed"] == r["n"] and r["duplicates"] == 0 and r["reconcile_exit"] == 0
        for r in results
    )
    return 0 if ok else 1


def child_consumers(args: argparse.Namespace) -> int:
    """Seed, time the raw insert, then the run over K consumer processes (see the module doc)."""
    import signal

    import django

    sys.path.insert(0, str(ROOT))
    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from datetime import date

    from django.db import connection
    from huey.contrib.djhuey import HUEY

    from billow.billing.models import BillingRun, Expense, RunStatus
    from billow.billing.tasks import redispatch_billing_chunks, run_billing_day

    day = date.fromisoformat(DAY)
    provider_id, service_ids = _seed(args.services, day)
    raw_s = min(_time_raw(provider_id, service_ids, day) for _ in range(2))
    count = int(args.consumers)
    HUEY.flush()
    env = {**os.environ, "BILLOW_BILLING_CHUNK_REDISPATCH_SECONDS": "2"}
    logs = [Path(os.environ["BILLOW_VAR_DIR"]) / f"consumer{i}.log" for i in range(count)]
    procs = []
    for log in logs:
        with log.open("wb") as out:
            procs.append(
                subprocess.Popen(
                    [sys.executable, "manage.py", "run_huey", "-n", "-w", "1"],
                    env=env,
                    cwd=ROOT,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
            )
    deadline = time.monotonic() + 300
    while not all("consumer started" in log.read_text() for log in logs):
        if time.monotonic() > deadline:
            raise SystemExit("consumers did not start")
        time.sleep(0.1)
    killed = False
    t0 = time.perf_counter()
    run_billing_day(day)
    last_redispatch = time.monotonic()
    while True:
        run = BillingRun.objects.filter(date=day).order_by("-id").first()
        if run is not None and run.status == RunStatus.DONE:
            break
        first_done = run is not None and run.chunks.filter(status=RunStatus.DONE).exists()
        if args.kill_one and count > 1 and not killed and first_done:
            procs[0].send_signal(signal.SIGKILL)  # mid-run, likely inside its next chunk
            killed = True
        if killed and time.monotonic() - last_redispatch > 2:
            redispatch_billing_chunks()  # the scheduler's minute janitor, sped up
            last_redispatch = time.monotonic()
        time.sleep(0.05)
    run_s = time.perf_counter() - t0
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
    for proc in procs:
        proc.wait(timeout=120)
    with connection.cursor() as cur:  # the duplicate-charge query
        cur.execute(
            "SELECT service_id, period_from FROM billing_expense WHERE kind = 'charge' "
            "GROUP BY service_id, period_from HAVING COUNT(*) > 1"
        )
        duplicates = len(cur.fetchall())
    reconcile = subprocess.run(
        [sys.executable, "manage.py", "reconcile"], env=env, cwd=ROOT, capture_output=True
    )
    renewed = Expense.objects.filter(period_from=day, kind="charge").count()
    print(
        json.dumps(
            {
                "n": args.services,
                "chunk": int(os.environ.get("BILLOW_BILLING_CHUNK_SERVICES", 5000)),
                "consumers": count,
                "killed": killed,
                "raw_s": raw_s,
                "run_s": run_s,
                "renewed": renewed,
                "duplicates": duplicates,
                "reconcile_exit": reconcile.returncode,
            }
        )
    )
    return 0


def parent(args: argparse.Namespace) -> int:
    if args.consumers:
        return parent_consumers(args)
    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    results = []
    with contextlib.ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="billow-bench-")))
        tmp.chmod(0o711)
        for backend in backends:
            url = (
                f"sqlite:///{tmp / 'bench.sqlite3'}"
                if backend == "sqlite"
                else (postgres_url(tmp, stack, "billbench"))
            )
            results.append(_run_child(backend, url, args, tmp))
            _report(results[-1])
    ok = all(
        r["reconciled"]
        and r["renewed"] == r["n"] == r["lines"]
        and r["tax"] == TAX * r["n"]
        and r["invoices"] == max(1, r["n"] // PER_CLIENT)
        for r in results
    )
    return 0 if ok else 1


# --- child -----------------------------------------------------------------------------------
def child(args: argparse.Namespace) -> int:
    import django

    sys.path.insert(0, str(ROOT))
    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from datetime import date

    day = date.fromisoformat(DAY)
    t0 = time.perf_counter()
    provider_id, service_ids = _seed(args.services, day)
    seed_s = time.perf_counter() - t0
    raw_s = min(_time_raw(provider_id, service_ids, day) for _ in range(2))
    from billow.billing.models import Expense
    from billow.billing.run import run_billing
    from billow.invoicing.models import Invoice, InvoiceLine
    from billow.ledger.selectors import get_reconcile_report

    profile_path = os.environ.get("BENCH_PROFILE")  # a cProfile dump of the run, for tuning
    profiler = cProfile.Profile() if profile_path else None
    t0 = time.perf_counter()
    if profiler:
        profiler.enable()
    run = run_billing(day=day)
    run_s = time.perf_counter() - t0
    if profiler:
        profiler.disable()
        profiler.dump_stats(profile_path)
    tax = sum(Expense.objects.filter(period_from=day).values_list("tax_minor", flat=True))
    print(
        json.dumps(
            {
                "backend": args.child,
                "server": _server(),
                "n": args.services,
                "chunk": int(os.environ.get("BILLOW_BILLING_CHUNK_SERVICES", 5000)),
                "seed_s": seed_s,
                "raw_s": raw_s,
                "run_s": run_s,
                "renewed": run.report["renewed"],
                "amount": run.report["amounts"].get("USD", 0),
                "tax": tax,
                "invoices": Invoice.objects.count(),
                "lines": InvoiceLine.objects.count(),
                "reconciled": get_reconcile_report().ok,
            }
        )
    )
    return 0


def _server() -> str:
    import sqlite3

    from django.db import connection

    if connection.vendor == "sqlite":
        return f"SQLite {sqlite3.sqlite_version}"
    with connection.cursor() as cur:
        cur.execute("SHOW server_version")
        return f"PostgreSQL {cur.fetchone()[0]}"


def _seed(n: int, day: Any) -> tuple[int, list[tuple[int, int]]]:
    """N services on N/10 funded clients, due on ``day``: (provider, [(service, client)])."""
    from django.db import transaction

    from billow.accounts.models import Client, Provider
    from billow.catalog import actions as catalog
    from billow.invoicing.models import TaxRule
    from billow.ledger.actions import post_transactions_bulk
    from billow.ledger.models import AccountKind, LedgerAccount
    from billow.ledger.postings import Posting
    from billow.ledger.selectors import get_or_create_account
    from billow.services.models import Service

    catalog.create_currency(code="USD", name="US dollar", symbol="$")
    provider = Provider.objects.create(name="Bench Hosting", code="bench")
    vps = catalog.create_product_type(name="VPS", intname="vps")
    tariff = catalog.create_tariff(provider_id=provider.pk, product_type=vps, name="VPS")
    catalog.set_tariff_price(tariff=tariff, period="1m", currency="USD", amount_minor=PRICE)
    TaxRule.objects.create(provider=provider, name="VAT DE", country="DE", rate=19)
    clients = max(1, n // PER_CLIENT)
    with transaction.atomic():
        people = Client.objects.bulk_create(
            (Client(name=f"c{i}", email=f"c{i}@example.com", country="DE") for i in range(clients)),
            batch_size=5000,
        )
        wallets = LedgerAccount.objects.bulk_create(
            (
                LedgerAccount(
                    kind=AccountKind.CLIENT_BALANCE, currency="USD", client=c, provider=provider
                )
                for c in people
            ),
            batch_size=5000,
        )
        house = get_or_create_account(kind=AccountKind.ADJUSTMENTS, currency="USD")
        fund = (PRICE + TAX) * PER_CLIENT * 2
        post_transactions_bulk(
            [
                Posting("adjustment", [(w.pk, fund), (house.pk, -fund)], f"bench-fund-{w.pk}")
                for w in wallets
            ]
        )
        Service.objects.bulk_create(
            (
                Service(
                    client=people[i // PER_CLIENT % clients],
                    provider=provider,
                    tariff=tariff,
                    period="1m",
                    currency="USD",
                    billing_mode="anniversary",
                    anchor_day=day.day,
                    status="active",
                    paid_until=day,
                    auto_renew_period="1m",
                )
                for i in range(n)
            ),
            batch_size=5000,
        )
    rows = list(Service.objects.order_by("id").values_list("id", "client_id"))
    return provider.pk, rows


def _time_raw(provider_id: int, services: list[tuple[int, int]], day: Any) -> float:
    """Insert the run's rows without any logic, then roll them back."""
    from django.db import connection, transaction
    from django.utils import timezone

    from billow.accounts.models import Provider
    from billow.billing.models import Expense
    from billow.invoicing.models import Invoice, InvoiceLine
    from billow.ledger import sql as ledger_sql
    from billow.ledger.models import AccountKind, LedgerAccount
    from billow.ledger.selectors import get_or_create_account

    wallets = dict(
        LedgerAccount.objects.filter(kind=AccountKind.CLIENT_BALANCE).values_list("client_id", "id")
    )
    provider = Provider(pk=provider_id)
    revenue = get_or_create_account(
        kind=AccountKind.PROVIDER_REVENUE, currency="USD", provider=provider
    ).pk
    payable = get_or_create_account(
        kind=AccountKind.TAX_PAYABLE, currency="USD", provider=provider
    ).pk
    now: Any = timezone.now()
    pg = connection.vendor == "postgresql"
    stamp = now if pg else connection.ops.adapt_datetimefield_value(now)
    base = 10_000_000
    end = day.replace(month=day.month + 1)
    txns, entries, expenses, invoices, lines = [], [], [], [], []
    invoice_of: dict[int, int] = {}
    snapshot = json.dumps({"name": "Bench Hosting", "email": "", "site_url": ""})
    for k, (sid, cid) in enumerate(services):
        tid = base + k
        if cid not in invoice_of:
            invoice_of[cid] = iid = base + len(invoice_of)
            total = (PRICE + TAX) * PER_CLIENT
            invoices.append(
                (
                    iid,
                    provider_id,
                    cid,
                    None,
                    day.year,
                    iid,
                    "paid",
                    "USD",
                    PRICE * PER_CLIENT,
                    TAX * PER_CLIENT,
                    total,
                    json.dumps({"name": f"c{cid}", "email": "", "country": "DE"}),
                    snapshot,
                    "",
                    stamp,
                    stamp,
                    False,
                )
            )
        key = f"charge:{sid}:{day.isoformat()}"
        txns.append(
            (
                tid,
                "charge",
                key,
                "services.service",
                str(sid),
                "",
                "job",
                "billing_run",
                "0" * 64,
                stamp,
            )
        )
        entries += [
            (tid, wallets[cid], -PRICE - TAX, "USD"),
            (tid, revenue, PRICE, "USD"),
            (tid, payable, TAX, "USD"),
        ]
        expenses.append(
            (
                sid,
                cid,
                provider_id,
                "charge",
                "period",
                key,
                day,
                end,
                PRICE,
                "USD",
                tid,
                "",
                stamp,
                TAX,
                TAX,
                "19.000",
                False,
                invoice_of[cid],
                None,
            )
        )
        lines.append(
            (
                invoice_of[cid],
                k % PER_CLIENT + 1,
                f"VPS #{sid}, {day} - {end}",
                1,
                PRICE,
                0,
                PRICE,
                "19.000",
                TAX,
                PRICE + TAX,
                sid,
                day,
                end,
                None,
                None,
            )
        )
    expense_cols = (
        "service_id, client_id, provider_id, kind, reason, key, period_from, period_to, "
        "amount_minor, currency, transaction_id, description, created_at, tax_minor, "
        "tax_added_minor, tax_rate, reverse_charge, invoice_id, credit_note_id"
    )
    invoice_cols = (
        "id, provider_id, client_id, payer_id, year, number, status, currency, subtotal_minor, "
        "tax_minor, total_minor, payer_snapshot, provider_snapshot, reference, issued_at, "
        "paid_at, reverse_charge"
    )
    line_cols = (
        "invoice_id, position, description, quantity, unit_price_minor, discount_minor, "
        "net_minor, tax_rate, tax_minor, total_minor, service_id, period_from, period_to, "
        "proration, list_price_minor"
    )
    tables = [
        (Invoice._meta.db_table, invoice_cols, invoices),
        (InvoiceLine._meta.db_table, line_cols, lines),
        (Expense._meta.db_table, expense_cols, expenses),
    ]
    start = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cur:
        if pg:
            for sql, rows in (
                (ledger_sql.pg_copy_txn(connection), txns),
                (ledger_sql.pg_copy_entry(connection), entries),
                *((f"COPY {t} ({c}) FROM STDIN", r) for t, c, r in tables),
            ):
                with cur.cursor.copy(sql) as copy:
                    for row in rows:
                        copy.write_row(row)
        else:
            cur.executemany(ledger_sql.sqlite_insert_txn(connection), txns)
            cur.executemany(ledger_sql.sqlite_insert_entry(connection), entries)
            for t, c, r in tables:
                marks = ", ".join(["%s"] * (c.count(",") + 1))
                cur.executemany(f"INSERT INTO {t} ({c}) VALUES ({marks})", r)
        elapsed = time.perf_counter() - start
        transaction.set_rollback(True)
    return elapsed


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--services", type=int, default=100_000)
    p.add_argument("--million", action="store_true", help="1,000,000 services")
    p.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    p.add_argument("--chunk", type=int, default=5000, help="services per run chunk")
    p.add_argument("--consumers", help="e.g. 1,2: PostgreSQL with Redis jobs, K consumers")
    p.add_argument("--kill-one", action="store_true", help="SIGKILL one consumer mid-run")
    p.add_argument("--child", choices=["sqlite", "postgres"], help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.million:
        args.services = 1_000_000
    if args.child:
        return child_consumers(args) if args.consumers else child(args)
    return parent(args)


if __name__ == "__main__":
    sys.exit(main())
