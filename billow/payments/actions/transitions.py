"""The one status change of a payment and its audit event, shared by every payment action.

A status moves only through :func:`transition_payment` (checked against ``states``, stamped,
saved, audited) or, for the ``new`` -> started claim that must win a race, through
:func:`claim_new_payment`'s conditional UPDATE.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction

from billow.core import clock
from billow.core.actors import Actor
from billow.core.audit import audit_kwargs
from billow.payments.errors import PaymentConflictError
from billow.payments.models import Payment, PaymentEvent
from billow.payments.states import PaymentStatus, can_transition

S = PaymentStatus


def claim_new_payment(
    payment: Payment, target: str, actor: Actor | None, now: datetime | None, event: str
) -> bool:
    """Move ``new`` -> ``target`` with a conditional UPDATE; False if it was not new."""
    moment = clock.now(now)
    with transaction.atomic():
        moved = Payment.objects.filter(pk=payment.pk, status=S.NEW).update(
            status=target, updated_at=moment
        )
        if moved:
            record_payment_event(payment, actor, event, moment)
    if moved:
        payment.status, payment.updated_at = target, moment
    return bool(moved)


def transition_payment(
    payment: Payment, target: str, actor: Actor | None, moment: datetime, **data: Any
) -> None:
    """The one status change: checked against the table, stamped, saved, audited."""
    if not can_transition(payment.status, target):
        raise PaymentConflictError(
            f"a {payment.status} payment cannot become {target}",
            code="invalid_payment_transition",
            status=payment.status,
            target=target,
        )
    previous = payment.status
    payment.status, payment.updated_at = target, moment
    payment.save(update_fields=["status", "updated_at"])
    record_payment_event(payment, actor, f"payment.{target}", moment, previous=previous, **data)


def record_payment_event(
    payment: Payment, actor: Actor | None, type_: str, moment: datetime, **data: Any
) -> None:
    PaymentEvent.objects.create(payment=payment, **audit_kwargs(actor, type_, data, now=moment))
