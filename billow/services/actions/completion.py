"""``complete_operation``'s fast path: lock the service and mark the operation succeeded in one
PostgreSQL statement when the operation row is still as the caller loaded it (the job that just
ran it). ``lifecycle.complete_operation`` falls back to its usual lock-and-check otherwise."""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any

from django.db import connection

from billow.core.rows import Columns
from billow.services.models import OperationStatus as OS
from billow.services.models import Service, ServiceOperation, Task, TaskStatus

# The row of ``operation`` as the caller loaded it: whoever changes it in between changes one of
# these (a claim bumps attempts and started_at; fail, cancel, retry, park, requeue the status).
_AS_LOADED = ("status", "attempts", "started_at")
_SVC_COLUMNS = Columns(Service, "s")
_OP_COLUMNS = Columns(ServiceOperation, "o")


def succeed_unchanged(
    operation: ServiceOperation, result: dict[str, Any], moment: datetime
) -> tuple[Service, ServiceOperation, bool] | None:
    """PostgreSQL, and ``operation`` is still as loaded (the caller checked it is not finished):
    ``_lock`` and the
    ``succeeded`` UPDATE of ``complete_operation`` in one statement (the service's row is locked
    first, as everywhere). Returns the locked service, the updated operation and whether the
    operation has open tasks; None, having written nothing, when the row changed since it was
    loaded or on another database (the caller then locks and checks as usual).

    The open tasks are read in the same statement: tasks are opened under the service's lock
    (``_open_task``) either by ``fail_operation`` (which changes the operation's status, so this
    statement does not match) or by the module while it runs the operation (before its outcome
    is applied here), so none can be opened unseen while this statement waits for the lock.
    """
    if (
        connection.vendor != "postgresql"
        or any(name not in operation.__dict__ for name in _AS_LOADED)  # deferred
    ):
        return None
    prep = _OP_COLUMNS.prep
    params = [
        operation.service_id,
        OS.SUCCEEDED,
        prep("result", result),
        prep("finished_at", moment),
        operation.pk,
        operation.status,
        operation.attempts,
        prep("started_at", operation.started_at),
        TaskStatus.OPEN,
    ]
    with connection.cursor() as cursor:
        cursor.execute(_succeed_sql(), params)
        row = cursor.fetchone()
    if row is None:
        return None
    svc = _SVC_COLUMNS.load(row)
    op = _OP_COLUMNS.load(row, len(_SVC_COLUMNS))
    return svc, op, bool(row[-1])


@functools.cache
def _succeed_sql() -> str:
    qn = connection.ops.quote_name
    svc, op = qn(Service._meta.db_table), qn(ServiceOperation._meta.db_table)
    task = qn(Task._meta.db_table)
    # Table and column names come from the models, never from input (hence the noqa).
    return (
        f"WITH s AS MATERIALIZED (SELECT * FROM {svc} WHERE id = %s FOR UPDATE)"  # noqa: S608
        f" UPDATE {op} AS o SET status = %s, result = %s, finished_at = %s, error_code = '',"
        " error_message = '', next_attempt_at = NULL"
        " FROM s WHERE o.id = %s AND o.service_id = s.id"
        " AND o.status = %s AND o.attempts = %s AND o.started_at IS NOT DISTINCT FROM %s"
        f" RETURNING {_SVC_COLUMNS.sql}, {_OP_COLUMNS.sql},"
        f" EXISTS (SELECT 1 FROM {task} t WHERE t.operation_id = o.id AND t.status = %s)"
    )
