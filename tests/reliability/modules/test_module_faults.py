"""Module faults injected through the dummy module: transient errors and timeouts retried with
growing backoff, errors past the retries failing with a staff Task, a lost (unknown) answer
resolved by the janitor, a hung call requeued; never a second remote object."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from billow.core import clock
from billow.services import actions, runner
from billow.services.models import ModuleInstance, Service, ServiceOperation, Task
from billow.services.modules.dummy import store
from tests.services.conftest import T0

pytestmark = pytest.mark.django_db


def _remote_objects(dummy: ModuleInstance) -> int:
    return len(store(dummy.pk).objects)


def _attempt_until_final(op: ServiceOperation, limit: int = 20) -> tuple[str, list[float]]:
    """Run each attempt when it is due; (final result, delays between attempts in seconds)."""
    delays: list[float] = []
    moment = T0
    for _ in range(limit):
        result = runner.execute_operation(operation_id=op.pk, now=moment)
        if result != "retry":
            return result, delays
        op.refresh_from_db()
        assert op.next_attempt_at is not None
        delays.append((op.next_attempt_at - moment).total_seconds())
        moment = op.next_attempt_at
    raise AssertionError("no final result")


@pytest.mark.parametrize("fail_times", [1, 2, 3])
def test_transient_errors_are_retried_with_backoff_into_one_remote_object(
    service: Service, dummy: ModuleInstance, fail_times: int, attempts: Callable[[int], None]
) -> None:
    actions.configure_module_instance(
        instance=dummy, config={"fail_mode": "transport_error_n_times", "fail_times": fail_times}
    )
    op = actions.request_operation(service=service, operation="open")
    result, delays = _attempt_until_final(op)
    attempts(fail_times + 1)
    op.refresh_from_db()
    assert (result, op.status, op.attempts) == ("succeeded", "succeeded", fail_times + 1)
    assert len(delays) == fail_times and delays == sorted(delays) and delays[0] > 0
    assert _remote_objects(dummy) == 1
    assert not Task.objects.filter(operation=op).exists()


def test_errors_past_the_retries_fail_with_a_staff_task(
    service: Service, dummy: ModuleInstance, attempts: Callable[[int], None]
) -> None:
    actions.configure_module_instance(
        instance=dummy, config={"fail_mode": "transport_error_n_times", "fail_times": 1000}
    )
    op = actions.request_operation(service=service, operation="open")
    result, delays = _attempt_until_final(op)
    op.refresh_from_db()
    attempts(op.attempts)
    assert (result, op.status, op.error_code) == ("failed", "failed", "retries_exhausted")
    assert delays == sorted(delays)
    task = Task.objects.get(operation=op)
    assert (task.kind, task.status) == ("failure", "open")
    assert _remote_objects(dummy) == 0


def test_a_final_failure_opens_one_staff_task(
    service: Service, dummy: ModuleInstance, attempts: Callable[[int], None]
) -> None:
    actions.configure_module_instance(instance=dummy, config={"fail_mode": "always_fail"})
    op = actions.request_operation(service=service, operation="open")
    assert runner.execute_operation(operation_id=op.pk) == "failed"
    attempts(1)
    assert Task.objects.filter(operation=op, kind="failure", status="open").count() == 1
    assert _remote_objects(dummy) == 0


def test_a_lost_answer_is_resolved_without_a_second_remote_object(
    service: Service, dummy: ModuleInstance, attempts: Callable[[int], None]
) -> None:
    actions.configure_module_instance(instance=dummy, config={"fail_mode": "unknown_then_succeed"})
    op = actions.request_operation(service=service, operation="open")
    assert runner.execute_operation(operation_id=op.pk) == "unknown"
    fixed = clock.get_clock()
    assert isinstance(fixed, clock.FixedClock)
    fixed.advance(seconds=3600)
    runner.sweep_operations()
    for _ in range(5):  # the janitor dispatches what is due (the queue runs inline)
        op.refresh_from_db()
        if op.status == "succeeded":
            break
        runner.execute_operation(operation_id=op.pk)
    attempts(op.attempts)
    service.refresh_from_db()
    assert (op.status, service.status) == ("succeeded", "active")
    assert _remote_objects(dummy) == 1


def test_a_hung_call_is_requeued_and_done_once(
    service: Service, dummy: ModuleInstance, attempts: Callable[[int], None]
) -> None:
    # given an open whose worker hung mid-call: the row stays running past the timeout
    op = actions.request_operation(service=service, operation="open")
    ServiceOperation.objects.filter(pk=op.pk).update(status="running", attempts=1, started_at=T0)
    fixed = clock.get_clock()
    assert isinstance(fixed, clock.FixedClock)
    fixed.advance(seconds=601)
    # when the janitor sweeps, then it is requeued and done, one remote object
    report = runner.sweep_operations()
    assert report.requeued_stuck == 1
    for _ in range(3):
        op.refresh_from_db()
        if op.status == "succeeded":
            break
        runner.execute_operation(operation_id=op.pk, now=fixed.now() + timedelta(hours=1))
    attempts(op.attempts)
    assert op.status == "succeeded"
    assert _remote_objects(dummy) == 1
