"""The figures ``/metrics`` reports that live in the database (shared by every node, so any
node's scrape gives the same values): billing-run progress, the oldest undone work, module
operation failures."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Min

from billow.billing.models import BillingRun, BillingRunChunk, RunStatus
from billow.services.models import OperationStatus, ServiceOperation


@dataclass(frozen=True, slots=True)
class RunProgress:
    run_id: int
    day: str
    chunks_total: int
    chunks_done: int
    running: bool


def latest_billing_run() -> RunProgress | None:
    run = BillingRun.objects.order_by("-id").first()
    if run is None:
        return None
    done = run.chunks.filter(status=RunStatus.DONE).count()
    return RunProgress(
        run.pk, run.date.isoformat(), run.chunks_total, done, run.status == RunStatus.RUNNING
    )


def oldest_waiting_work() -> datetime | None:
    """When the oldest work still waiting for a consumer was queued: a queued module operation
    or an undone chunk of a running billing run."""
    op = ServiceOperation.objects.filter(status=OperationStatus.QUEUED).aggregate(
        at=Min("created_at")
    )["at"]
    chunk = BillingRunChunk.objects.filter(
        status=RunStatus.RUNNING, run__status=RunStatus.RUNNING
    ).aggregate(at=Min("dispatched_at"))["at"]
    known = [t for t in (op, chunk) if t is not None]
    return min(known) if known else None


def failed_operations_by_module() -> dict[tuple[str, str], int]:
    """Failed module operations, by (module, operation)."""
    rows = (
        ServiceOperation.objects.filter(status=OperationStatus.FAILED)
        .values_list("module_instance__module", "operation")
        .annotate(n=Count("id"))
    )
    return {(module or "", operation): n for module, operation, n in rows}
