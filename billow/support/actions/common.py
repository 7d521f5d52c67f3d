"""What every ticket action shares: the ticket row lock, the audit row, SLA deadlines, the
staff access rule and the status move (checked against ``states.ALLOWED_TRANSITIONS``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from billow.core.actors import Actor
from billow.core.audit import audit_kwargs
from billow.support.errors import NotInDepartment, TicketNotFound, TicketStateError
from billow.support.models import Department, SlaTarget, Ticket, TicketEvent
from billow.support.sla import add_business_minutes, parse_business_hours
from billow.support.states import can_transition


def lock_ticket(ticket_id: int) -> Ticket:
    """The ticket row, locked for the rest of the transaction (``ticket_not_found``)."""
    found = Ticket.objects.select_for_update().filter(pk=ticket_id).first()
    if found is None:
        raise TicketNotFound(f"No ticket {ticket_id}", ticket_id=ticket_id)
    return found


def record(
    ticket: Ticket, type: str, actor: Actor | None, now: datetime, **data: Any
) -> TicketEvent:
    return TicketEvent.objects.create(ticket=ticket, **audit_kwargs(actor, type, data, now=now))


def move_status(ticket: Ticket, to: str) -> None:
    if not can_transition(ticket.status, to):
        raise TicketStateError(
            f"a ticket cannot go from {ticket.status} to {to}", current=ticket.status, to=to
        )
    ticket.status = to


def staff_may_work_on(user: Any, department: Department) -> bool:
    """Superusers work on every department; other staff on the departments they belong to."""
    if not getattr(user, "is_staff", False):
        return False
    if user.is_superuser:
        return True
    return department.members.filter(pk=user.pk).exists()


def check_staff(user: Any, department: Department) -> None:
    if not staff_may_work_on(user, department):
        raise NotInDepartment(
            f"{user} is not a member of {department}", department_id=department.pk
        )


def deadlines(
    department: Department, priority: str, since: datetime
) -> tuple[datetime | None, datetime | None]:
    """(first response due, resolution due) for a ticket that came in at ``since``."""
    target = (
        SlaTarget.objects.filter(department=department, priority=priority)
        .values("first_response_minutes", "resolution_minutes")
        .first()
    )
    if target is None:
        return None, None
    hours = parse_business_hours(department.timezone, department.business_hours)
    first = target["first_response_minutes"]
    resolution = target["resolution_minutes"]
    return (
        add_business_minutes(since, first, hours) if first else None,
        add_business_minutes(since, resolution, hours) if resolution else None,
    )


def stamp_deadlines(ticket: Ticket) -> list[str]:
    """Recompute the ticket's deadlines from when it was opened (after a move or a new
    priority); returns the fields changed."""
    first, resolution = deadlines(ticket.department, ticket.priority, ticket.created_at)
    ticket.first_response_due_at = first
    ticket.resolution_due_at = resolution
    return ["first_response_due_at", "resolution_due_at"]


def actor_user_id(actor: Actor | None) -> int | None:
    """The Django user id behind a staff or client-user actor (None for system and tokens)."""
    if actor is None or not actor.id or actor.kind.value not in {"staff", "client_user"}:
        return None
    return int(actor.id)
