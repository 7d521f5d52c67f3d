"""The processing-module contract suite: any module runs it against itself (pytest-django).

    from billow.services.modules.contract import ModuleContract

    class TestLibvirtContract(ModuleContract):
        module_key = "libvirt"

        def module_config(self):
            return {"uri": "qemu:///system"}

        def settle(self, operation):  # only for modules that answer ``pending``
            ...

It checks what DESIGN §4 promises of every module, through the real runner and janitor: open is
idempotent by key (a replayed call or a re-run after a crash makes no second remote object);
suspend / resume / close round-trip; a transport error is retried with backoff and then
succeeds; a final failure sets the service ``failed`` and opens a staff Task; an ``unknown``
outcome is resolved by the janitor through ``sync``. Faults are injected around the module's
own methods, so a module needs no test hooks.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import pytest

from billow.accounts.models import Client, Provider
from billow.catalog import actions as catalog
from billow.catalog.models import Currency
from billow.core import clock
from billow.core.errors import RetryableError
from billow.services import actions, runner, selectors
from billow.services.models import (
    ModuleInstance,
    OperationStatus,
    Service,
    ServiceOperation,
    Task,
    TaskKind,
    TaskStatus,
)
from billow.services.modules.base import Outcome, OutcomeStatus, ProcessingModule, modules
from billow.services.states import ServiceStatus

T0 = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)


@dataclass
class ContractWorld:
    instance: ModuleInstance
    service: Service
    clock: clock.FixedClock


class ModuleContract:
    """Subclass as ``Test<Module>Contract`` and set ``module_key``."""

    module_key: ClassVar[str] = ""

    # -- hooks a module may override -------------------------------------------------------

    def module_config(self) -> dict[str, Any]:
        return {}

    def module_secrets(self) -> dict[str, str] | None:
        return None

    def settle(self, operation: ServiceOperation) -> None:
        """Drive a ``pending`` operation to its end (default: the module never answers
        pending, so there is nothing to do)."""

    def remote_count(self, world: ContractWorld) -> int:
        """How many remote objects exist for the service (default: ``discover``)."""
        outcome = self.module(world).discover()
        objects = outcome.data.get("objects", [])
        return sum(1 for o in objects if o.get("service_id") in (None, world.service.pk))

    # -- fixtures and helpers --------------------------------------------------------------

    @pytest.fixture
    def world(self, db: Any) -> Iterator[ContractWorld]:
        with clock.use_clock(clock.FixedClock(T0)) as fixed:
            assert isinstance(fixed, clock.FixedClock)
            yield _make_world(self.module_key, self.module_config(), self.module_secrets(), fixed)

    def module(self, world: ContractWorld) -> ProcessingModule:
        return runner.build_module(world.instance)

    def run(self, op: ServiceOperation) -> str:
        result = runner.execute_operation(operation_id=op.pk)
        op.refresh_from_db()
        if op.status == OperationStatus.PENDING:
            self.settle(op)
            op.refresh_from_db()
        return result

    def request(self, world: ContractWorld, operation: str, **kw: Any) -> ServiceOperation:
        return actions.request_operation(service=world.service, operation=operation, **kw)

    def open_service(self, world: ContractWorld) -> ServiceOperation:
        op = self.request(world, "open", key=f"open:{world.service.pk}:contract")
        self.run(op)
        world.service.refresh_from_db()
        assert op.status == OperationStatus.SUCCEEDED, (op.status, op.error_code, op.result)
        assert world.service.status == ServiceStatus.ACTIVE
        return op

    def inject(self, monkeypatch: Any, method: str, fault: Any) -> list[int]:
        """Wrap ``method`` of the module class: ``fault(real, ctx, n)`` decides each call."""
        cls = modules.get(self.module_key)
        real = getattr(cls, method)
        calls: list[int] = []

        @functools.wraps(real)
        def wrapper(module: ProcessingModule, ctx: Any) -> Outcome:
            calls.append(1)
            return fault(functools.partial(real, module), ctx, len(calls))

        monkeypatch.setattr(cls, method, wrapper)
        return calls

    # -- the contract ----------------------------------------------------------------------

    def test_open_is_idempotent_by_key(self, world: ContractWorld) -> None:
        op = self.open_service(world)
        external_id = world.service.external_id
        assert self.remote_count(world) == 1
        # when the same request comes again (same key), then it is the same row
        again = self.request(world, "open", key=op.idempotency_key)
        assert again.pk == op.pk
        assert ServiceOperation.objects.filter(service=world.service).count() == 1
        # when the module is called again with the same key, then nothing new exists remotely
        outcome = self.module(world).open(selectors.build_context(op))
        assert outcome.status in (OutcomeStatus.SUCCEEDED, OutcomeStatus.PENDING)
        if outcome.external_id:
            assert outcome.external_id == external_id
        assert self.remote_count(world) == 1
        # and a finished operation is never run twice
        assert runner.execute_operation(operation_id=op.pk) == "skipped"

    def test_rerun_after_a_crash_creates_nothing_twice(self, world: ContractWorld) -> None:
        op = self.request(world, "open")
        # given a worker that called the module and died before recording the outcome
        ServiceOperation.objects.filter(pk=op.pk).update(
            status=OperationStatus.RUNNING, attempts=1, started_at=T0
        )
        self.module(world).open(selectors.build_context(op))
        # when the janitor finds it stuck past the timeout and it runs again
        world.clock.advance(seconds=601)
        counts = runner.run_due_operations()
        assert counts["requeued_stuck"] == 1
        op.refresh_from_db()
        if op.status == OperationStatus.PENDING:
            self.settle(op)
            op.refresh_from_db()
        # then it succeeded once and one remote object exists
        assert (op.status, op.attempts) == (OperationStatus.SUCCEEDED, 2)
        assert self.remote_count(world) == 1

    def test_suspend_resume_close_round_trip(self, world: ContractWorld) -> None:
        self.open_service(world)
        svc = world.service
        steps = [
            (
                "suspend",
                {"target_status": ServiceStatus.SUSPENDED_BY_CLIENT},
                ServiceStatus.SUSPENDED_BY_CLIENT,
            ),
            ("resume", None, ServiceStatus.ACTIVE),
            ("close", None, ServiceStatus.DELETED),
        ]
        for operation, payload, expected in steps:
            world.clock.advance(hours=1)
            op = self.request(world, operation, payload=payload)
            svc.refresh_from_db()
            assert (svc.status, svc.sub_state) == (ServiceStatus.IN_PROGRESS, op_sub(operation))
            self.run(op)
            svc.refresh_from_db()
            assert op.status == OperationStatus.SUCCEEDED, (operation, op.error_code)
            assert svc.status == expected
        assert svc.deleted_at == T0 + timedelta(hours=3)
        assert svc.suspended_at is None
        moves = list(svc.events.values_list("from_status", "to_status"))
        assert moves == [
            ("", "ordered"),
            ("ordered", "in_progress"),
            ("in_progress", "active"),
            ("active", "in_progress"),
            ("in_progress", "suspended_client"),
            ("suspended_client", "in_progress"),
            ("in_progress", "active"),
            ("active", "in_progress"),
            ("in_progress", "deleted"),
        ]

    def test_transport_error_is_retried_then_succeeds(
        self, world: ContractWorld, monkeypatch: Any
    ) -> None:
        def first_call_times_out(real: Any, ctx: Any, n: int) -> Outcome:
            if n == 1:
                raise RetryableError("connection timed out", code="transport_error")
            result: Outcome = real(ctx)
            return result

        calls = self.inject(monkeypatch, "open", first_call_times_out)
        op = self.request(world, "open")
        # when the first attempt hits a transport error
        assert self.run(op) == "retry"
        assert (op.status, op.attempts, op.error_code) == ("queued", 1, "transport_error")
        assert op.next_attempt_at == T0 + timedelta(seconds=30)
        # then it is not retried before its backoff
        assert runner.execute_operation(operation_id=op.pk) == "skipped"
        # and after the backoff the janitor runs it again and it succeeds
        world.clock.advance(seconds=30)
        runner.run_due_operations()
        op.refresh_from_db()
        if op.status == OperationStatus.PENDING:
            self.settle(op)
            op.refresh_from_db()
        world.service.refresh_from_db()
        assert (op.status, op.attempts, len(calls)) == ("succeeded", 2, 2)
        assert world.service.status == ServiceStatus.ACTIVE
        assert self.remote_count(world) == 1

    def test_final_failure_opens_a_task_and_fails_the_service(
        self, world: ContractWorld, monkeypatch: Any, django_capture_on_commit_callbacks: Any
    ) -> None:
        def always_down(real: Any, ctx: Any, n: int) -> Outcome:
            raise RetryableError(f"connection refused ({n})", code="transport_error")

        self.inject(monkeypatch, "open", always_down)
        op = self.request(world, "open")
        ServiceOperation.objects.filter(pk=op.pk).update(max_attempts=3)
        results = []
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            for delay in (0, 30, 60):
                world.clock.advance(seconds=delay)
                results.append(runner.execute_operation(operation_id=op.pk))
        assert results == ["retry", "retry", "failed"]
        op.refresh_from_db()
        world.service.refresh_from_db()
        assert (op.status, op.attempts, op.error_code) == ("failed", 3, "retries_exhausted")
        assert world.service.status == ServiceStatus.FAILED
        task = Task.objects.get(service=world.service, kind=TaskKind.FAILURE)
        assert (task.status, task.department, task.operation_id) == ("open", "ops", op.pk)
        assert str(world.service.pk) in task.link
        assert callbacks  # staff notification scheduled after commit (and did not raise)

    def test_unknown_outcome_is_resolved_by_the_janitor(
        self, world: ContractWorld, monkeypatch: Any
    ) -> None:
        def response_lost(real: Any, ctx: Any, n: int) -> Outcome:
            real(ctx)  # the work happens, the answer does not arrive
            return Outcome.unknown(message="read timeout after sending")

        self.inject(monkeypatch, "open", response_lost)
        op = self.request(world, "open")
        assert self.run(op) == "unknown"
        assert op.status == OperationStatus.UNKNOWN
        world.service.refresh_from_db()
        assert world.service.status == ServiceStatus.IN_PROGRESS
        # when the janitor runs after the recheck delay
        world.clock.advance(seconds=60)
        report = runner.sweep_operations()
        assert sum(report.resolved.values()) == 1
        op.refresh_from_db()
        if op.status == OperationStatus.PENDING:
            self.settle(op)
            op.refresh_from_db()
        world.service.refresh_from_db()
        assert op.status == OperationStatus.SUCCEEDED
        assert world.service.status == ServiceStatus.ACTIVE
        assert self.remote_count(world) == 1


def op_sub(operation: str) -> str:
    return {"suspend": "suspend", "resume": "resume", "close": "delete", "open": "open"}[operation]


def _make_world(
    key: str, config: dict[str, Any], secrets: dict[str, str] | None, fixed: clock.FixedClock
) -> ContractWorld:
    if not Currency.objects.filter(code="USD").exists():
        catalog.create_currency(code="USD", name="US dollar", symbol="$")
    provider = Provider.objects.create(name=f"Contract {key}", code=f"contract-{key}")
    client = Client.objects.create(name="Contract client", email="contract@example.com")
    client.providers.add(provider)
    pt = catalog.create_product_type(name=f"Contract {key}", intname=f"contract-{key}")
    tariff = catalog.create_tariff(provider_id=provider.pk, product_type=pt, name="Contract")
    catalog.set_tariff_price(tariff=tariff, period="1m", currency="USD", amount_minor=1000)
    instance = actions.create_module_instance(
        module=key,
        name=f"contract {key}",
        config=config,
        secrets=secrets,
        department="ops",
        product_types=[pt],
    )
    service = actions.create_service(client=client, tariff=tariff, period="1m", currency="USD")
    assert service.module_instance_id == instance.pk
    return ContractWorld(instance=instance, service=service, clock=fixed)


def complete_pending_task(operation: ServiceOperation, data: dict[str, Any] | None = None) -> None:
    """Settle helper for task-driven modules: staff complete the operation's open Task."""
    task = Task.objects.filter(
        operation=operation, kind=TaskKind.OPERATION, status=TaskStatus.OPEN
    ).first()
    assert task is not None, f"no open task for operation {operation.pk}"
    actions.complete_task(task=task, success=True, data=data or {})
