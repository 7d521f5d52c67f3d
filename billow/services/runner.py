"""Executing ServiceOperation rows: claim, call the module, apply the typed outcome.

The row is the source of truth (Huey delivers at most once). ``execute_operation`` claims a due
queued row with a conditional UPDATE (queued -> running, attempts + 1), so two workers never run
the same attempt; the module gets the row's idempotency key, so an attempt re-run after a crash
creates nothing twice. ``RetryableError`` -> back to queued with backoff
(``billow.jobs.policy``) until ``max_attempts``, then failed for good. ``sweep_operations`` is
the janitor: it re-queues rows stuck in running, resolves unknown (and polled pending) rows with
the module's ``sync``, and lists the queued rows that are due.

Module calls happen outside any transaction; only the bookkeeping around them is transactional.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q

from billow.core import clock, rows
from billow.core.actors import Actor
from billow.core.errors import BillowError, RetryableError
from billow.jobs.policy import RetryPolicy
from billow.services import actions, selectors, sql
from billow.services.models import ModuleInstance, OperationStatus, ServiceOperation
from billow.services.modules.base import (
    Outcome,
    OutcomeStatus,
    ProcessingModule,
    call_operation,
    modules,
)
from billow.services.secrets import get_secrets
from billow.services.states import ServiceStatus

logger = logging.getLogger("billow.services")
OS = OperationStatus
JOB = Actor.job("services.run_operation")


def _conf(name: str, default: float) -> float:
    conf: Mapping[str, Any] = getattr(settings, "BILLOW", {})
    return float(conf.get(name, default))


def retry_policy(op: ServiceOperation) -> RetryPolicy:
    """Backoff of an operation: ``OPERATIONS_RETRY_BASE_DELAY`` (30 s) doubling, capped at
    ``OPERATIONS_RETRY_MAX_DELAY`` (1 h); ``max_attempts`` attempts in all."""
    base = _conf("OPERATIONS_RETRY_BASE_DELAY", 30)
    return RetryPolicy(
        max_retries=max(op.max_attempts - 1, 0),
        base_delay=base,
        factor=2.0,
        max_delay=max(base, _conf("OPERATIONS_RETRY_MAX_DELAY", 3600)),
    )


def build_module(instance: ModuleInstance) -> ProcessingModule:
    """The module object of ``instance`` (config parsed, secrets decrypted)."""
    cls = modules.get(instance.module)
    return cls(cls.parse_config(instance.config), get_secrets(instance), instance_id=instance.pk)


# -- one attempt -------------------------------------------------------------------------------


def execute_operation(*, operation_id: int, now: datetime | None = None) -> str:
    """Run one attempt of a due queued operation; returns what happened: ``skipped`` (not
    queued or not due), ``cancelled``, ``retry``, ``succeeded``, ``failed``, ``pending``,
    ``unknown``."""
    moment = clock.now(now)
    op = _claim(operation_id, moment)
    if op is None:
        return "skipped"
    if op.service.status == ServiceStatus.DELETED:
        actions.cancel_operation(operation=_unrun(op), actor=JOB, reason="service deleted")
        return "cancelled"
    try:
        outcome = _call(op, op.operation)
    except RetryableError as exc:
        return _retry_or_fail(op, exc, clock.now(now))
    except BillowError as exc:  # bad config, unknown module, unreadable secrets: not transient
        actions.fail_operation(operation=op, code=exc.code, message=exc.message, actor=JOB)
        return "failed"
    return apply_outcome(op, outcome, now=clock.now(now))


def _claim(operation_id: int, moment: datetime) -> ServiceOperation | None:
    """queued (and due) -> running, attempts + 1; the claimed row as ``get_operation`` reads it,
    or None when it was not queued and due. On PostgreSQL in one statement (``sql``)."""
    if rows.connection_for(ServiceOperation).vendor == "postgresql":
        return sql.claim_operation(operation_id, moment)
    claimed = (
        ServiceOperation.objects.filter(pk=operation_id, status=OS.QUEUED)
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=moment))
        .update(status=OS.RUNNING, attempts=F("attempts") + 1, started_at=moment)
    )
    return selectors.get_operation(operation_id) if claimed else None


def _unrun(op: ServiceOperation) -> ServiceOperation:
    """Put a claimed row back to queued so it can be cancelled (running cannot be)."""
    ServiceOperation.objects.filter(pk=op.pk, status=OS.RUNNING).update(status=OS.QUEUED)
    return op


def _call(op: ServiceOperation, operation: str) -> Outcome:
    instance = op.module_instance or op.service.module_instance
    if instance is None:
        raise BillowError("no processing module serves this service", code="no_module_instance")
    module = build_module(instance)
    ctx = selectors.build_context(op, operation)
    try:
        if operation == "sync":
            return module.sync(ctx)
        return call_operation(module, ctx)
    except (RetryableError, BillowError):
        raise
    except Exception as exc:  # a module bug must not leave the row running forever
        logger.exception("module %s crashed on %s #%s", instance.module, operation, op.pk)
        raise BillowError(f"{type(exc).__name__}: {exc}", code="module_error") from exc


def _retry_or_fail(op: ServiceOperation, exc: RetryableError, moment: datetime) -> str:
    op.refresh_from_db(fields=["attempts", "status"])
    decision = retry_policy(op).decide(exc, op.attempts)
    if not decision.retry:
        message = f"{op.attempts} attempt(s), last error: {exc.message}"
        actions.fail_operation(
            operation=op, code="retries_exhausted", message=message, actor=JOB, now=moment
        )
        return "failed"
    due = moment + timedelta(seconds=decision.delay)
    ServiceOperation.objects.filter(pk=op.pk, status=OS.RUNNING).update(
        status=OS.QUEUED, next_attempt_at=due, error_code=exc.code[:64], error_message=exc.message
    )
    _schedule(op.pk, decision.delay)
    return "retry"


def _schedule(operation_id: int, delay: float) -> None:
    from billow.services.tasks import run_operation

    try:
        run_operation.schedule((operation_id,), delay=delay)
    except Exception:  # the queue is down: the janitor dispatches due rows anyway
        logger.exception("could not schedule the retry of operation %s", operation_id)


def apply_outcome(op: ServiceOperation, outcome: Outcome, *, now: datetime) -> str:
    """Store a module's outcome on a running (or being resolved) operation."""
    if outcome.status == OutcomeStatus.SUCCEEDED:
        data = outcome.as_result()
        actions.complete_operation(operation=op, data=data, actor=JOB, now=now)
    elif outcome.status == OutcomeStatus.FAILED:
        actions.fail_operation(
            operation=op,
            code=outcome.code or "module_failed",
            message=outcome.message,
            actor=JOB,
            now=now,
        )
    else:
        _park(op, outcome, now)
    return outcome.status.value


