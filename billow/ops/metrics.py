"""Prometheus metrics (``prometheus_client``) at ``/metrics``.

- ``billow_http_request_duration_seconds`` (histogram, by method and status class): measured
  by :class:`RequestLatencyMiddleware` in each web process. Under gunicorn, set
  ``PROMETHEUS_MULTIPROC_DIR`` (an empty directory per host, cleared at start) so a scrape adds
  up every worker's figures.
- At scrape time, from the queue and the database (the same on every node):
  ``billow_job_queue_depth`` (jobs waiting in the queue), ``billow_job_queue_oldest_seconds``
  (age of the oldest work waiting: a queued module operation or an undone billing-run chunk),
  ``billow_billing_run_chunks{state}`` and ``billow_billing_run_running`` (the latest run's
  progress), ``billow_module_operation_failures{module,operation}`` (failed operations).

The endpoint answers only the addresses in ``METRICS_ALLOWED_IPS`` (default: this host).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.utils import timezone
from django.views.decorators.cache import never_cache
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

REQUEST_LATENCY = Histogram(
    "billow_http_request_duration_seconds",
    "Time from request to response, by method and status class.",
    ["method", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)


class RequestLatencyMiddleware:
    """Times every request (outermost, so the figure includes the other middleware)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        REQUEST_LATENCY.labels(request.method or "", f"{response.status_code // 100}xx").observe(
            time.perf_counter() - started
        )
        return response


class BillowCollector(Collector):
    """The figures read at scrape time (queue, database)."""

    def collect(self) -> Iterator[Any]:
        from huey.contrib.djhuey import HUEY

        from billow.ops import selectors

        depth = GaugeMetricFamily("billow_job_queue_depth", "Jobs waiting in the job queue.")
        depth.add_metric([], float(HUEY.pending_count()))
        yield depth

        oldest = selectors.oldest_waiting_work()
        age = GaugeMetricFamily(
            "billow_job_queue_oldest_seconds",
            "Age of the oldest work waiting for a consumer (0: none).",
        )
        age.add_metric(
            [], 0.0 if oldest is None else max(0.0, (timezone.now() - oldest).total_seconds())
        )
        yield age

        run = selectors.latest_billing_run()
        chunks = GaugeMetricFamily(
            "billow_billing_run_chunks", "Chunks of the latest billing run.", labels=["state"]
        )
        running = GaugeMetricFamily(
            "billow_billing_run_running", "1 while the latest billing run is unfinished."
        )
        if run is not None:
            chunks.add_metric(["total"], float(run.chunks_total))
            chunks.add_metric(["done"], float(run.chunks_done))
            running.add_metric([], 1.0 if run.running else 0.0)
        yield chunks
        yield running

        failures = GaugeMetricFamily(
            "billow_module_operation_failures",
            "Module operations that failed, by module and operation.",
            labels=["module", "operation"],
        )
        for (module, operation), n in sorted(selectors.failed_operations_by_module().items()):
            failures.add_metric([module, operation], float(n))
        yield failures


def render() -> bytes:
    """Every metric in the text format: this process's (or, in multiprocess mode, every
    worker's) request latencies and the scrape-time figures."""
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(REQUEST_LATENCY)
    registry.register(BillowCollector())
    return generate_latest(registry)


@never_cache
def metrics_view(request: HttpRequest) -> HttpResponse:
    allowed = getattr(settings, "METRICS_ALLOWED_IPS", ["127.0.0.1", "::1"])
    if "*" not in allowed and request.META.get("REMOTE_ADDR") not in allowed:
        return HttpResponseForbidden()
    return HttpResponse(render(), content_type=CONTENT_TYPE_LATEST)
