#!/usr/bin/env python
"""Ledger posting throughput on SQLite and PostgreSQL.

    .venv/bin/python bench/ledger_post.py [--n 100000] [--single-n 10000] [--backend both]

For each backend it measures, in one run and on the same tables and rows:

* ``raw``: a plain insert of N transactions + 2N entries (COPY on PostgreSQL, executemany on
  SQLite), no validation, no balances: the floor;
* ``bulk``: ``post_transactions_bulk`` of the same N postings (validation, idempotency lookup,
  inserts, aggregated balance update, commit);
* ``single``: ``post_transaction`` one by one, each in its own DB transaction, for
  ``--single-n`` postings (10,000 by default; say so in the output).

raw and bulk are run ``--repeat`` times alternately on emptied tables; the best time counts.
Each posting moves an amount from one of 10,000 client wallets to one revenue account.

SQLite uses a temp file (WAL, synchronous=NORMAL, as configured in config/settings.py).
PostgreSQL uses ``BENCH_DATABASE_URL`` (a fresh database is created in that server and dropped
at exit) or else a throwaway cluster from ``scripts/postgres-up.sh`` (fsync off), stopped by
``scripts/postgres-down.sh`` at exit.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from _common import postgres_url

ROOT = Path(__file__).resolve().parent.parent
WALLETS = 10_000


# --- parent: orchestrates one child process per backend ------------------------------------------
def _run_child(backend: str, url: str, args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "BILLOW_VAR_DIR": str(tmp / "var"),
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "BILLOW_LEDGER_BULK_BATCH": str(args.batch),
    }
    cmd = [sys.executable, __file__, "--child", backend, "--n", str(args.n)]
    cmd += ["--single-n", str(args.single_n), "--repeat", str(args.repeat)]
    out = subprocess.run(cmd, env=env, check=True, stdout=subprocess.PIPE, text=True, cwd=ROOT)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _report(r: dict[str, Any]) -> None:
    n, sn = r["n"], r["single_n"]
    print(f"\n== {r['backend']} ({r['server']}) ==")
    print(
        f"raw insert   : {n:>7,} txns + {2 * n:,} entries in {r['raw_s']:.3f}s "
        f"= {n / r['raw_s']:>10,.0f} txns/s"
    )
    print(
        f"bulk posting : {n:>7,} txns in {r['bulk_s']:.3f}s = {n / r['bulk_s']:>10,.0f} txns/s "
        f"({r['bulk_s'] / r['raw_s']:.2f}x the raw insert)"
    )
    print(
        f"single post  : {sn:>7,} txns in {r['single_s']:.3f}s = {sn / r['single_s']:>10,.0f} "
        f"txns/s (measured on {sn:,}, not {n:,})"
    )
    print(f"reconcile after bulk: {'ok' if r['reconciled'] else 'MISMATCH'}")


def parent(args: argparse.Namespace) -> int:
    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    results = []
    with contextlib.ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="billow-bench-")))
        tmp.chmod(0o711)  # the postgres user must reach the cluster's data dir inside
        for backend in backends:
            if backend == "sqlite":
                url = f"sqlite:///{tmp / 'bench.sqlite3'}"
            else:
                url = postgres_url(tmp, stack)
            results.append(_run_child(backend, url, args, tmp))
            _report(results[-1])
    return 0 if all(r["reconciled"] for r in results) else 1


# --- child: one backend, Django configured from the environment -----------------------------
def child(args: argparse.Namespace) -> int:
    import django

    sys.path.insert(0, str(ROOT))
    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from _ledger_rig import Rig  # bench/ is sys.path[0] when this file runs

    rig = Rig(args.n, WALLETS)
    raw_s, bulk_s = [], []
    for _ in range(args.repeat):
        rig.reset()
        raw_s.append(rig.time_raw())
        rig.reset()
        bulk_s.append(rig.time_bulk())
    reconciled = rig.reconciled()
    rig.reset()
    single_s = rig.time_single(args.single_n)
    reconciled = reconciled and rig.reconciled()
    print(
        json.dumps(
            {
                "backend": args.child,
                "server": rig.server(),
                "n": args.n,
                "single_n": args.single_n,
                "raw_s": min(raw_s),
                "bulk_s": min(bulk_s),
                "single_s": single_s,
                "raw_all": raw_s,
                "bulk_all": bulk_s,
                "reconciled": reconciled,
            }
        )
    )
    return 0


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--n", type=int, default=100_000, help="transactions for raw and bulk")
    p.add_argument("--single-n", type=int, default=10_000, help="transactions for post_transaction")
    p.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument(
        "--batch", type=int, default=int(os.environ.get("BILLOW_LEDGER_BULK_BATCH", 5000))
    )
    p.add_argument("--child", choices=["sqlite", "postgres"], help=argparse.SUPPRESS)
    args = p.parse_args()
    return child(args) if args.child else parent(args)


if __name__ == "__main__":
    sys.exit(main())
