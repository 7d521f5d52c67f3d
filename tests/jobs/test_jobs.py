"""The billow.jobs facade, run through Huey in immediate mode."""

from __future__ import annotations

from datetime import datetime

import pytest
from django.db import transaction
from huey.exceptions import TaskException

from billow.core.errors import RetryableError, ValidationError
from billow.jobs import RetryPolicy, enqueue_on_commit, job

calls: list[tuple[str, object]] = []


@pytest.fixture(autouse=True)
def _reset_calls():
    calls.clear()


@job
def add_job(a: int, b: int) -> int:
    calls.append(("add", (a, b)))
    return a + b


@job(retries=3, base_delay=10, factor=2, max_delay=3600)
def always_transient(service_id: int) -> None:
    calls.append(("transient", service_id))
    raise RetryableError("gateway timeout")


@job(retries=3, base_delay=10)
def buggy(service_id: int) -> None:
    calls.append(("buggy", service_id))
    raise ValueError("a bug, not a hiccup")


@job(retries=2, base_delay=0)
def flaky(service_id: int) -> str:
    calls.append(("flaky", service_id))
    if len(calls) < 2:
        raise RetryableError("first try fails")
    return "ok"


def test_job_runs_and_returns(immediate_huey):
    result = add_job(2, 3)
    assert result() == 5
    assert calls == [("add", (2, 3))]


@job(keep_result=False)
def add_quietly(a: int, b: int) -> int:
    calls.append(("add_quietly", (a, b)))
    return a + b


def test_a_job_without_kept_result_runs_and_stores_nothing(immediate_huey):
    result = add_quietly(2, 3)
    assert calls == [("add_quietly", (2, 3))]
    assert result() is None
    assert immediate_huey.result_count() == 0
    assert add_quietly.call_local(4, 5) == 9  # inline, the value is still there


def test_a_job_keeps_its_result_by_default(immediate_huey):
    add_job(2, 3)
    assert immediate_huey.result_count() == 1


def test_call_local_runs_inline_without_huey():
    assert add_job.call_local(4, 5) == 9
    with pytest.raises(RetryableError):
        always_transient.call_local(1)


def test_job_carries_its_policy():
    assert always_transient.retry_policy == RetryPolicy(3, 10, 2, 3600)
    assert add_job.retry_policy == RetryPolicy()  # settings.BILLOW has no JOBS_* overrides


def test_job_keeps_the_function_name_for_huey_registration():
    assert add_job.name is None
    assert add_job.task_class.__name__ == "add_job"
    assert add_job.task_class.__module__ == __name__


def test_non_retryable_error_fails_at_once(immediate_huey):
    result = buggy(7)
    assert calls == [("buggy", 7)]
    assert immediate_huey.scheduled() == []
    with pytest.raises(TaskException) as exc:
        result()
    assert "a bug, not a hiccup" in str(exc.value)


def test_retryable_error_retries_with_exponential_backoff_then_fails(immediate_huey):
    # Given a job that always raises RetryableError, with 3 retries and a 10 s base delay
    result = always_transient(42)
    delays = []
    # When each scheduled retry is run at its eta
    while scheduled := immediate_huey.read_schedule(datetime(9999, 1, 1)):
        (task,) = scheduled
        delays.append(task.retry_delay)
        immediate_huey.execute(task, timestamp=task.eta)
    # Then it ran 1 + 3 times, waiting 10, 20, 40 seconds, and finally failed
    assert calls == [("transient", 42)] * 4
    assert delays == [10.0, 20.0, 40.0]
    assert immediate_huey.scheduled() == []
    with pytest.raises(TaskException):
        result()


def test_retry_is_scheduled_after_the_delay(immediate_huey):
    before = datetime.utcnow()  # noqa: DTZ003 - huey schedules in naive UTC
    always_transient(1)
    (task,) = immediate_huey.scheduled()
    assert task.retries == 2
    assert 9 <= (task.eta - before).total_seconds() <= 15


def test_transient_failure_then_success(immediate_huey):
    result = flaky(3)
    assert calls == [("flaky", 3), ("flaky", 3)]
    assert result() == "ok"


@pytest.mark.django_db(transaction=True)
def test_enqueue_on_commit_waits_for_the_commit(immediate_huey):
    with transaction.atomic():
        enqueue_on_commit(add_job, 1, b=2)
        assert calls == []
    assert calls == [("add", (1, 2))]


@pytest.mark.django_db(transaction=True)
def test_enqueue_on_commit_never_runs_after_a_rollback(immediate_huey):
    with pytest.raises(RuntimeError), transaction.atomic():
        enqueue_on_commit(add_job, 1, 2)
        raise RuntimeError("rolled back")
    assert calls == []


@pytest.mark.django_db(transaction=True)
def test_enqueue_on_commit_outside_a_transaction_runs_at_once(immediate_huey):
    enqueue_on_commit(add_job, 5, 6)
    assert calls == [("add", (5, 6))]


@pytest.mark.django_db
@pytest.mark.parametrize("bad", [object(), 1.5, [1, {"x": object()}]])
def test_enqueue_on_commit_takes_ids_and_plain_values_only(
    immediate_huey, bad, django_capture_on_commit_callbacks
):
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(ValidationError) as exc,
    ):
        enqueue_on_commit(add_job, bad, 1)
    assert exc.value.code == "invalid_job_args"
    assert callbacks == []
    assert calls == []
