"""The services app's hand-written SQL: the two statements of the job that runs an operation,
and the billing run's paid-until UPDATE.

The job's two fold several ORM statements into one on PostgreSQL and are kept by hand for the
job's benchmark (``bench/services_job.py``: at most six statements per job, pinned by a test):

- :func:`claim_operation` — queued (and due) -> running with the row, its service, tariff,
  product type and module instance read back in the same statement;
- :func:`succeed_if_unchanged` — lock the service and mark the operation succeeded when its row
  is still as the caller loaded it, reading back whether it has open tasks.

:func:`set_paid_until` moves a billing chunk's thousands of renewed services to one date with
the ids as one array parameter (``bench/billing_run.py``: the ORM's ``IN`` list of N
placeholders costs the run its target).

On SQLite the callers use the ORM instead. Names are quoted, the connection is the router's
(``billow.core.rows``).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import ForeignKey, Model

from billow.catalog.models import ProductType, Tariff
from billow.core import rows
from billow.services.models import (
    ModuleInstance,
    OperationStatus,
    Service,
    ServiceOperation,
    Task,
    TaskStatus,
)

OS = OperationStatus

# Table and column names come from the models, never from input (hence the noqa on f-strings).

# --- claim ------------------------------------------------------------------------------------

# What the job reads of the claimed row: the operation, the columns of its service, tariff and
# product type that ``build_context`` uses (the rest is deferred), and the module instance it
# runs on (the operation's own, else the service's).
_C_OP = rows.Columns(ServiceOperation, "c")
_C_SVC = rows.Columns(
    Service,
    "s",
    [
        "id",
        "client",
        "tariff",
        "status",
        "module_instance",
        "external_id",
        "addon_values",
        "parameters",
    ],
)
_C_TARIFF = rows.Columns(Tariff, "t", ["id", "product_type", "name"])
_C_TYPE = rows.Columns(ProductType, "pt", ["id", "intname"])
_C_INSTANCE = rows.Columns(ModuleInstance, "mi")


@rows.per_vendor
def claim_sql(conn: BaseDatabaseWrapper) -> str:
    """Parameters: running, now, operation id, queued, now."""
    qn = conn.ops.quote_name

    def col(model: type[Model], field: str) -> str:
        return rows.column(model, field, conn)

    op = rows.table(ServiceOperation, conn)
    return (
        f"WITH c AS (UPDATE {op} SET {col(ServiceOperation, 'status')} = %s, "  # noqa: S608
        f"{qn('attempts')} = {qn('attempts')} + 1, {qn('started_at')} = %s"
        f" WHERE {qn('id')} = %s AND {qn('status')} = %s"
        f" AND ({qn('next_attempt_at')} IS NULL OR {qn('next_attempt_at')} <= %s)"
        " RETURNING *)"
        f" SELECT {_C_OP.sql}, {_C_SVC.sql}, {_C_TARIFF.sql}, {_C_TYPE.sql}, {_C_INSTANCE.sql}"
        f" FROM c JOIN {rows.table(Service, conn)} s"
        f" ON s.{qn('id')} = c.{col(ServiceOperation, 'service')}"
        f" JOIN {rows.table(Tariff, conn)} t ON t.{qn('id')} = s.{col(Service, 'tariff')}"
        f" JOIN {rows.table(ProductType, conn)} pt"
        f" ON pt.{qn('id')} = t.{col(Tariff, 'product_type')}"
        f" LEFT JOIN {rows.table(ModuleInstance, conn)} mi ON mi.{qn('id')} = COALESCE("
        f"c.{col(ServiceOperation, 'module_instance')}, s.{col(Service, 'module_instance')})"
    )


def claim_operation(operation_id: int, moment: datetime) -> ServiceOperation | None:
    """PostgreSQL: queued (and due) -> running, attempts + 1, in one statement; the claimed row
    with its service, tariff, product type and module instance cached as ``select_related``
    leaves them, or None when it was not queued and due."""
    conn = rows.connection_for(ServiceOperation)
    with conn.cursor() as cursor:
        cursor.execute(claim_sql(conn), [OS.RUNNING, moment, operation_id, OS.QUEUED, moment])
        row = cursor.fetchone()
    return None if row is None else _claimed(row, conn)


def _claimed(row: tuple[Any, ...], conn: BaseDatabaseWrapper) -> ServiceOperation:
    op = _C_OP.load(row, 0, conn)
    at = len(_C_OP)
    svc = _C_SVC.load(row, at, conn)
    at += len(_C_SVC)
    tariff = _C_TARIFF.load(row, at, conn)
    at += len(_C_TARIFF)
    ptype = _C_TYPE.load(row, at, conn)
    at += len(_C_TYPE)
    instance = None if row[at] is None else _C_INSTANCE.load(row, at, conn)
    _cache(Tariff, "product_type", tariff, ptype)
    _cache(Service, "tariff", svc, tariff)
    if op.module_instance_id is not None:
        _cache(ServiceOperation, "module_instance", op, instance)
    elif svc.module_instance_id is not None:
        _cache(Service, "module_instance", svc, instance)
    _cache(ServiceOperation, "service", op, svc)
    return op


def _cache(model: type[Model], name: str, obj: Model, related: Model | None) -> None:
    """What ``select_related`` does: ``obj.<name>`` is ``related`` without a query."""
    fk = model._meta.get_field(name)
    assert isinstance(fk, ForeignKey)
    fk.set_cached_value(obj, related)


# --- succeed ----------------------------------------------------------------------------------

_SVC_COLUMNS = rows.Columns(Service, "s")
_OP_COLUMNS = rows.Columns(ServiceOperation, "o")


@rows.per_vendor
def succeed_sql(conn: BaseDatabaseWrapper) -> str:
    """Parameters: service id, succeeded, result, finished_at, operation id, the loaded status,
    attempts and started_at, open."""
    qn = conn.ops.quote_name
    svc, op = rows.table(Service, conn), rows.table(ServiceOperation, conn)
    task = rows.table(Task, conn)
    return (
        f"WITH s AS MATERIALIZED (SELECT * FROM {svc} WHERE {qn('id')} = %s FOR UPDATE)"  # noqa: S608
        f" UPDATE {op} AS o SET {qn('status')} = %s, {qn('result')} = %s,"
        f" {qn('finished_at')} = %s, {qn('error_code')} = '', {qn('error_message')} = '',"
        f" {qn('next_attempt_at')} = NULL"
        f" FROM s WHERE o.{qn('id')} = %s AND o.{qn('service_id')} = s.{qn('id')}"
        f" AND o.{qn('status')} = %s AND o.{qn('attempts')} = %s"
        f" AND o.{qn('started_at')} IS NOT DISTINCT FROM %s"
        f" RETURNING {_SVC_COLUMNS.sql}, {_OP_COLUMNS.sql},"
        f" EXISTS (SELECT 1 FROM {task} t WHERE t.{qn('operation_id')} = o.{qn('id')}"
        f" AND t.{qn('status')} = %s)"
    )


def succeed_if_unchanged(
    operation: ServiceOperation, result: dict[str, Any], moment: datetime
) -> tuple[Service, ServiceOperation, bool] | None:
    """PostgreSQL: lock ``operation``'s service and mark it succeeded if its status, attempts
    and started_at are still as loaded; the locked service, the updated operation and whether
    it has open tasks, or None having written nothing."""
    prep = _OP_COLUMNS.prep
    conn = rows.connection_for(ServiceOperation)
    params = [
        operation.service_id,
        OS.SUCCEEDED,
        prep("result", result, conn),
        prep("finished_at", moment, conn),
        operation.pk,
        operation.status,
        operation.attempts,
        prep("started_at", operation.started_at, conn),
        TaskStatus.OPEN,
    ]
    with conn.cursor() as cursor:
        cursor.execute(succeed_sql(conn), params)
        row = cursor.fetchone()
    if row is None:
        return None
    svc = _SVC_COLUMNS.load(row, 0, conn)
    op = _OP_COLUMNS.load(row, len(_SVC_COLUMNS), conn)
    return svc, op, bool(row[-1])


# --- paid-until -------------------------------------------------------------------------------


@rows.per_vendor
def set_paid_until_sql(conn: BaseDatabaseWrapper) -> str:
    """Parameters: paid_until, updated_at, the service ids (one array)."""
    qn = conn.ops.quote_name
    return (
        f"UPDATE {rows.table(Service, conn)} SET {qn('paid_until')} = %s,"  # noqa: S608
        f" {qn('updated_at')} = %s WHERE {qn('id')} = ANY(%s)"
    )


def set_paid_until(service_ids: list[int], paid_until: date, now: datetime) -> None:
    """Move ``paid_until`` of ``service_ids`` to one date: on PostgreSQL one UPDATE with the ids
    as one array parameter, elsewhere the ORM's ``IN`` list."""
    conn = rows.connection_for(Service)
    if conn.vendor != "postgresql":
        Service.objects.filter(pk__in=service_ids).update(paid_until=paid_until, updated_at=now)
        return
    prep = _SVC_COLUMNS.prep
    params = [prep("paid_until", paid_until, conn), prep("updated_at", now, conn), service_ids]
    with conn.cursor() as cursor:
        cursor.execute(set_paid_until_sql(conn), params)
