"""Staff tasks: the \"do it by hand\" task of an operation, and staff completing or dropping
one (which completes, fails or cancels the operation behind it)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.db import transaction

from billow.core import clock
from billow.core.actors import Actor
from billow.services.errors import ServiceConflictError
from billow.services.models import (
    Service,
    ServiceOperation,
    Task,
    TaskKind,
    TaskStatus,
)

from .outcomes import (
    FINISHED,
    OS,
    cancel_operation,
    complete_operation,
    fail_operation,
    open_task,
)
from .service_tasks import refuse_if_owned_elsewhere


def open_staff_task(
    *, title: str, instructions: str = "", link: str = "", department: str = "support"
) -> Task:
    """A staff Task of kind ``other`` for something outside a service (e.g. a broken
    notification template). Repeats are absorbed: while a Task with this ``title`` is open, it
    is returned instead of a new one (a failing template must not open one Task per client)."""
    with transaction.atomic():
        existing = (
            Task.objects.filter(title=title[:300], kind=TaskKind.OTHER, status=TaskStatus.OPEN)
            .order_by("id")
            .first()
        )
        if existing is not None:
            return existing
        return Task.objects.create(
            department=department,
            kind=TaskKind.OTHER,
            title=title[:300],
            instructions=instructions,
            link=link[:300],
        )


def ensure_operation_task(
    *, operation_id: int, title: str, instructions: str = "", now: datetime | None = None
) -> Task:
    """The open "do it by hand" Task of an operation, created once (the manual module's call).
    Replays with the same operation return the same task."""
    moment = clock.now(now)
    with transaction.atomic():
        op = ServiceOperation.objects.select_related("service", "module_instance").get(
            pk=operation_id
        )
        svc = Service.objects.select_for_update().get(pk=op.service_id)
        task = Task.objects.filter(operation=op, kind=TaskKind.OPERATION).order_by("id").first()
        if task is None:
            task = open_task(op, svc, TaskKind.OPERATION, title, instructions, moment)
    return task


def complete_task(
    *,
    task: Task,
    actor: Actor | None = None,
    success: bool = True,
    data: Mapping[str, Any] | None = None,
    resolution: str = "",
    by_owner: bool = False,
    now: datetime | None = None,
) -> Task:
    """Staff finished ``task``. With an unfinished operation attached: ``success`` completes it
    (``data`` as the module's result, e.g. ``{"external_id": ...}``); otherwise the operation
    fails for good (service ``failed``, a failure Task). ``task_closed`` if not open;
    ``task_owned_elsewhere`` for a Task an app owns (``register_task_owner``) unless that app
    closes it (``by_owner``)."""
    moment = clock.now(now)
    with transaction.atomic():
        t = _lockopen_task(task)
        if not by_owner:
            refuse_if_owned_elsewhere(t)
        t.status, t.completed_at, t.resolution = TaskStatus.DONE, moment, resolution
        t.save(update_fields=["status", "completed_at", "resolution"])
        op = t.operation
        if op is not None and op.status not in FINISHED:
            if success:
                complete_operation(operation=op, data=data, actor=actor, now=moment)
            elif op.status != OS.FAILED:
                why = resolution or "staff could not complete the task"
                fail_operation(
                    operation=op, code="manual_failed", message=why, actor=actor, now=moment
                )
    task.refresh_from_db()
    return task


def cancel_task(
    *,
    task: Task,
    actor: Actor | None = None,
    reason: str = "",
    by_owner: bool = False,
    now: datetime | None = None,
) -> Task:
    """Staff drop ``task``. A waiting (manual) operation attached to it is cancelled and the
    service returns to where it was; a failed operation stays failed."""
    moment = clock.now(now)
    with transaction.atomic():
        t = _lockopen_task(task)
        if not by_owner:
            refuse_if_owned_elsewhere(t)
        t.status, t.completed_at, t.resolution = TaskStatus.CANCELLED, moment, reason
        t.save(update_fields=["status", "completed_at", "resolution"])
        op = t.operation
        if op is not None and op.status in (OS.PENDING, OS.UNKNOWN, OS.QUEUED):
            cancel_operation(operation=op, actor=actor, reason=reason, now=moment)
    task.refresh_from_db()
    return task


def _lockopen_task(task: Task) -> Task:
    if task.service_id is not None:
        Service.objects.select_for_update().filter(pk=task.service_id).first()
    t = Task.objects.select_for_update().get(pk=task.pk)
    if t.status != TaskStatus.OPEN:
        raise ServiceConflictError("the task is closed", code="task_closed")
    return t
