"""Service jobs (thin: load by id, call the runner). Retries live in the database rows, not in
Huey, so the jobs themselves never retry."""

from __future__ import annotations

from billow.jobs import job
from billow.services import runner


@job(retries=0, keep_result=False)  # one per operation: the row is the result
def run_operation(operation_id: int) -> str:
    """Run one attempt of a queued ServiceOperation (skipped unless queued and due)."""
    return runner.execute_operation(operation_id=operation_id)


@job(retries=0)
def janitor_operations() -> dict[str, int]:
    """Re-queue stuck operations, resolve unknown ones, dispatch due retries."""
    report = runner.sweep_operations()
    from billow.services.actions import dispatch_operations

    dispatch_operations(report.due_ids)
    return {
        "requeued_stuck": report.requeued_stuck,
        "failed_stuck": report.failed_stuck,
        "dispatched": len(report.due_ids),
        **{f"resolved_{k}": v for k, v in report.resolved.items()},
    }
