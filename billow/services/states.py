"""Service statuses and the one table of allowed transitions (STYLE §6).

Statuses follow BILLmanager (reference §1.10): ordered, in progress (with a sub-state naming the
operation that runs), active, five kinds of suspended, configuration required, not available,
deleted; plus ``failed``: an operation failed for good and a staff Task is open.
"""

from __future__ import annotations

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

ALLOWED_TRANSITIONS: dict[str, frozenset[str]] = {
    S.ORDERED: frozenset({S.IN_PROGRESS, S.CONFIGURATION_REQUIRED, S.NOT_AVAILABLE, S.DELETED}),
    S.CONFIGURATION_REQUIRED: frozenset({S.IN_PROGRESS, S.DELETED}),
    S.NOT_AVAILABLE: frozenset({S.IN_PROGRESS, S.DELETED}),
    S.IN_PROGRESS: frozenset({S.ACTIVE, *SUSPENDED, S.FAILED, S.NOT_AVAILABLE, S.DELETED}),
    S.ACTIVE: frozenset({S.IN_PROGRESS, *SUSPENDED}),
    **{s: frozenset({S.IN_PROGRESS, *(SUSPENDED - {s}), S.ACTIVE}) for s in SUSPENDED},
    S.FAILED: frozenset({S.IN_PROGRESS, S.ACTIVE, *SUSPENDED, S.DELETED}),
    S.DELETED: frozenset(),
}


def can_transition(current: str, new: str) -> bool:
    return new in ALLOWED_TRANSITIONS.get(current, frozenset())
