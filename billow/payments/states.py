"""Payment statuses and the one table of allowed moves (STYLE §6).

``unknown`` means "we asked the gateway and got no answer" (timeout): the janitor asks again.
``failed`` / ``cancelled`` may still become ``paid``: money that arrives late is credited, never
lost. ``paid`` is final (refunds are separate rows).
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class PaymentStatus(models.TextChoices):
    NEW = "new", _("New")
    PENDING = "pending", _("Pending")
    PAID = "paid", _("Paid")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")
    UNKNOWN = "unknown", _("Unknown")


S = PaymentStatus

ALLOWED_TRANSITIONS: dict[str, frozenset[str]] = {
    S.NEW: frozenset({S.PENDING, S.PAID, S.FAILED, S.CANCELLED, S.UNKNOWN}),
    S.PENDING: frozenset({S.PAID, S.FAILED, S.CANCELLED, S.UNKNOWN}),
    S.UNKNOWN: frozenset({S.PENDING, S.PAID, S.FAILED, S.CANCELLED}),
    S.FAILED: frozenset({S.PAID}),
    S.CANCELLED: frozenset({S.PAID}),
    S.PAID: frozenset(),
}

#: Statuses the janitor resolves by asking the gateway.
OPEN_STATUSES = frozenset({S.PENDING, S.UNKNOWN})


def can_transition(current: str, target: str) -> bool:
    return target in ALLOWED_TRANSITIONS.get(current, frozenset())
