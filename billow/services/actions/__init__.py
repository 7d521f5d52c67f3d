"""Service writes (STYLE §1), one module per concern, the public actions re-exported here:

- ``transitions``: the one transition helper (``transition_service``) and ``record_event``;
- ``requests``: requesting module operations and dispatching their jobs;
- ``outcomes``: operations succeeded, failed, cancelled, retried, and their staff tasks;
- ``ordering``: ``create_service`` (validated against the tariff, nothing charged);
- ``imports``: services brought over from another billing system, in bulk (``billow import``);
- ``staff_ops``: staff operations that move no money (create by hand, paid-until, special
  price, plan change without charge, suspend / resume by staff, re-run, attach), each writing a
  ``staff.<operation>`` event with actor and reason (billing's ``staff_ops`` adds the charged
  ones);
- ``service_tasks``: staff Tasks about a service no operation waits on (procurement ...);
- ``staff_tasks``: the "do it by hand" task of an operation, staff completing or dropping one;
- ``settings``: module instances, auto-renewal, suspension by the client, and
  ``close_service``: the state part of deleting a service (the one delete action is
  ``billow.billing.actions.delete_service``: deletion policy and refund);
- ``state``: the set-based state API other apps call (transitions checked against the one
  table, paid-until dates, renewals' ``prolong``, plan changes, events) -- nothing outside
  this app writes a ``Service``, ``ServiceEvent`` or ``ServiceOperation`` row.

Every write runs in a transaction and writes a ``ServiceEvent`` in it; anything that leaves the
database (enqueueing jobs, alerting staff through ``services.signals``) runs after commit.
Refusals raise ``BillowError`` subclasses with stable codes (``errors.py``) and change nothing.
Row locks are taken in a fixed order: service, then operation, then task.
"""

from billow.services.actions.imports import (
    IMPORTABLE_STATUSES,
    ImportedService,
    check_import_offer,
    check_import_values,
    check_imported_service,
    check_reimport_status,
    import_services,
    update_imported_services,
)
from billow.services.actions.ordering import create_service
from billow.services.actions.outcomes import (
    FINISHED,
    cancel_operation,
    complete_operation,
    fail_operation,
    retry_operation,
)
from billow.services.actions.requests import BUSY, dispatch_operations, request_operation
from billow.services.actions.secrets_once import take_open_secret
from billow.services.actions.service_tasks import (
    TaskOwnedElsewhere,
    open_service_task,
    register_task_owner,
    task_owner_page,
)
from billow.services.actions.settings import (
    client_may_suspend,
    close_service,
    configure_module_instance,
    create_module_instance,
    resume_by_client,
    set_service_auto_renew,
    suspend_by_client,
)
from billow.services.actions.staff_ops import (
    STAFF_EVENT,
    STAFF_SUSPEND_STATUSES,
    NewService,
    attach_remote_object,
    change_plan_by_staff,
    check_reason,
    create_service_by_staff,
    lock_staff_service,
    record_staff_event,
    rerun_failed_operation,
    resume_service_by_staff,
    set_service_paid_until_by_staff,
    set_service_special_price,
    suspend_service_by_staff,
)
from billow.services.actions.staff_tasks import (
    cancel_task,
    complete_task,
    ensure_operation_task,
    open_staff_task,
)
from billow.services.actions.state import (
    EventRecord,
    Move,
    PlanChange,
    Renewal,
    Transition,
    TrialConversion,
    apply_scheduled_plan_changes,
    apply_transitions,
    change_plan,
    convert_trials,
    operation_for,
    record_events,
    request_prolongs,
    schedule_deletion,
    set_first_paid_period,
    set_paid_until,
    set_paid_until_at,
    set_parameters,
)
from billow.services.actions.transitions import record_event, transition_service

__all__ = [
    "BUSY",
    "FINISHED",
    "IMPORTABLE_STATUSES",
    "STAFF_EVENT",
    "STAFF_SUSPEND_STATUSES",
    "EventRecord",
    "ImportedService",
    "Move",
    "NewService",
    "PlanChange",
    "Renewal",
    "TaskOwnedElsewhere",
    "Transition",
    "TrialConversion",
    "apply_scheduled_plan_changes",
    "apply_transitions",
    "attach_remote_object",
    "cancel_operation",
    "cancel_task",
    "change_plan",
    "change_plan_by_staff",
    "check_import_offer",
    "check_import_values",
    "check_imported_service",
    "check_reason",
    "check_reimport_status",
    "client_may_suspend",
    "close_service",
    "complete_operation",
    "complete_task",
    "configure_module_instance",
    "convert_trials",
    "create_module_instance",
    "create_service",
    "create_service_by_staff",
    "dispatch_operations",
    "ensure_operation_task",
    "fail_operation",
    "import_services",
    "lock_staff_service",
    "open_service_task",
    "open_staff_task",
    "operation_for",
    "record_event",
    "record_events",
    "record_staff_event",
    "register_task_owner",
    "request_operation",
    "request_prolongs",
    "rerun_failed_operation",
    "resume_by_client",
    "resume_service_by_staff",
    "retry_operation",
    "schedule_deletion",
    "set_first_paid_period",
    "set_paid_until",
    "set_paid_until_at",
    "set_parameters",
    "set_service_auto_renew",
    "set_service_paid_until_by_staff",
    "set_service_special_price",
    "suspend_by_client",
    "suspend_service_by_staff",
    "take_open_secret",
    "task_owner_page",
    "transition_service",
    "update_imported_services",
]
