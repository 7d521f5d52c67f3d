#!/usr/bin/env python
"""Checkout throughput through the REST API on PostgreSQL, end to end.

    .venv/bin/python bench/checkout.py [--orders 1000] [--clients 8] [--workers N] [--jobs 2]

One order = ``POST /api/v1/quote/`` (price a VPS with an addon and an OS) -> ``POST
/api/v1/orders/`` (a direct order, paid from the balance: 201 ``paid``) -> the service turns
``active`` when the job consumer has run its ``open`` operation on the ``dummy`` module.

Starts a throwaway PostgreSQL (``scripts/postgres-up.sh``, or a fresh database on
``BENCH_DATABASE_URL``'s server), migrates, seeds a provider, a tariff, a dummy module instance
and one client with a funded balance and an API token per load thread, then starts gunicorn
(sync workers) and the job consumer (``run_huey``, SQLite queue) on 127.0.0.1. Each load thread
orders as its own client over one keep-alive connection. The clock stops when the last service
is active. Printed: orders/s end to end, the request latencies, and in the same run two
baselines: the trivial JSON 404 (no database) and ``GET /api/v1/me/`` (token auth + 2 queries).
The load generator, PostgreSQL, gunicorn and the consumer share the machine's cores.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

from _common import cpu_seconds, cpu_seconds_named, free_port, pct, postgres_url, wait_for_port

ROOT = Path(__file__).resolve().parent.parent
PY = str(ROOT / ".venv" / "bin" / "python")
BALANCE = 10**12
ACTIVE = "SELECT count(*) FROM services_service WHERE status = 'active'"


def _seed(clients: int) -> None:
    """Child process: the catalog and ``clients`` funded clients with tokens (JSON on stdout)."""
    import django

    django.setup()
    from billow.accounts import actions as accounts
    from billow.accounts.models import ClientUser
    from billow.api.actions import create_api_token
    from billow.api.scopes import SCOPES
    from billow.catalog import actions as catalog
    from billow.ledger.actions import adjust_client_balance
    from billow.ledger.models import AccountKind
    from billow.ledger.selectors import get_or_create_account
    from billow.services import actions as services

    catalog.create_currency(code="USD", name="US dollar", symbol="$")
    provider = accounts.create_provider(name="Bench", code="bench")
    vps = catalog.create_product_type(name="VPS", intname="vps")
    catalog.add_product_type_parameter(
        product_type=vps, name="OS", intname="os", values=[("debian-12", "Debian 12")]
    )
    tariff = catalog.create_tariff(provider_id=provider.pk, product_type=vps, name="VPS S")
    catalog.set_tariff_price(tariff=tariff, period="1m", currency="USD", amount_minor=1000)
    catalog.create_addon(
        tariff=tariff,
        name="CPU",
        intname="cpu",
        unit="vCPU",
        value_type="int",
        billing_type="on_order",
        currency="USD",
        unit_price_minor=300,
        included=1,
        min_value=1,
        max_value=16,
        step=1,
    )
    services.create_module_instance(module="dummy", name="dummy-1", product_types=[vps])
    scopes = [s for s in SCOPES if not s.startswith("staff")]
    tokens = []
    for i in range(clients):
        client = accounts.create_client(
            email=f"bench{i}@example.com", providers=[provider], name=f"Bench {i}"
        )
        account = get_or_create_account(
            kind=AccountKind.CLIENT_BALANCE, currency="USD", client=client, provider=provider
        )
        adjust_client_balance(
            account=account,
            amount_minor=BALANCE,
            direction="credit",
            reason="bench",
            nonce=f"bench-{i}",
        )
        user = ClientUser.objects.get(client=client, is_owner=True).user
        tokens.append(create_api_token(user=user, name="bench", scopes=scopes)[1])
    print(json.dumps({"tokens": tokens, "provider_id": provider.pk, "tariff_id": tariff.pk}))


def _active_services(url: str) -> int:
    import psycopg

    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT count(*) FROM services_service WHERE status = 'active'"
        ).fetchone()
    return int(row[0]) if row else 0


def _call(
    conn: http.client.HTTPConnection,
    method: str,
    path: str,
    headers: dict[str, str],
    body: dict[str, object] | None = None,
) -> tuple[int, bytes]:
    data = json.dumps(body).encode() if body is not None else None
    hdrs = {**headers, "Content-Type": "application/json"} if data else headers
    conn.request(method, path, body=data, headers=hdrs)
    resp = conn.getresponse()
    return resp.status, resp.read()


def _drive_get(
    port: int, path: str, headers: dict[str, str], clients: int, total: int, expect: int
) -> float:
    """Requests/s of ``total`` GETs over ``clients`` keep-alive connections."""
    errors: list[int] = []

    def worker() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        for _ in range(total // clients):
            status, _ = _call(conn, "GET", path, headers)
            if status != expect:
                errors.append(status)
        conn.close()

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise SystemExit(f"{path}: unexpected statuses {errors[:3]}")
    return (total // clients * clients) / (time.perf_counter() - start)


def _order_loop(
    port: int,
    token: str,
    n: int,
    seeded: dict[str, int],
    out: dict[str, list[float]],
    errors: list[str],
    lock: threading.Lock,
    quote: bool,
) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"Authorization": f"Bearer {token}"}
    item = {
        "tariff_id": seeded["tariff_id"],
        "period": "1m",
        "addon_values": {"cpu": 2},
        "parameters": {"os": "debian-12"},
    }
    body = {"provider_id": seeded["provider_id"], "currency": "USD", "items": [item]}
    quotes, orders = [], []
    for _ in range(n):
        t0 = time.perf_counter()
        if quote:
            status, raw = _call(conn, "POST", "/api/v1/quote/", headers, body)
            if status != 200:
                errors.append(f"quote {status}: {raw[:200]!r}")
                break
        t1 = time.perf_counter()
        key = {**headers, "Idempotency-Key": uuid.uuid4().hex}
        status, raw = _call(conn, "POST", "/api/v1/orders/", key, body)
        t2 = time.perf_counter()
        if status != 201 or json.loads(raw).get("status") != "paid":
            errors.append(f"order {status}: {raw[:200]!r}")
            break
        quotes.append(t1 - t0)
        orders.append(t2 - t1)
    conn.close()
    with lock:
        out["quote"].extend(quotes)
        out["order"].extend(orders)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=8, help="load threads, one client each")
    parser.add_argument(
        "--workers",
        type=int,
        default=os.cpu_count() or 2,
        help="gunicorn sync workers (default: one per core, as docs/operations.md deploys: the "
        "work is CPU-bound, and a third worker on two cores measured 4 %% slower)",
    )
    parser.add_argument("--jobs", type=int, default=2, help="job consumer worker threads")
    parser.add_argument(
        "--no-quote",
        action="store_true",
        help="order directly (one request per order, no quote first)",
    )
    parser.add_argument("--seed", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.seed is not None:
        _seed(args.seed)
        return
    # The stack (servers, the PostgreSQL cluster) must close before tmp is removed.
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        url = postgres_url(Path(tmp), stack, "checkoutbench")
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "BILLOW_VAR_DIR": str(Path(tmp) / "var"),
            "DEBUG": "0",
            "LOG_LEVEL": "ERROR",
            "API_THROTTLE_USER": "1000000/min",
            "BILLOW_FAST_HASHER": "1",
        }
        run = {"env": env, "cwd": ROOT, "check": True}
        subprocess.run([PY, "manage.py", "migrate", "-v0"], **run)  # type: ignore[arg-type]
        subprocess.run([PY, "manage.py", "createcachetable"], **run)  # type: ignore[arg-type]
        seeded = json.loads(
            subprocess.run(
                [PY, __file__, "--seed", str(args.clients)], capture_output=True, text=True, **run
            ).stdout
        )  # type: ignore[call-overload]
        port = free_port()
        server = subprocess.Popen(
            [
                str(ROOT / ".venv" / "bin" / "gunicorn"),
                "config.wsgi",
                "-w",
                str(args.workers),
                "-b",
                f"127.0.0.1:{port}",
                "--log-level",
                "warning",
            ],
            env=env,
            cwd=ROOT,
        )
        stack.callback(server.terminate)
        consumer = subprocess.Popen(
            [
                PY,
                "manage.py",
                "run_huey",
                "-w",
                str(args.jobs),
                "-k",
                "thread",
                "-d",
                "0.01",
                "-m",
                "0.1",
                "-q",
                "--no-periodic",
            ],
            env=env,
            cwd=ROOT,
        )
        stack.callback(consumer.terminate)
        wait_for_port(port)
        auth = {"Authorization": f"Bearer {seeded['tokens'][0]}"}
        base_404 = _drive_get(port, "/api/none/", {}, args.clients, 1600, 404)
        base_me = _drive_get(port, "/api/v1/me/", auth, args.clients, 1600, 200)

        lat: dict[str, list[float]] = {"quote": [], "order": []}
        errors: list[str] = []
        lock = threading.Lock()
        per = args.orders // args.clients
        threads = [
            threading.Thread(
                target=_order_loop,
                args=(port, tok, per, seeded, lat, errors, lock, not args.no_quote),
            )
            for tok in seeded["tokens"]
        ]

        def cpu() -> dict[str, float]:
            return {
                "web": cpu_seconds(server.pid),
                "jobs": cpu_seconds(consumer.pid),
                "postgres": cpu_seconds_named("postgres"),
                "load": time.process_time(),
            }

        cpu_before = cpu()
        start = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        submitted = time.perf_counter() - start
        if errors:
            raise SystemExit(f"errors: {errors[:3]}")
        total = per * args.clients
        while True:
            active = _active_services(url)
            if active >= total:
                break
            if time.perf_counter() - start > 600:
                raise SystemExit(f"only {active} of {total} services active after 600 s")
            time.sleep(0.05)
        done = time.perf_counter() - start
        cpu_used = {k: v - cpu_before[k] for k, v in cpu().items()}
        rate = total / done
        print(
            f"{total} orders, {args.clients} clients, gunicorn {args.workers} sync workers, "
            f"consumer {args.jobs} threads, PostgreSQL, {os.cpu_count()} CPUs"
        )
        flow = "order paid" if args.no_quote else "quote -> order paid"
        print(
            f"end to end ({flow} -> service active): {rate:7.1f} orders/s "
            f"({done:.2f} s; all orders answered after {submitted:.2f} s)"
        )
        for name in ("order",) if args.no_quote else ("quote", "order"):
            v = lat[name]
            print(
                f"  POST {name:5s} p50 {pct(v, 0.5):6.1f} ms  p95 {pct(v, 0.95):6.1f} ms  "
                f"p99 {pct(v, 0.99):6.1f} ms"
            )
        per_order = {k: 1000 * v / total for k, v in cpu_used.items()}
        print(
            f"  CPU per order: {sum(per_order.values()):.1f} ms = "
            + ", ".join(f"{k} {v:.1f}" for k, v in per_order.items())
        )
        print(
            f"baseline JSON 404 (no DB)  {base_404:7.0f} req/s; orders/s = {rate / base_404:.3f} x"
        )
        print(f"baseline GET /api/v1/me/   {base_me:7.0f} req/s; orders/s = {rate / base_me:.3f} x")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
