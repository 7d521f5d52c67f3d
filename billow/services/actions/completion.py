"""``complete_operation``'s fast path: lock the service and mark the operation succeeded in one
PostgreSQL statement when the operation row is still as the caller loaded it (the job that just
ran it). ``outcomes.complete_operation`` falls back to its usual lock-and-check otherwise."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from billow.core import rows
from billow.services import sql
from billow.services.models import Service, ServiceOperation

# The row of ``operation`` as the caller loaded it: whoever changes it in between changes one of
# these (a claim bumps attempts and started_at; fail, cancel, retry, park, requeue the status).
_AS_LOADED = ("status", "attempts", "started_at")


def succeed_unchanged(
    operation: ServiceOperation, result: dict[str, Any], moment: datetime
) -> tuple[Service, ServiceOperation, bool] | None:
    """PostgreSQL, and ``operation`` is still as loaded (the caller checked it is not finished):
    ``_lock`` and the
    ``succeeded`` UPDATE of ``complete_operation`` in one statement (the service's row is locked
    first, as everywhere; ``sql.succeed_if_unchanged``). Returns the locked service, the updated
    operation and whether the operation has open tasks; None, having written nothing, when the
    row changed since it was loaded or on another database (the caller then locks and checks as
    usual).

    The open tasks are read in the same statement: tasks are opened under the service's lock
    (``_open_task``) either by ``fail_operation`` (which changes the operation's status, so this
    statement does not match) or by the module while it runs the operation (before its outcome
    is applied here), so none can be opened unseen while this statement waits for the lock.
    """
    if (
        rows.connection_for(ServiceOperation).vendor != "postgresql"
        or any(name not in operation.__dict__ for name in _AS_LOADED)  # deferred
    ):
        return None
    return sql.succeed_if_unchanged(operation, result, moment)
