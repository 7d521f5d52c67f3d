#!/usr/bin/env python
"""Usage ingestion on PostgreSQL: the bulk API, its floor, month rollups, memory while streaming.

    .venv/bin/python bench/ingest.py [--services 2000] [--records 1000000]
        [--rollup-records 10000000] [--stream-mb 1024] [--batch 20000]

On a throwaway PostgreSQL (``scripts/postgres-up.sh``, or a fresh database on
``BENCH_DATABASE_URL``'s server), migrated, with N services on a tariff with a traffic meter
(``rx`` + ``tx`` summed), in one child process:

* ``raw COPY``: the records of the upload, pre-rendered as COPY text, copied straight into the
  partitioned raw table and rolled back (no parsing, no idempotency check, no rollups): the floor;
* ``bulk API``: the same records as one JSON lines upload (a file on disk) through the WSGI
  handler and ``POST /api/v1/usage/records`` with a staff token: streamed parsing, service and
  window checks, COPY into staging, insert-new-only, rollups per day and month, batch by batch;
  then the same upload as CSV (other timestamps) and the JSON lines upload again (all duplicates);
* ``month rollup``: ``--rollup-records`` rows of last month COPYed into the raw table, then
  ``rebuild_month`` (every rollup of the month recomputed from raw records, the worst case) and
  the month-end read the rating does (``month_totals`` of every service; with incremental
  rollups this read is all the rating waits for).

Then in the parent: gunicorn with one sync worker on the same database, and a generated JSON
lines body of ``--stream-mb`` MB sent to the bulk API (never held in memory on either side);
the worker's RSS is sampled every 0.2 s: before, peak during, after.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import io
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from _common import free_port, postgres_url, wait_for_port

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
PARAMS = ("rx", "tx")


# --- records -----------------------------------------------------------------------------------


def _record(k: int, services: list[int], start: int) -> tuple[int, str, int, str]:
    """The k-th record: every (service, parameter) gets one sample per second from ``start``."""
    n = len(services)
    return services[k % n], PARAMS[(k // n) % 2], start + k // (2 * n), f"{k % 997}.{k % 100:02d}"


def _iso(ts: int) -> str:
    return datetime.fromtimestamp(ts, tz=UTC).isoformat()


# --- child: in-process phases --------------------------------------------------------------------


def _seed(n: int) -> tuple[list[int], str]:
    from django.contrib.auth import get_user_model
    from django.db import transaction

    from billow.accounts.models import Client, Provider
    from billow.api.actions import create_api_token
    from billow.catalog import actions as catalog
    from billow.services.models import Service
    from billow.usage.actions import set_meter

    catalog.create_currency(code="USD", name="US dollar", symbol="$")
    provider = Provider.objects.create(name="Bench Hosting", code="bench")
    vps = catalog.create_product_type(name="VPS", intname="vps")
    tariff = catalog.create_tariff(provider_id=provider.pk, product_type=vps, name="VPS")
    addon = catalog.create_addon(
        tariff=tariff,
        name="Traffic",
        intname="traffic",
        unit="GiB",
        value_type="int",
        billing_type="statistics",
        currency="USD",
        included=1000,
        overage_price_minor=1,
    )
    set_meter(addon=addon, parameters=list(PARAMS), unit="GiB")
    with transaction.atomic():
        clients = Client.objects.bulk_create(
            Client(name=f"c{i}", email=f"c{i}@example.com") for i in range(max(1, n // 10))
        )
        Service.objects.bulk_create(
            (
                Service(
                    client=clients[i // 10 % len(clients)],
                    provider=provider,
                    tariff=tariff,
                    period="1m",
                    currency="USD",
                    billing_mode="anniversary",
                    status="active",
                )
                for i in range(n)
            ),
            batch_size=5000,
        )
    staff = get_user_model().objects.create_superuser("bench", "bench@example.com", "pw-bench-1")
    _token, raw = create_api_token(user=staff, name="bench", scopes=["staff:write"])
    return list(Service.objects.order_by("id").values_list("id", flat=True)), raw


def _write_upload(path: Path, fmt: str, count: int, services: list[int], start: int) -> int:
    with path.open("w") as out:
        if fmt == "csv":
            out.write("service,parameter,ts,value\n")
        for k in range(count):
            s, p, ts, v = _record(k, services, start)
            if fmt == "csv":
                out.write(f"{s},{p},{_iso(ts)},{v}\n")
            else:
                out.write(f'{{"service":{s},"parameter":"{p}","ts":"{_iso(ts)}","value":{v}}}\n')
    return path.stat().st_size


def _post_file(path: Path, content_type: str, token: str) -> tuple[float, dict[str, Any]]:
    """The upload through Django's WSGI handler, the body read from the file as a stream."""
    from django.core.handlers.wsgi import WSGIHandler

    handler = WSGIHandler()
    status: list[str] = []
    with path.open("rb") as body:
        environ = {
            "REQUEST_METHOD": "POST",
            "PATH_INFO": "/api/v1/usage/records",
            "CONTENT_TYPE": content_type,
            "CONTENT_LENGTH": str(path.stat().st_size),
            "HTTP_AUTHORIZATION": f"Bearer {token}",
            "HTTP_HOST": "localhost",
            "SERVER_NAME": "localhost",
            "SERVER_PORT": "80",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "wsgi.input": body,
            "wsgi.url_scheme": "http",
            "wsgi.errors": sys.stderr,
        }
        t0 = time.perf_counter()
        chunks = handler(environ, lambda s, h, *a: status.append(s))
        payload = b"".join(chunks)
        elapsed = time.perf_counter() - t0
    if not status[0].startswith("200"):
        raise SystemExit(f"upload failed: {status[0]} {payload[:300]!r}")
    return elapsed, json.loads(payload)


