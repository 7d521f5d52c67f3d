"""Service statuses and the one table of allowed transitions (STYLE §6).

Statuses follow BILLmanager (reference §1.10): ordered, in progress (with a sub-state naming the
operation that runs), active, five kinds of suspended, configuration required, not available,
deleted; plus ``failed``: an operation failed for good and a staff Task is open.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models
from django.utils.translation import gettext_lazy as _


class ServiceStatus(models.TextChoices):
    ORDERED = "ordered", _("Ordered")
    IN_PROGRESS = "in_progress", _("In progress")
    ACTIVE = "active", _("Active")
    SUSPENDED_BY_CLIENT = "suspended_client", _("Suspended by client")
    SUSPENDED_BY_STAFF = "suspended_staff", _("Suspended by administrator")
    SUSPENDED_NONPAYMENT = "suspended_nonpayment", _("Suspended for non-payment")
    SUSPENDED_ABUSE = "suspended_abuse", _("Suspended for abuse")
    SUSPENDED_OVER_LIMIT = "suspended_over_limit", _("Suspended: over the resource limit")
    CONFIGURATION_REQUIRED = "configuration_required", _("Configuration required")
    NOT_AVAILABLE = "not_available", _("Not available")
    FAILED = "failed", _("Operation failed")
    DELETED = "deleted", _("Deleted")


class SubState(models.TextChoices):
    """What an in-progress service is doing (blank when not in progress)."""

    NONE = "", _("—")
    OPEN = "open", _("Opening")
    SUSPEND = "suspend", _("Suspending")
    RESUME = "resume", _("Resuming")
    RENEW = "renew", _("Renewing")
    SET_PARAM = "set_param", _("Changing parameters")
    DELETE = "delete", _("Deleting")


S = ServiceStatus
SUSPENDED = frozenset(
    {
        S.SUSPENDED_BY_CLIENT,
        S.SUSPENDED_BY_STAFF,
        S.SUSPENDED_NONPAYMENT,
        S.SUSPENDED_ABUSE,
        S.SUSPENDED_OVER_LIMIT,
    }
)
#: Suspensions Billow made by itself; only these are auto-deleted by default.
AUTO_SUSPENDED = frozenset({S.SUSPENDED_NONPAYMENT, S.SUSPENDED_OVER_LIMIT})
TERMINAL = frozenset({S.DELETED})
#: Statuses in which the service costs money and is renewed by the billing run.
BILLABLE = frozenset({S.ACTIVE, *SUSPENDED, S.IN_PROGRESS, S.FAILED})

# In progress may fall back to ordered / configuration required when staff cancel the opening
# (a manual Task cancelled). Active and suspended may go straight to failed because the billing
# run queues operations without moving the service to in progress first.
ALLOWED_TRANSITIONS: dict[str, frozenset[str]] = {
    S.ORDERED: frozenset({S.IN_PROGRESS, S.CONFIGURATION_REQUIRED, S.NOT_AVAILABLE, S.DELETED}),
    S.CONFIGURATION_REQUIRED: frozenset({S.IN_PROGRESS, S.DELETED}),
    S.NOT_AVAILABLE: frozenset({S.IN_PROGRESS, S.DELETED}),
    S.IN_PROGRESS: frozenset(
        {
            S.ACTIVE,
            *SUSPENDED,
            S.FAILED,
            S.NOT_AVAILABLE,
            S.DELETED,
            S.ORDERED,
            S.CONFIGURATION_REQUIRED,
        }
    ),
    S.ACTIVE: frozenset({S.IN_PROGRESS, *SUSPENDED, S.FAILED}),
    **{s: frozenset({S.IN_PROGRESS, *(SUSPENDED - {s}), S.ACTIVE, S.FAILED}) for s in SUSPENDED},
    S.FAILED: frozenset({S.IN_PROGRESS, S.ACTIVE, *SUSPENDED, S.DELETED}),
    S.DELETED: frozenset(),
}


def can_transition(current: str, new: str) -> bool:
    return new in ALLOWED_TRANSITIONS.get(current, frozenset())


class Operation(models.TextChoices):
    """The lifecycle operations of DESIGN §4 that change a service's status."""

    OPEN = "open", _("Open")
    SUSPEND = "suspend", _("Suspend")
    RESUME = "resume", _("Resume")
    CLOSE = "close", _("Close (delete)")
    SET_PARAM = "set_param", _("Change parameters")
    PROLONG = "prolong", _("Prolong")


@dataclass(frozen=True, slots=True)
class OperationRule:
    """From which statuses an operation may be requested, the sub-state shown while it runs and
    the status it leaves on success (None: the suspend target, or back where it came from)."""

    sub_state: str
    from_statuses: frozenset[str]
    success_status: str | None


_NOT_DELETED = frozenset(ALLOWED_TRANSITIONS) - TERMINAL - {S.IN_PROGRESS}
OPERATION_RULES: dict[str, OperationRule] = {
    Operation.OPEN: OperationRule(
        SubState.OPEN,
        frozenset({S.ORDERED, S.CONFIGURATION_REQUIRED, S.NOT_AVAILABLE, S.FAILED}),
        S.ACTIVE,
    ),
    Operation.SUSPEND: OperationRule(
        SubState.SUSPEND, frozenset({S.ACTIVE, *SUSPENDED, S.FAILED}), None
    ),
    Operation.RESUME: OperationRule(SubState.RESUME, frozenset({*SUSPENDED, S.FAILED}), S.ACTIVE),
    Operation.CLOSE: OperationRule(SubState.DELETE, _NOT_DELETED, S.DELETED),
    Operation.SET_PARAM: OperationRule(
        SubState.SET_PARAM, frozenset({S.ACTIVE, S.FAILED}), S.ACTIVE
    ),
    Operation.PROLONG: OperationRule(SubState.RENEW, frozenset({S.ACTIVE, *SUSPENDED}), None),
}
#: Per-type actions (reboot, start ...) run only on active services and change no status.
CUSTOM_ACTION_FROM = frozenset({S.ACTIVE})
#: Per-type actions that may also run outside active (the rest: ``CUSTOM_ACTION_FROM``).
CUSTOM_ACTION_RULES: dict[str, frozenset[str]] = {
    "set_note": frozenset({S.ACTIVE, *SUSPENDED, S.FAILED}),
    "recreate": frozenset({S.ACTIVE, S.FAILED}),
}
#: Failure codes of per-type actions the requester must fix (no staff Task is opened).
REQUESTER_FAILURE_CODES = frozenset(
    {
        "guest_agent_not_configured",
        "guest_agent_unavailable",
        "guest_agent_unsupported",
        "vm_not_running",
    }
)
#: Per-type actions whose success reports the (new) external id of the service's object.
EXTERNAL_ID_ACTIONS = frozenset({"recreate", "link"})
