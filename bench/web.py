#!/usr/bin/env python
"""Web throughput: the API service list and the dashboard page under gunicorn on PostgreSQL.

    .venv/bin/python bench/web.py [--clients 8] [--requests 3000] [--workers 2]

Starts a throwaway PostgreSQL (``scripts/postgres-up.sh``, or ``BENCH_DATABASE_URL``), migrates,
seeds one client with 50 services, an API token and a session, starts gunicorn (sync workers) on
127.0.0.1 and drives each target with N concurrent keep-alive clients (threads with
``http.client``, loopback only, a bounded number of requests). Prints requests/s and p50 / p95 /
p99 per target, and the ratio to a trivial baseline (a JSON 404 from Django, no database) measured
in the same run. The load generator shares the machine's cores with the server.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from _common import free_port, pct, postgres_url, wait_for_port

ROOT = Path(__file__).resolve().parent.parent
PY = str(ROOT / ".venv" / "bin" / "python")
SERVICES = 50


def _seed() -> None:
    """Child process: one client, 50 active services, a token and a session (JSON on stdout)."""
    import django

    django.setup()
    from django.test import Client as TestClient

    from billow.accounts import actions as accounts
    from billow.accounts.models import ClientUser
    from billow.api.actions import create_api_token
    from billow.api.scopes import SCOPES
    from billow.catalog import actions as catalog
    from billow.core import clock
    from billow.services.models import Service

    catalog.create_currency(code="USD", name="US dollar", symbol="$")
    provider = accounts.create_provider(name="Bench", code="bench")
    pt = catalog.create_product_type(name="VPS", intname="vps")
    tariff = catalog.create_tariff(provider_id=provider.pk, product_type=pt, name="VPS S")
    catalog.set_tariff_price(tariff=tariff, period="1m", currency="USD", amount_minor=500)
    client = accounts.create_client(
        email="bench@example.com",
        providers=[provider],
        password="bench-pass-1",  # noqa: S106
    )
    now = clock.now()
    Service.objects.bulk_create(
        Service(
            client=client,
            provider=provider,
            tariff=tariff,
            name=f"vm-{i}",
            period="1m",
            currency="USD",
            billing_mode="anniversary",
            status="active",
            paid_until=now.date(),
            auto_renew_period="1m",
            opened_at=now,
        )
        for i in range(SERVICES)
    )
    user = ClientUser.objects.get(client=client, is_owner=True).user
    scopes = [s for s in SCOPES if not s.startswith("staff")]
    _token, raw = create_api_token(user=user, name="bench", scopes=scopes)
    browser = TestClient()
    browser.force_login(user)
    print(json.dumps({"token": raw, "session": browser.cookies["sessionid"].value}))


def _drive(
    port: int, path: str, headers: dict[str, str], clients: int, total: int, expect: int
) -> tuple[float, list[float]]:
    """``total`` requests over ``clients`` keep-alive connections; (seconds, latencies)."""
    latencies: list[float] = []
    lock = threading.Lock()
    per = total // clients
    errors: list[str] = []

    def worker() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine = []
        for _ in range(per):
            t0 = time.perf_counter()
            conn.request("GET", path, headers=headers)
            resp = conn.getresponse()
            resp.read()
            mine.append(time.perf_counter() - t0)
            if resp.status != expect:
                errors.append(f"{path}: {resp.status}")
        conn.close()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    if errors:
        raise SystemExit(f"unexpected statuses: {errors[:3]}")
    return elapsed, latencies


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--cache-url",
        default="",
        help="CACHE_URL for the server (default: the settings' database cache); "
        "e.g. rediscache://127.0.0.1:6379/1 or locmemcache:// to see the cost of "
        "the throttle's cache",
    )
    parser.add_argument("--seed", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.seed:
        _seed()
        return
    # The stack (servers, the PostgreSQL cluster) must close before tmp is removed.
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        url = postgres_url(Path(tmp), stack, "webbench")
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "BILLOW_VAR_DIR": str(Path(tmp) / "var"),
            "DEBUG": "0",
            "LOG_LEVEL": "WARNING",
            "API_THROTTLE_USER": "1000000/min",
            "BILLOW_FAST_HASHER": "1",
        }
        if args.cache_url:
            env["CACHE_URL"] = args.cache_url
        run = {"env": env, "cwd": ROOT, "check": True}
        subprocess.run([PY, "manage.py", "migrate", "-v0"], **run)  # type: ignore[arg-type]
        subprocess.run([PY, "manage.py", "createcachetable"], **run)  # type: ignore[arg-type]
        seeded = json.loads(
            subprocess.run([PY, __file__, "--seed"], capture_output=True, text=True, **run).stdout
        )  # type: ignore[arg-type]
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
        wait_for_port(port)
        targets = [
            ("baseline (JSON 404, no DB)", "/api/none/", {}, 404),
            (
                "API GET /api/v1/services/ (50)",
                "/api/v1/services/",
                {"Authorization": f"Bearer {seeded['token']}"},
                200,
            ),
            ("dashboard page (session)", "/", {"Cookie": f"sessionid={seeded['session']}"}, 200),
        ]
        print(
            f"gunicorn {args.workers} sync workers, {args.clients} clients, "
            f"{args.requests} requests per target, PostgreSQL, {os.cpu_count()} CPUs, "
            f"cache {args.cache_url or 'settings default'}"
        )
        base_rps = 0.0
        for name, path, headers, expect in targets:
            _drive(port, path, headers, args.clients, 100, expect)  # warm-up
            elapsed, lat = _drive(port, path, headers, args.clients, args.requests, expect)
            rps = len(lat) / elapsed
            base_rps = base_rps or rps
            print(
                f"{name:34s} {rps:7.0f} req/s  p50 {pct(lat, 0.5):6.1f} ms  p95 "
                f"{pct(lat, 0.95):6.1f} ms  p99 {pct(lat, 0.99):6.1f} ms  "
                f"mean {statistics.mean(lat) * 1000:6.1f} ms  x{rps / base_rps:.2f} of baseline"
            )
        sys.stdout.flush()


if __name__ == "__main__":
    main()