def _copy_text(count: int, services: list[int], start: int, received: datetime) -> str:
    out = io.StringIO()
    stamp = received.isoformat()
    for k in range(count):
        s, p, ts, v = _record(k, services, start)
        out.write(f"{s}\t{p}\t{_iso(ts)}\t{v}\t\\N\t{stamp}\n")
    return out.getvalue()


def _copy_raw(text: str, rollback: bool) -> float:
    from django.db import connection, transaction

    t0 = time.perf_counter()
    with transaction.atomic():
        with connection.cursor() as cursor:
            copy_sql = (
                'COPY "usage_usagerecord" (service_id, parameter, ts, value, event_id, '
                "received_at) FROM STDIN"
            )
            with cursor.cursor.copy(copy_sql) as copy:
                step = 8 << 20
                for at in range(0, len(text), step):
                    copy.write(text[at : at + step])
        elapsed = time.perf_counter() - t0
        if rollback:
            transaction.set_rollback(True)
    return elapsed


def child(args: argparse.Namespace) -> None:
    sys.path.insert(0, str(ROOT))  # this tree's billow, whichever is installed
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from billow.usage.actions import maintain_raw_storage, rebuild_month
    from billow.usage.selectors import month_totals
    from billow.usage.storage import days_between, get_storage

    call_command("migrate", verbosity=0)
    t0 = time.perf_counter()
    services, token = _seed(args.services)
    seed_s = time.perf_counter() - t0
    now = datetime.now(UTC)
    maintain_raw_storage(now=now)
    tmp = Path(args.tmp)
    today = now.date()
    day_start = int(datetime(today.year, today.month, today.day, tzinfo=UTC).timestamp())
    first = day_start - 86400  # yesterday 00:00: inside the late window, never in the future
    # raw floor, then the API on the same rows
    text = _copy_text(args.records, services, first, now)
    raw_s = _copy_raw(text, rollback=True)
    del text
    upload = tmp / "upload.jsonl"
    size = _write_upload(upload, "jsonl", args.records, services, first)
    api_s, api = _post_file(upload, "application/x-ndjson", token)
    assert api["accepted"] == args.records, api
    csv_path = tmp / "upload.csv"
    offset = args.records // (2 * len(services)) + 1  # seconds after the JSON lines records
    _write_upload(csv_path, "csv", args.records, services, first + offset)
    csv_s, csv_result = _post_file(csv_path, "text/csv", token)
    assert csv_result["accepted"] == args.records, csv_result
    dup_s, dup = _post_file(upload, "application/x-ndjson", token)
    assert dup["duplicates"] == args.records, dup
    upload.unlink()
    csv_path.unlink()
    # month rollup: last month's records straight into the raw table, then the rebuild
    month = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    days = days_between(month, today.replace(day=1) - timedelta(days=1))
    get_storage().ensure_days(days)
    month_start = int(datetime(month.year, month.month, 1, tzinfo=UTC).timestamp())
    per_pair_per_day = max(1, args.rollup_records // (2 * len(services) * len(days)))
    step = 86400 // per_pair_per_day
    copied, seed_rollup_s = 0, 0.0
    chunk = 2_000_000
    while copied < args.rollup_records:
        n = min(chunk, args.rollup_records - copied)
        out = io.StringIO()
        stamp = now.isoformat()
        for k in range(copied, copied + n):
            s, p, i, v = _record(k, services, 0)
            ts = month_start + (i // per_pair_per_day) * 86400 + (i % per_pair_per_day) * step
            out.write(f"{s}\t{p}\t{_iso(ts)}\t{v}\t\\N\t{stamp}\n")
        seed_rollup_s += _copy_raw(out.getvalue(), rollback=False)
        copied += n
    with connection.cursor() as cursor:
        cursor.execute('ANALYZE "usage_usagerecord"')
    t0 = time.perf_counter()
    keys = rebuild_month(month=month, now=now)
    rebuild_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    totals = month_totals(services, month)
    read_s = time.perf_counter() - t0
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        server = cursor.fetchone()[0]
    print(
        json.dumps(
            {
                "server": f"PostgreSQL {server}",
                "services": len(services),
                "records": args.records,
                "bytes": size,
                "seed_s": seed_s,
                "raw_s": raw_s,
                "api_s": api_s,
                "csv_s": csv_s,
                "dup_s": dup_s,
                "rollup_records": copied,
                "rollup_seed_s": seed_rollup_s,
                "rebuild_s": rebuild_s,
                "rebuild_keys": keys,
                "read_s": read_s,
                "totals": len(totals),
                "token": token,
                "first_service": services[0],
                "last_service": services[-1],
            }
        )
    )


# --- parent: gunicorn and the streamed 1 GB ----------------------------------------------------


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def _worker_pid(master: int) -> int:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        for task in Path(f"/proc/{master}/task").glob("*/children"):
            kids = task.read_text().split()
            if kids:
                return int(kids[0])
        time.sleep(0.1)
    raise SystemExit("no gunicorn worker")


def _stream_body(mb: int, services: range, start: int) -> tuple[int, Any]:
    """A JSON lines body of about ``mb`` MB with fixed-width lines (so its length is known
    without building it), generated as it is sent."""
    width = len(_stream_line(0, services, start))
    count = mb * 1024 * 1024 // width

    def chunks() -> Any:
        batch = []
        for k in range(count):
            batch.append(_stream_line(k, services, start))
            if len(batch) == 4096:
                yield b"".join(batch)
                batch = []
        if batch:
            yield b"".join(batch)

    return count * width, chunks()


def _stream_line(k: int, services: range, start: int) -> bytes:
    n = len(services)
    sid = services[k % n]
    param = PARAMS[(k // n) % 2]
    ts = start + k // (2 * n)
    return (
        f'{{"service":"{sid:012d}","parameter":"{param}","ts":"{ts:010d}",'
        f'"value":"{k % 997:04d}.{k % 100:02d}"}}\n'
    ).encode()


def stream_phase(url: str, tmp: Path, result: dict[str, Any], mb: int) -> dict[str, Any]:
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "BILLOW_VAR_DIR": str(tmp / "var"),
        "DEBUG": "0",
        "LOG_LEVEL": "WARNING",
        "API_THROTTLE_USER": "1000000/min",
        "PYTHONPATH": str(ROOT),
    }
    port = free_port()
    gunicorn = str(Path(PY).parent / "gunicorn")
    cmd = [gunicorn, "config.wsgi", "-w", "1", "-b", f"127.0.0.1:{port}", "--timeout", "0"]
    server = subprocess.Popen([*cmd, "--log-level", "warning"], env=env, cwd=ROOT)
    try:
        wait_for_port(port)
        worker = _worker_pid(server.pid)
        services = range(result["first_service"], result["last_service"] + 1)
        now = datetime.now(UTC)
        start = int(
            datetime.combine(now.date() - timedelta(days=2), datetime.min.time(), UTC).timestamp()
        )
        warm = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
        warm.request("GET", "/api/v1/me/")
        warm.getresponse().read()
        before = _rss_kib(worker)
        samples: list[int] = []
        done = threading.Event()

        def sample() -> None:
            while not done.is_set():
                with contextlib.suppress(OSError):
                    samples.append(_rss_kib(worker))
                time.sleep(0.2)

        sampler = threading.Thread(target=sample)
        sampler.start()
        length, body = _stream_body(mb, services, start)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=3600)
        t0 = time.perf_counter()
        conn.request(
            "POST",
            "/api/v1/usage/records",
            body=body,
            headers={
                "Content-Type": "application/x-ndjson",
                "Content-Length": str(length),
                "Authorization": f"Bearer {result['token']}",
            },
        )
        response = conn.getresponse()
        answer = json.loads(response.read())
        elapsed = time.perf_counter() - t0
        done.set()
        sampler.join()
        after = _rss_kib(worker)
        if response.status != 200:
            raise SystemExit(f"stream upload: {response.status} {answer}")
        return {
            "mb": length / 1024 / 1024,
            "records": answer["received"],
            "accepted": answer["accepted"],
            "rejected": answer["rejected"],
            "s": elapsed,
            "rss_before": before,
            "rss_peak": max(samples or [after]),
            "rss_after": after,
            "samples": len(samples),
            "rss_quartiles": [
                sorted(samples)[int(q * (len(samples) - 1))] for q in (0.25, 0.5, 0.75)
            ]
            if samples
            else [],
        }
    finally:
        server.terminate()
        server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--services", type=int, default=2000)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--rollup-records", type=int, default=10_000_000)
    parser.add_argument("--stream-mb", type=int, default=1024)
    parser.add_argument("--batch", type=int, default=50_000)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--tmp", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        url = postgres_url(Path(tmp), stack, "ingestbench")
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "BILLOW_VAR_DIR": str(Path(tmp) / "var"),
            "BILLOW_FAST_HASHER": "1",
            "BILLOW_USAGE_INGEST_BATCH": str(args.batch),
            "LOG_LEVEL": "WARNING",
        }
        cmd = [PY, __file__, "--child", "--tmp", tmp]
        for name in ("services", "records", "rollup_records", "batch"):
            cmd += [f"--{name.replace('_', '-')}", str(getattr(args, name))]
        out = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True)
        if out.returncode:
            sys.stderr.write(out.stderr)
            raise SystemExit("the child failed")
        r = json.loads(out.stdout.strip().splitlines()[-1])
        n = r["records"]
        print(
            f"== {r['server']}, {r['services']:,} services, {n:,} records "
            f"({r['bytes'] / 1e6:.0f} MB JSON lines), batches of {args.batch:,}, "
            f"{os.cpu_count()} CPUs =="
        )
        print(f"raw COPY          : {r['raw_s']:.2f}s = {n / r['raw_s']:,.0f} records/s (floor)")
        print(
            f"bulk API, JSONL   : {r['api_s']:.2f}s = {n / r['api_s']:,.0f} records/s "
            f"({r['api_s'] / r['raw_s']:.2f}x the raw COPY)"
        )
        print(f"bulk API, CSV     : {r['csv_s']:.2f}s = {n / r['csv_s']:,.0f} records/s")
        print(f"re-sent (all dup) : {r['dup_s']:.2f}s = {n / r['dup_s']:,.0f} records/s")
        m = r["rollup_records"]
        print(
            f"month rollup      : {m:,} raw records (COPY {r['rollup_seed_s']:.1f}s); "
            f"rebuild_month {r['rebuild_s']:.2f}s ({r['rebuild_keys']:,} parameter-days); "
            f"month-end read of {r['totals']:,} totals {r['read_s'] * 1000:.1f} ms"
        )
        if args.stream_mb:
            s = stream_phase(url, Path(tmp), r, args.stream_mb)
            print(
                f"streamed upload   : {s['mb']:,.0f} MB, {s['records']:,} records "
                f"({s['accepted']:,} accepted) in {s['s']:.1f}s = "
                f"{s['records'] / s['s']:,.0f} records/s through gunicorn"
            )
            print(
                f"worker RSS (MiB)  : before {s['rss_before'] / 1024:.0f}, peak "
                f"{s['rss_peak'] / 1024:.0f}, after {s['rss_after'] / 1024:.0f}; quartiles "
                f"{[round(q / 1024) for q in s['rss_quartiles']]} over {s['samples']} samples"
            )


if __name__ == "__main__":
    main()
