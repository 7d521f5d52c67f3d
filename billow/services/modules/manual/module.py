"""Manual setup: each operation opens one Task for the instance's department and stays pending
until staff complete the Task (``actions.complete_task``), which completes the operation.
Replays of the same operation reuse its Task."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from billow.services import actions
from billow.services.models import Task, TaskKind, TaskStatus
from billow.services.modules.base import (
    ModuleConfig,
    Outcome,
    ProcessingModule,
    ServiceContext,
    modules,
)

_WHAT = {
    "open": "Set up the service and enter its external id when completing this task.",
    "suspend": "Suspend the service in the panel.",
    "resume": "Resume (unblock) the service in the panel.",
    "close": "Delete the service in the panel.",
    "set_param": "Change the service's resources / parameters to the values below.",
    "prolong": "Extend the service in the panel.",
}


@dataclass(frozen=True)
class ManualConfig(ModuleConfig):
    instructions: str = ""


@modules.register("manual")
class ManualModule(ProcessingModule):
    key = "manual"
    title = "Manual setup (tasks for staff)"
    config_class = ManualConfig

    def _task(self, ctx: ServiceContext) -> Outcome:
        if ctx.operation_id is None:
            return Outcome.failed(code="no_operation", message="manual work needs an operation")
        extra = getattr(self.config, "instructions", "")
        lines = [_WHAT.get(ctx.operation, f"Perform {ctx.operation!r} by hand."), extra]
        lines.append(
            f"Tariff: {ctx.tariff_name}; addons: {dict(ctx.addon_values)}; "
            f"parameters: {dict(ctx.parameters)}; external id: {ctx.external_id or '-'}"
        )
        task = actions.ensure_operation_task(
            operation_id=ctx.operation_id,
            title=f"{ctx.operation} service #{ctx.service_id} ({ctx.tariff_name})",
            instructions="\n".join(line for line in lines if line),
        )
        return Outcome.pending(message=f"task #{task.pk}", task_id=task.pk)

    def check_connection(self) -> Outcome:
        return Outcome.succeeded(message="manual: nothing to connect to")

    def open(self, ctx: ServiceContext) -> Outcome:
        return self._task(ctx)

    def suspend(self, ctx: ServiceContext) -> Outcome:
        return self._task(ctx)

    def resume(self, ctx: ServiceContext) -> Outcome:
        return self._task(ctx)

    def close(self, ctx: ServiceContext) -> Outcome:
        return self._task(ctx)

    def set_param(self, ctx: ServiceContext) -> Outcome:
        return self._task(ctx)

    def prolong(self, ctx: ServiceContext) -> Outcome:
        return self._task(ctx)

    def sync(self, ctx: ServiceContext) -> Outcome:
        """Open task: pending; no task yet: not done (the runner queues the call again)."""
        task = (
            Task.objects.filter(operation_id=ctx.operation_id, kind=TaskKind.OPERATION)
            .order_by("id")
            .first()
        )
        if task is None or task.status == TaskStatus.CANCELLED:
            return Outcome.failed(code="not_applied", message="no task was opened")
        return Outcome.pending(message=f"task #{task.pk}", task_id=task.pk)

    def stat(self, ctx: ServiceContext, day: date) -> Outcome:
        return Outcome.succeeded(values={})

    def discover(self) -> Outcome:
        return Outcome.succeeded(objects=[])
