"""Ticket statuses, priorities and who sees which label (reference §1.19).

One status column; the client and staff read it differently:

========== ===================== =====================
status     client sees           staff see
========== ===================== =====================
new        New                   New (waits for staff)
open       In progress           In progress (waits for staff)
answered   Answered              Awaiting client
closed     Closed                Archived
========== ===================== =====================
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class TicketStatus(models.TextChoices):
    NEW = "new", _("New")
    OPEN = "open", _("In progress")
    ANSWERED = "answered", _("Answered")
    CLOSED = "closed", _("Closed")


class Priority(models.TextChoices):
    LOW = "low", _("Low")
    NORMAL = "normal", _("Normal")
    HIGH = "high", _("High")
    URGENT = "urgent", _("Urgent")


T = TicketStatus
CLIENT_LABELS = {
    T.NEW: _("New"),
    T.OPEN: _("In progress"),
    T.ANSWERED: _("Answered"),
    T.CLOSED: _("Closed"),
}
STAFF_LABELS = {
    T.NEW: _("New"),
    T.OPEN: _("In progress"),
    T.ANSWERED: _("Awaiting client"),
    T.CLOSED: _("Archived"),
}
#: Statuses in which the ticket waits for staff.
WAITING_FOR_STAFF = frozenset({T.NEW, T.OPEN})

#: A staff reply answers; a client message reopens; closing is allowed from any open state.
ALLOWED_TRANSITIONS: dict[str, frozenset[str]] = {
    T.NEW: frozenset({T.OPEN, T.ANSWERED, T.CLOSED}),
    T.OPEN: frozenset({T.ANSWERED, T.CLOSED}),
    T.ANSWERED: frozenset({T.OPEN, T.CLOSED}),
    T.CLOSED: frozenset({T.OPEN}),
}


def can_transition(current: str, new: str) -> bool:
    return current == new or new in ALLOWED_TRANSITIONS.get(current, frozenset())


def client_label(status: str) -> str:
    return str(CLIENT_LABELS.get(status, status))  # type: ignore[call-overload]


def staff_label(status: str) -> str:
    return str(STAFF_LABELS.get(status, status))  # type: ignore[call-overload]
