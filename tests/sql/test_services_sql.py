"""billow/services/sql.py (PostgreSQL only: elsewhere the callers use the ORM): the operation
claim, the succeed-if-unchanged statement and the paid-until UPDATE write and read back what
their ORM equivalents (the SQLite path of ``runner._claim``, the lock-and-check of
``complete_operation``, ``QuerySet.update``) do."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.db import transaction
from django.db.models import F, Model, Q

from billow.services import actions, selectors, sql
from billow.services.models import OperationStatus, Service, ServiceOperation, Task, TaskStatus
from tests.services.conftest import T0
from tests.sql.conftest import BIG

pytestmark = [pytest.mark.django_db, pytest.mark.postgres_only]

OS = OperationStatus


def fields(obj: Model, names: list[str] | None = None) -> dict[str, Any]:
    """The loaded (non-deferred) column values of ``obj``."""
    concrete = type(obj)._meta.concrete_fields
    return {
        f.attname: getattr(obj, f.attname)
        for f in concrete
        if f.attname in obj.__dict__ and (names is None or f.name in names)
    }


def claimed_view(op: ServiceOperation) -> dict[str, Any]:
    """What the claim read back, through the related objects the job uses."""
    svc = op.service
    instance = op.module_instance or svc.module_instance
    loaded = fields(svc)
    return {
        "op": fields(op),
        "service": loaded,
        "tariff": fields(svc.tariff, ["id", "product_type", "name"]),
        "type": fields(svc.tariff.product_type, ["id", "intname"]),
        "instance": None if instance is None else fields(instance),
        "stored": fields(ServiceOperation.objects.get(pk=op.pk)),
    }


def orm_claim(operation_id: int, moment: Any) -> ServiceOperation | None:
    claimed = (
        ServiceOperation.objects.filter(pk=operation_id, status=OS.QUEUED)
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=moment))
        .update(status=OS.RUNNING, attempts=F("attempts") + 1, started_at=moment)
    )
    return selectors.get_operation(operation_id) if claimed else None


def test_the_claim_writes_and_reads_what_the_orm_does(binding: str, service: Service) -> None:
    op = actions.request_operation(service=service, operation="open", payload={"n": BIG})
    moment = T0 + timedelta(seconds=1)
    views = []
    for claim in (sql.claim_operation, orm_claim):
        with transaction.atomic():
            got = claim(op.pk, moment)
            assert got is not None
            view = claimed_view(got)
            # the service columns the claim leaves deferred are the ORM's too, once loaded
            view["service"] = {
                k: v for k, v in view["service"].items() if k in got.service.__dict__
            }
            views.append(view)
            transaction.set_rollback(True)
    by_sql, by_orm = views
    assert by_sql["op"] == by_orm["op"] == by_sql["stored"] == by_orm["stored"]
    assert by_sql["op"]["payload"] == {"n": BIG} and by_sql["op"]["attempts"] == 1
    assert {k: by_orm["service"][k] for k in by_sql["service"]} == by_sql["service"]
    for part in ("tariff", "type", "instance"):
        assert {k: by_orm[part][k] for k in by_sql[part]} == by_sql[part]


def test_the_claim_of_an_operation_not_due_is_none_and_writes_nothing(
    binding: str, service: Service
) -> None:
    op = actions.request_operation(service=service, operation="open")
    ServiceOperation.objects.filter(pk=op.pk).update(next_attempt_at=T0 + timedelta(hours=1))
    before = fields(ServiceOperation.objects.get(pk=op.pk))
    assert sql.claim_operation(op.pk, T0) is None
    assert orm_claim(op.pk, T0) is None
    assert fields(ServiceOperation.objects.get(pk=op.pk)) == before


def orm_succeed(
    operation: ServiceOperation, result: dict[str, Any], moment: Any
) -> tuple[Service, ServiceOperation, bool] | None:
    svc = Service.objects.select_for_update().get(pk=operation.service_id)
    updated = ServiceOperation.objects.filter(
        pk=operation.pk,
        status=operation.status,
        attempts=operation.attempts,
        started_at=operation.started_at,
    ).update(
        status=OS.SUCCEEDED,
        result=result,
        finished_at=moment,
        error_code="",
        error_message="",
        next_attempt_at=None,
    )
    if not updated:
        return None
    op = ServiceOperation.objects.get(pk=operation.pk)
    open_tasks = Task.objects.filter(operation=op, status=TaskStatus.OPEN).exists()
    return svc, op, open_tasks


@pytest.mark.parametrize("with_task", [False, True])
def test_succeed_if_unchanged_writes_and_reads_what_the_orm_does(
    binding: str, service: Service, with_task: bool
) -> None:
    op = actions.request_operation(service=service, operation="open")
    running = sql.claim_operation(op.pk, T0)
    assert running is not None
    if with_task:
        Task.objects.create(
            service=service, operation=running, title="check", status=TaskStatus.OPEN
        )
    result = {"status": "succeeded", "size": BIG, "nested": [-BIG, "x"]}
    outcomes = []
    for succeed in (sql.succeed_if_unchanged, orm_succeed):
        with transaction.atomic():
            got = succeed(running, result, T0 + timedelta(minutes=1))
            assert got is not None
            svc, done, open_tasks = got
            stored = fields(ServiceOperation.objects.get(pk=op.pk))
            outcomes.append((fields(svc), fields(done), open_tasks, stored))
            transaction.set_rollback(True)
    assert outcomes[0] == outcomes[1]
    assert outcomes[0][1]["result"] == result and outcomes[0][2] is with_task


def test_succeed_if_unchanged_writes_nothing_when_the_row_changed(
    binding: str, service: Service
) -> None:
    op = actions.request_operation(service=service, operation="open")
    running = sql.claim_operation(op.pk, T0)
    assert running is not None
    ServiceOperation.objects.filter(pk=op.pk).update(attempts=F("attempts") + 1)
    before = fields(ServiceOperation.objects.get(pk=op.pk))
    assert sql.succeed_if_unchanged(running, {"status": "succeeded"}, T0) is None
    assert orm_succeed(running, {"status": "succeeded"}, T0) is None
    assert fields(ServiceOperation.objects.get(pk=op.pk)) == before


def test_set_paid_until_writes_what_the_orm_does(binding: str, client: Any, tariff: Any) -> None:
    made = [
        actions.create_service(
            client=client,
            tariff=tariff,
            period="1m",
            currency="USD",
            parameters={"os": "debian-12"},
        )
        for _ in range(4)
    ]
    by_sql, by_orm, untouched = [s.pk for s in made[:2]], [made[2].pk], made[3].pk
    paid, moment = date(2027, 4, 1), T0 + timedelta(seconds=3)
    before = Service.objects.values_list("paid_until", "updated_at").get(pk=untouched)
    sql.set_paid_until(by_sql, paid, moment)
    Service.objects.filter(pk__in=by_orm).update(paid_until=paid, updated_at=moment)
    rows = {
        pk: (paid_until, updated_at)
        for pk, paid_until, updated_at in Service.objects.values_list(
            "pk", "paid_until", "updated_at"
        )
    }
    assert rows[by_sql[0]] == rows[by_sql[1]] == rows[by_orm[0]] == (paid, moment)
    assert rows[untouched] == before