def _park(op: ServiceOperation, outcome: Outcome, now: datetime) -> None:
    """pending: wait (polled only when the module gave ``retry_after``); unknown: the janitor
    asks ``sync`` after ``retry_after`` or ``OPERATIONS_UNKNOWN_RECHECK`` (60 s)."""
    after = outcome.retry_after
    if outcome.status == OutcomeStatus.UNKNOWN and after is None:
        after = _conf("OPERATIONS_UNKNOWN_RECHECK", 60)
    due = None if after is None else now + timedelta(seconds=after)
    with transaction.atomic():
        ServiceOperation.objects.filter(pk=op.pk).exclude(
            status__in=(OS.SUCCEEDED, OS.FAILED, OS.CANCELLED)
        ).update(status=outcome.status.value, result=outcome.as_result(), next_attempt_at=due)


# -- the janitor -------------------------------------------------------------------------------


@dataclass
class SweepReport:
    requeued_stuck: int = 0
    failed_stuck: int = 0
    resolved: dict[str, int] = field(default_factory=dict)
    due_ids: list[int] = field(default_factory=list)


def sweep_operations(*, now: datetime | None = None) -> SweepReport:
    """One janitor pass: stuck running rows back to queued (or failed past ``max_attempts``),
    unknown/pending rows that are due resolved with ``sync``, then the due queued ids."""
    moment = clock.now(now)
    report = SweepReport()
    _requeue_stuck(moment, report)
    for op_id in _due_unresolved(moment):
        result = resolve_operation(operation_id=op_id, now=moment)
        report.resolved[result] = report.resolved.get(result, 0) + 1
    report.due_ids = selectors.list_due_operation_ids(now=moment)
    return report


