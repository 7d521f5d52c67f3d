"""Abuse tickets: suspend the reported service for abuse in one step (the services app does the
suspension; this records it on the ticket and tells the client with a staff reply)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction

from billow.core import clock
from billow.core.actors import Actor
from billow.services.actions import request_operation
from billow.services.models import Service
from billow.services.states import ServiceStatus
from billow.support.actions.common import check_staff, lock_ticket, record
from billow.support.actions.tickets import post_staff_reply
from billow.support.errors import SupportValidationError
from billow.support.models import Ticket


def suspend_service_for_abuse(
    *, ticket: Ticket, service_id: int, user: Any, message: str = "", now: datetime | None = None
) -> Ticket:
    """Queue the suspension of one of the ticket's client's services with status
    ``suspended_abuse`` (keyed ``abuse:<ticket>:<service>``: a repeat queues nothing new),
    mark the ticket an abuse report and, with ``message``, answer the client in the same
    transaction. Refusals: ``service_not_found`` (not the client's), the services app's."""
    moment = clock.now(now)
    actor = Actor.staff(user)
    with transaction.atomic():
        locked = lock_ticket(ticket.pk)
        check_staff(user, locked.department)
        service = (
            Service.objects.select_for_update()
            .filter(pk=service_id, client_id=locked.client_id)
            .first()
            if locked.client_id
            else None
        )
        if service is None:
            raise SupportValidationError(
                f"no service {service_id} of this ticket's client", code="service_not_found"
            )
        operation = request_operation(
            service=service,
            operation="suspend",
            payload={"target_status": ServiceStatus.SUSPENDED_ABUSE, "ticket_id": locked.pk},
            actor=actor,
            key=f"abuse:{locked.pk}:{service.pk}",
            now=moment,
        )
        locked.is_abuse = True
        locked.save(update_fields=["is_abuse"])
        record(
            locked,
            "ticket.service_suspended_for_abuse",
            actor,
            moment,
            service_id=service.pk,
            operation_id=operation.pk,
        )
        if message.strip():
            post_staff_reply(ticket=locked, user=user, body=message, now=moment)
    ticket.is_abuse = True
    return locked
