"""/healthz, /readyz and /metrics (billow.ops)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from billow.billing.models import BillingRun, BillingRunChunk, RunStatus

pytestmark = pytest.mark.django_db


def test_healthz_answers_without_a_session(client: Client) -> None:
    r = client.get("/healthz")
    assert r.status_code == 200
    assert r.json() == {"status": "ok"}
    assert "no-cache" in r["Cache-Control"]


def test_readyz_checks_the_database_and_the_queue(client: Client) -> None:
    r = client.get("/readyz")
    assert r.status_code == 200
    assert r.json() == {"status": "ok", "checks": {"database": "ok", "queue": "ok"}}


def test_readyz_is_503_when_the_queue_does_not_answer(
    client: Client, monkeypatch: Any, caplog: Any
) -> None:
    from huey.contrib.djhuey import HUEY

    class DownRedis:
        def ping(self) -> bool:
            raise ConnectionError("queue down")

    class DownStorage:
        conn = DownRedis()

    monkeypatch.setattr(HUEY, "storage", DownStorage())
    r = client.get("/readyz")
    assert r.status_code == 503
    assert r.json() == {
        "status": "unavailable",
        "checks": {"database": "ok", "queue": "ConnectionError: queue down"},
    }
    assert "not ready" in caplog.text


def test_metrics_report_latency_queue_and_billing_run_progress(client: Client) -> None:
    run = BillingRun.objects.create(date="2025-03-10", started_at="2025-03-10T00:00:00Z")
    BillingRunChunk.objects.create(run=run, client_from=0, client_to=10, status=RunStatus.DONE)
    BillingRunChunk.objects.create(run=run, client_from=10, client_to=None)
    run.chunks_total = 2
    run.save()
    client.get("/healthz")
    body = client.get("/metrics", REMOTE_ADDR="127.0.0.1").content.decode()
    assert 'billow_http_request_duration_seconds_count{method="GET",status="2xx"}' in body
    assert "billow_job_queue_depth " in body
    assert "billow_job_queue_oldest_seconds " in body
    assert 'billow_billing_run_chunks{state="total"} 2.0' in body
    assert 'billow_billing_run_chunks{state="done"} 1.0' in body
    assert "billow_billing_run_running 1.0" in body
    assert "# TYPE billow_module_operation_failures gauge" in body


def test_metrics_refuse_other_addresses(client: Client) -> None:
    assert client.get("/metrics", REMOTE_ADDR="203.0.113.9").status_code == 403