def _requeue_stuck(moment: datetime, report: SweepReport) -> None:
    timeout = timedelta(seconds=_conf("OPERATIONS_RUNNING_TIMEOUT", 600))
    stuck = ServiceOperation.objects.filter(status=OS.RUNNING, started_at__lt=moment - timeout)
    for op in stuck:
        if op.attempts >= op.max_attempts:
            _unrun(op)
            message = f"no answer after {op.attempts} attempt(s)"
            actions.fail_operation(
                operation=op, code="timeout", message=message, actor=JOB, now=moment
            )
            report.failed_stuck += 1
        elif ServiceOperation.objects.filter(pk=op.pk, status=OS.RUNNING).update(
            status=OS.QUEUED, next_attempt_at=moment, error_code="timeout"
        ):
            report.requeued_stuck += 1


def _due_unresolved(moment: datetime) -> list[int]:
    return list(
        ServiceOperation.objects.filter(
            status__in=(OS.UNKNOWN, OS.PENDING), next_attempt_at__lte=moment
        )
        .order_by("id")
        .values_list("id", flat=True)[:1000]
    )


def resolve_operation(*, operation_id: int, now: datetime | None = None) -> str:
    """Ask the module's ``sync`` whether an unknown/pending operation took effect.

    succeeded -> completed; failed (it did not happen) -> queued again as a new attempt, or
    failed for good past ``max_attempts``; pending/unknown -> asked again later.
    """
    moment = clock.now(now)
    recheck = moment + timedelta(seconds=_conf("OPERATIONS_UNKNOWN_RECHECK", 60))
    claimed = ServiceOperation.objects.filter(
        pk=operation_id, status__in=(OS.UNKNOWN, OS.PENDING), next_attempt_at__lte=moment
    ).update(next_attempt_at=recheck)  # a concurrent janitor now skips it
    if not claimed:
        return "skipped"
    op = selectors.get_operation(operation_id)
    try:
        outcome = _call(op, "sync")
    except RetryableError:
        return "unknown"
    except BillowError as exc:
        actions.fail_operation(operation=op, code=exc.code, message=exc.message, actor=JOB)
        return "failed"
    if outcome.status != OutcomeStatus.FAILED:
        return apply_outcome(op, outcome, now=moment)
    if op.attempts >= op.max_attempts:
        actions.fail_operation(
            operation=op, code="retries_exhausted", message=outcome.message, actor=JOB, now=moment
        )
        return "failed"
    ServiceOperation.objects.filter(pk=op.pk, status=op.status).update(
        status=OS.QUEUED, next_attempt_at=moment, error_code="not_applied"
    )
    return "requeued"


def run_due_operations(*, now: datetime | None = None, rounds: int = 10) -> dict[str, int]:
    """Janitor pass + every due operation run inline (``billow operations --run-due``)."""
    counts: dict[str, int] = {}
    for _ in range(rounds):
        report = sweep_operations(now=now)
        for key, value in report.resolved.items():
            counts[f"resolved_{key}"] = counts.get(f"resolved_{key}", 0) + value
        counts["requeued_stuck"] = counts.get("requeued_stuck", 0) + report.requeued_stuck
        if not report.due_ids:
            break
        for op_id in report.due_ids:
            result = execute_operation(operation_id=op_id, now=now)
            counts[result] = counts.get(result, 0) + 1
    return counts
