"""Service writes (STYLE §1), one module per concern, the public actions re-exported here:

- ``lifecycle``: the one transition helper, module operations and their outcomes;
- ``ordering``: ``create_service`` (validated against the tariff, nothing charged);
- ``staff_tasks``: the "do it by hand" task of an operation, staff completing or dropping one;
- ``settings``: module instances, deleting a service, auto-renewal.

Every write runs in a transaction and writes a ``ServiceEvent`` in it; anything that leaves the
database (enqueueing jobs, notifying staff) runs after commit. Refusals raise ``BillowError``
subclasses with stable codes (``errors.py``) and change nothing. Row locks are taken in a fixed
order: service, then operation, then task.
"""

from billow.services.actions.lifecycle import (
    BUSY,
    FINISHED,
    cancel_operation,
    complete_operation,
    dispatch_operations,
    fail_operation,
    record_event,
    request_operation,
    retry_operation,
    transition_service,
)
from billow.services.actions.ordering import create_service
from billow.services.actions.settings import (
    client_may_suspend,
    configure_module_instance,
    create_module_instance,
    delete_service,
    resume_by_client,
    set_service_auto_renew,
    suspend_by_client,
)
from billow.services.actions.staff_tasks import cancel_task, complete_task, ensure_operation_task

__all__ = [
    "BUSY",
    "FINISHED",
    "cancel_operation",
    "cancel_task",
    "client_may_suspend",
    "complete_operation",
    "complete_task",
    "configure_module_instance",
    "create_module_instance",
    "create_service",
    "delete_service",
    "dispatch_operations",
    "ensure_operation_task",
    "fail_operation",
    "record_event",
    "request_operation",
    "resume_by_client",
    "retry_operation",
    "set_service_auto_renew",
    "suspend_by_client",
    "transition_service",
]
