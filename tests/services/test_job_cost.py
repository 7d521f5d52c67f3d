"""The operation job's hot path: its statement count, and that the folded statements (the claim
that reads the row, the lock that marks it succeeded) keep what the step-by-step path does."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from billow.core.actors import Actor
from billow.services import actions, runner, selectors
from billow.services.errors import ServiceConflictError
from billow.services.models import Service, ServiceOperation, Task

from .conftest import T0

#: claim (reads the row) + BEGIN, lock-and-succeed, service UPDATE, event INSERT, COMMIT on
#: PostgreSQL; elsewhere the claim, the read and the two locks are separate statements.
JOB_STATEMENTS = 6 if connection.vendor == "postgresql" else 10


@pytest.mark.django_db
def test_open_job_statements(service: Service, django_assert_max_num_queries: Any) -> None:
    op = actions.request_operation(service=service, operation="open")
    with django_assert_max_num_queries(JOB_STATEMENTS):
        assert runner.execute_operation(operation_id=op.pk) == "succeeded"
    op.refresh_from_db()
    service.refresh_from_db()
    assert (op.status, op.attempts, op.started_at, op.finished_at) == ("succeeded", 1, T0, T0)
    assert (op.error_code, op.next_attempt_at) == ("", None)
    assert op.result == {"status": "succeeded", "external_id": service.external_id}
    assert (service.status, service.sub_state, service.opened_at) == ("active", "", T0)
    event = service.events.latest("id")
    assert (event.type, event.from_status, event.to_status, event.actor_kind) == (
        "service.status_changed",
        "in_progress",
        "active",
        "job",
    )
    assert event.data == {
        "sub_state": "",
        "reason": "open succeeded",
        "operation_id": op.pk,
        "operation": "open",
    }


@pytest.mark.django_db
def test_job_closes_the_open_tasks_of_the_operation(service: Service) -> None:
    op = actions.request_operation(service=service, operation="open")
    task = actions.ensure_operation_task(operation_id=op.pk, title="open it by hand")
    other = ServiceOperation.objects.create(  # another operation of the service, long done
        service=service, operation="stop", status="failed", idempotency_key="stop-1"
    )
    Task.objects.create(title="unrelated", service=service, operation=other)
    with CaptureQueriesContext(connection) as ctx:
        assert runner.execute_operation(operation_id=op.pk) == "succeeded"
    assert len(ctx.captured_queries) <= JOB_STATEMENTS + 1  # + closing the task
    task.refresh_from_db()
    assert (task.status, task.resolution, task.completed_at) == (
        "done",
        "the operation succeeded",
        T0,
    )
    assert Task.objects.get(title="unrelated").status == "open"


@pytest.mark.django_db
def test_completing_an_operation_changed_since_it_was_loaded(service: Service) -> None:
    """A stale object (the row failed meanwhile, opening a failure task): it still completes,
    re-read under lock, and the failure task is closed."""
    op = actions.request_operation(service=service, operation="open")
    ServiceOperation.objects.filter(pk=op.pk).update(status="running", attempts=1, started_at=T0)
    stale = ServiceOperation.objects.get(pk=op.pk)
    actions.fail_operation(operation=stale, code="timeout", message="no answer")
    failure = Task.objects.get(operation=op, kind="failure")
    done = actions.complete_operation(
        operation=stale, data={"external_id": "x-1"}, actor=Actor.job("test")
    )
    assert (done.status, done.attempts, done.error_code) == ("succeeded", 1, "")
    service.refresh_from_db()
    failure.refresh_from_db()
    assert (service.status, service.external_id) == ("active", "x-1")
    assert failure.status == "done"
    with pytest.raises(ServiceConflictError) as err:
        actions.complete_operation(operation=stale)
    assert err.value.code == "operation_finished"


@pytest.mark.django_db
@pytest.mark.parametrize("own_instance", [True, False])
def test_claim_reads_what_get_operation_reads(service: Service, own_instance: bool) -> None:
    op = actions.request_operation(service=service, operation="open")
    if not own_instance:  # e.g. billing's bulk rows may leave it to the service's instance
        ServiceOperation.objects.filter(pk=op.pk).update(module_instance=None)
    claimed = runner._claim(op.pk, T0)
    assert claimed is not None
    assert runner._claim(op.pk, T0) is None  # running now: a second claim gets nothing
    read = selectors.get_operation(op.pk)
    fields = [f.attname for f in ServiceOperation._meta.concrete_fields]
    assert [getattr(claimed, f) for f in fields] == [getattr(read, f) for f in fields]
    assert (claimed.status, claimed.attempts, claimed.started_at) == ("running", 1, T0)
    assert selectors.build_context(claimed) == selectors.build_context(read)
    assert claimed.service.status == read.service.status
    mine = claimed.module_instance or claimed.service.module_instance
    theirs = read.module_instance or read.service.module_instance
    assert mine is not None and theirs is not None
    assert [getattr(mine, f.attname) for f in mine._meta.concrete_fields] == [
        getattr(theirs, f.attname) for f in theirs._meta.concrete_fields
    ]
