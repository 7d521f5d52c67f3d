#!/usr/bin/env python
"""Migration import throughput (``billow import``) on PostgreSQL (or SQLite).

    .venv/bin/python bench/import.py [--clients 100000] [--services-per-client 3]
                                     [--backend postgres|sqlite]

In one process on one fresh database:

* builds a bundle in memory: N clients, each with its owner login (a bcrypt hash, as WHMCS
  writes them), every fifth with a company payer, every other with an opening balance, and
  ``--services-per-client`` services on three mapped tariffs (two on a module instance);
* ``import``: ``import_bundle`` of it (plan + one transaction through the owners' bulk
  actions), then checks the counts, that the balances sum to the bundle's to the cent, that
  the ledger reconciles and that a rerun plans nothing to create;
* ``raw``: the same rows -- every row the import wrote, read back -- COPYed into empty copies
  of their tables (``CREATE TABLE ... (LIKE ... INCLUDING ALL)``: same indexes and checks, no
  foreign keys): the floor (on SQLite an ``INSERT ... SELECT`` into the copies).

Prints clients/s, services/s and import/raw. PostgreSQL: ``BENCH_DATABASE_URL`` (a fresh
database on that server, dropped at exit) or a throwaway cluster from scripts/postgres-up.sh.
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
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from _common import postgres_url

ROOT = Path(__file__).resolve().parent.parent
BCRYPT = "$2y$10$" + "abcdefghijklmnopqrstuv" + "ABCDEFGHIJKLMNOPQRSTUVWXYZ01234"  # shape only
#: The tables the import writes (app label, model), the order the raw copy loads them in.
TABLES = [
    ("accounts", "Client"),
    ("accounts", "Client_providers"),
    ("auth", "User"),
    ("accounts", "ClientUser"),
    ("accounts", "Payer"),
    ("accounts", "AccountEvent"),
    ("ledger", "LedgerAccount"),
    ("ledger", "LedgerTransaction"),
    ("ledger", "LedgerEntry"),
    ("services", "Service"),
    ("services", "ServiceEvent"),
    ("imports", "ImportedRecord"),
]


# --- parent ----------------------------------------------------------------------------------
def parent(args: argparse.Namespace) -> int:
    with contextlib.ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="billow-bench-")))
        tmp.chmod(0o711)
        if args.backend == "sqlite":
            url = f"sqlite:///{tmp / 'bench.sqlite3'}"
        else:
            url = postgres_url(tmp, stack, "importbench")
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
            "--clients",
            str(args.clients),
            "--services-per-client",
            str(args.services_per_client),
        ]
        out = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=ROOT)
        if out.returncode:
            sys.stderr.write(out.stderr)
            raise SystemExit("child failed")
        r = json.loads(out.stdout.strip().splitlines()[-1])
    n, s = r["clients"], r["services"]
    print(f"\n== {r['server']}: {n:,} clients, {s:,} services, {r['rows']:,} rows written ==")
    print(f"bundle built : {r['build_s']:.1f}s")
    print(
        f"import       : {r['import_s']:.2f}s = {n / r['import_s']:,.0f} clients/s, "
        f"{s / r['import_s']:,.0f} services/s (plan {r['plan_s']:.2f}s)"
    )
    print(f"raw copy     : {r['raw_s']:.2f}s of the same {r['rows']:,} rows")
    print(f"import / raw : {r['import_s'] / r['raw_s']:.2f}x")
    print(f"rerun        : {r['rerun_s']:.2f}s, {r['rerun_creates']} rows planned to create")
    print(
        f"balances {'ok' if r['balances_ok'] else 'MISMATCH'}, "
        f"reconcile {'ok' if r['reconciled'] else 'MISMATCH'}"
    )
    ok = r["balances_ok"] and r["reconciled"] and r["rerun_creates"] == 0 and r["counts_ok"]
    return 0 if ok else 1


# --- child -----------------------------------------------------------------------------------
def child(args: argparse.Namespace) -> int:
    import django

    sys.path.insert(0, str(ROOT))
    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    mapping = _catalog()
    t0 = time.perf_counter()
    bundle = _bundle(args.clients, args.services_per_client)
    build_s = time.perf_counter() - t0

    from billow.imports.plan import plan_import
    from billow.imports.run import import_bundle
    from billow.imports.state import load_state

    t0 = time.perf_counter()
    plan_import(bundle, mapping, load_state(bundle))
    plan_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    import_bundle(bundle, mapping, dry_run=False, progress=_progress)
    import_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    rerun = import_bundle(bundle, mapping, dry_run=True)
    rerun_s = time.perf_counter() - t0
    raw_s, rows = _time_raw()
    print(
        json.dumps(
            {
                "server": _server(),
                "clients": args.clients,
                "services": len(bundle.services),
                "rows": rows,
                "build_s": build_s,
                "plan_s": plan_s,
                "import_s": import_s,
                "raw_s": raw_s,
                "rerun_s": rerun_s,
                "rerun_creates": sum(len(v) for v in rerun.plan.create.values()),
                "balances_ok": _balances_ok(bundle),
                "counts_ok": _counts_ok(bundle),
                "reconciled": _reconciled(),
            }
        )
    )
    return 0


def _progress(kind: str, done: int, total: int) -> None:
    sys.stderr.write(f"  {kind}: {done:,}/{total:,}\n")


def _catalog() -> Any:
    from billow.accounts.models import Provider
    from billow.catalog import actions as catalog
    from billow.imports.mapping import resolve_mapping
    from billow.services import actions as services

    catalog.create_currency(code="USD", name="US dollar", symbol="$")
    Provider.objects.create(name="Bench Hosting", code="bench")
    provider = Provider.objects.get(code="bench")
    vps = catalog.create_product_type(name="VPS", intname="vps")
    for name, monthly in (("Small", 500), ("Medium", 1500), ("Large", 4000)):
        tariff = catalog.create_tariff(provider_id=provider.pk, product_type=vps, name=name)
        for period, months in (("1m", 1), ("12m", 12)):
            catalog.set_tariff_price(
                tariff=tariff, period=period, currency="USD", amount_minor=monthly * months
            )
    services.create_module_instance(module="manual", name="node-1")
    return resolve_mapping(
        {
            "provider": "bench",
            "tariffs": {"1": "Small", "2": "Medium", "3": "Large"},
            "servers": {"1": "node-1"},
        }
    )


def _bundle(clients: int, per_client: int) -> Any:
    from billow.imports.bundle import (
        Bundle,
        BundleBalance,
        BundleClient,
        BundlePayer,
        BundleService,
        BundleUser,
    )

    start = date(2026, 12, 1)
    people, users, payers, balances, services = [], [], [], [], []
    for i in range(1, clients + 1):
        sid = str(i)
        email = f"client{i}@example.com"
        people.append(BundleClient(source_id=sid, email=email, name=f"Client {i}", country="DE"))
        users.append(
            BundleUser(
                source_id=sid,
                client=sid,
                email=email,
                owner=True,
                password_hash=BCRYPT,
                password_scheme="bcrypt",  # noqa: S106 - a scheme name
            )
        )
        if i % 5 == 0:
            payers.append(
                BundlePayer(
                    source_id=sid, client=sid, kind="company", name=f"Firm {i}", country="DE"
                )
            )
        if i % 2 == 0:
            amount = Decimal(i % 100_000) / 100 - 20
            balances.append(BundleBalance(client=sid, currency="USD", amount=amount))
        for k in range(per_client):
            product = (i + k) % 3 + 1
            services.append(
                BundleService(
                    source_id=f"{i}-{k}",
                    client=sid,
                    product=str(product),
                    currency="USD",
                    paid_until=start + timedelta(days=(i + k) % 300),
                    period="12m" if k == 2 else "1m",
                    status="suspended_nonpayment" if (i + k) % 40 == 0 else "active",
                    external_id=f"vm-{i}-{k}" if product != 1 else "",
                    server="1" if product != 1 else "",
                )
            )
    return Bundle(
        source="bench",
        clients=tuple(people),
        users=tuple(users),
        payers=tuple(payers),
        balances=tuple(balances),
        services=tuple(services),
    )


def _balances_ok(bundle: Any) -> bool:
    from django.db.models import Sum

    from billow.ledger.models import AccountKind, LedgerAccount

    wanted = sum(int(b.amount * 100) for b in bundle.balances)
    got = LedgerAccount.objects.filter(kind=AccountKind.CLIENT_BALANCE).aggregate(
        total=Sum("balance_minor")
    )["total"]
    return int(got or 0) == wanted


def _counts_ok(bundle: Any) -> bool:
    from billow.accounts.models import Client, Payer
    from billow.services.models import Service

    return (
        Client.objects.count() == len(bundle.clients)
        and Payer.objects.count() == len(bundle.payers)
        and Service.objects.count() == len(bundle.services)
    )


def _reconciled() -> bool:
    from billow.ledger.selectors import get_reconcile_report

    return get_reconcile_report().ok


def _server() -> str:
    import sqlite3

    from django.db import connection

    if connection.vendor == "sqlite":
        return f"SQLite {sqlite3.sqlite_version}"
    with connection.cursor() as cur:
        cur.execute("SHOW server_version")
        return f"PostgreSQL {cur.fetchone()[0]}"


def _time_raw() -> tuple[float, int]:
    """COPY every row the import wrote into empty same-shaped tables; (seconds, rows)."""
    from django.apps import apps
    from django.db import connection

    tables = []
    for label, name in TABLES:
        model = apps.get_model(label, name) if "_" not in name else None
        if model is None:
            owner, field = name.split("_")
            model = apps.get_model(label, owner)._meta.get_field(field).remote_field.through
        tables.append(model._meta.db_table)
    pg = connection.vendor == "postgresql"
    total, elapsed = 0, 0.0
    with connection.cursor() as cur:
        for t in tables:
            cur.execute(f'DROP TABLE IF EXISTS "raw_{t}"')
            if pg:
                cur.execute(f'CREATE TABLE "raw_{t}" (LIKE "{t}" INCLUDING ALL)')
            else:
                cur.execute(f'CREATE TABLE "raw_{t}" AS SELECT * FROM "{t}" WHERE 0')
        for t in tables:
            if pg:
                buffer = bytearray()
                with cur.cursor.copy(f'COPY "{t}" TO STDOUT') as copy:
                    for chunk in copy:
                        buffer += chunk
                start = time.perf_counter()
                with cur.cursor.copy(f'COPY "raw_{t}" FROM STDIN') as copy:
                    copy.write(bytes(buffer))
                elapsed += time.perf_counter() - start
            else:
                start = time.perf_counter()
                cur.execute(f'INSERT INTO "raw_{t}" SELECT * FROM "{t}"')
                elapsed += time.perf_counter() - start
            cur.execute(f'SELECT count(*) FROM "raw_{t}"')
            total += cur.fetchone()[0]
            cur.execute(f'DROP TABLE "raw_{t}"')
    return elapsed, total


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--clients", type=int, default=100_000)
    p.add_argument("--services-per-client", type=int, default=3)
    p.add_argument("--backend", choices=["postgres", "sqlite"], default="postgres")
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    return child(args) if args.child else parent(args)


if __name__ == "__main__":
    sys.exit(main())
