"""Staff workflow on a ticket: assign, move between departments, change the priority, merge,
close and reopen, and the client's rating after close (reference §1.19: staff assign the ticket
to themselves before closing it)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction

from billow.core import clock
from billow.core.actors import Actor
from billow.support.actions.common import (
    check_staff,
    lock_ticket,
    move_status,
    record,
    stamp_deadlines,
)
from billow.support.errors import SupportValidationError, TicketStateError
from billow.support.models import Department, Ticket, TicketMessage
from billow.support.states import Priority, TicketStatus

T = TicketStatus


def assign_ticket(
    *, ticket: Ticket, user: Any, assignee: Any | None, now: datetime | None = None
) -> Ticket:
    """Assign to ``assignee`` (a staff member of the department) or to nobody."""
    moment = clock.now(now)
    with transaction.atomic():
        locked = lock_ticket(ticket.pk)
        check_staff(user, locked.department)
        if assignee is not None:
            check_staff(assignee, locked.department)
        before = locked.assignee_id
        locked.assignee_id = assignee.pk if assignee is not None else None
        locked.updated_at = moment
        locked.save(update_fields=["assignee", "updated_at"])
        record(
            locked,
            "ticket.assigned",
            Actor.staff(user),
            moment,
            **{"from": before, "to": locked.assignee_id},
        )
    ticket.assignee_id = locked.assignee_id
    return locked


def move_ticket(
    *, ticket: Ticket, user: Any, department: Department, now: datetime | None = None
) -> Ticket:
    """Move to another department (the mover must work in the current one). The assignee
    stays only if they work in the new one; the SLA deadlines follow the new department."""
    moment = clock.now(now)
    with transaction.atomic():
        locked = lock_ticket(ticket.pk)
        check_staff(user, locked.department)
        before = locked.department_id
        locked.department = department
        if locked.assignee is not None and not _works_in(locked.assignee, department):
            locked.assignee_id = department.default_assignee_id
        fields = stamp_deadlines(locked)
        locked.updated_at = moment
        locked.save(update_fields=["department", "assignee", "updated_at", *fields])
        record(
            locked,
            "ticket.moved",
            Actor.staff(user),
            moment,
            **{"from": before, "to": department.pk},
        )
    return locked


def _works_in(user: Any, department: Department) -> bool:
    return bool(user.is_superuser) or department.members.filter(pk=user.pk).exists()


def set_ticket_priority(
    *, ticket: Ticket, user: Any, priority: str, now: datetime | None = None
) -> Ticket:
    if priority not in Priority.values:
        raise SupportValidationError(f"unknown priority {priority!r}", code="invalid_priority")
    moment = clock.now(now)
    with transaction.atomic():
        locked = lock_ticket(ticket.pk)
        check_staff(user, locked.department)
        before = locked.priority
        locked.priority = priority
        fields = stamp_deadlines(locked)
        locked.updated_at = moment
        locked.save(update_fields=["priority", "updated_at", *fields])
        record(
            locked,
            "ticket.priority_set",
            Actor.staff(user),
            moment,
            **{"from": before, "to": priority},
        )
    return locked


def merge_tickets(
    *, source: Ticket, target: Ticket, user: Any, now: datetime | None = None
) -> Ticket:
    """Move every message of ``source`` into ``target`` and close ``source`` (``merged_into``).
    Both belong to the same requester (``merge_requester_differs``), neither is merged yet."""
    moment = clock.now(now)
    if source.pk == target.pk:
        raise SupportValidationError("a ticket cannot merge into itself", code="merge_same")
    actor = Actor.staff(user)
    with transaction.atomic():
        first, second = sorted([source.pk, target.pk])  # lock order: lower id first
        locked = {t.pk: t for t in (lock_ticket(first), lock_ticket(second))}
        src, dst = locked[source.pk], locked[target.pk]
        check_staff(user, src.department)
        check_staff(user, dst.department)
        if (src.client_id, src.client_id or src.requester_email) != (
            dst.client_id,
            dst.client_id or dst.requester_email,
        ):
            raise SupportValidationError(
                "tickets of different requesters cannot merge", code="merge_requester_differs"
            )
        if src.merged_into_id or dst.merged_into_id:
            raise TicketStateError("a merged ticket cannot merge again", code="already_merged")
        moved = TicketMessage.objects.filter(ticket=src).update(ticket=dst)
        waits = [w for w in (src.waiting_since, dst.waiting_since) if w]
        if src.status != T.CLOSED:
            move_status(src, T.CLOSED)
            src.closed_at = moment
        src.merged_into = dst
        src.waiting_since = None
        src.updated_at = moment
        src.save(
            update_fields=["status", "closed_at", "merged_into", "waiting_since", "updated_at"]
        )
        if dst.status == T.CLOSED:
            move_status(dst, T.OPEN)
            dst.closed_at = None
        dst.waiting_since = min(waits) if waits else dst.waiting_since
        dst.updated_at = moment
        dst.save(update_fields=["status", "closed_at", "waiting_since", "updated_at"])
        record(src, "ticket.merged", actor, moment, into=dst.pk, messages=moved)
        record(dst, "ticket.merged_in", actor, moment, source=src.pk, messages=moved)
    return dst


def close_ticket(*, ticket: Ticket, actor: Actor, user: Any, now: datetime | None = None) -> Ticket:
    """Close. Staff must have the ticket assigned to themselves first
    (``assign_before_closing``); the client closes their own at any time."""
    moment = clock.now(now)
    with transaction.atomic():
        locked = lock_ticket(ticket.pk)
        if actor.kind.value == "staff":
            check_staff(user, locked.department)
            if locked.assignee_id != user.pk:
                raise TicketStateError(
                    "assign the ticket to yourself before closing it", code="assign_before_closing"
                )
        if locked.status == T.CLOSED:
            return locked
        move_status(locked, T.CLOSED)
        locked.closed_at = moment
        locked.waiting_since = None
        locked.updated_at = moment
        locked.save(update_fields=["status", "closed_at", "waiting_since", "updated_at"])
        record(locked, "ticket.closed", actor, moment)
    ticket.status, ticket.closed_at = locked.status, locked.closed_at
    return locked


def reopen_ticket(
    *, ticket: Ticket, actor: Actor, user: Any, now: datetime | None = None
) -> Ticket:
    """Reopen a closed ticket (not a merged one): it waits for staff again; a rating given
    for the closed ticket is dropped."""
    moment = clock.now(now)
    with transaction.atomic():
        locked = lock_ticket(ticket.pk)
        if actor.kind.value == "staff":
            check_staff(user, locked.department)
        if locked.merged_into_id:
            raise TicketStateError("a merged ticket stays closed", code="already_merged")
        move_status(locked, T.OPEN)
        locked.closed_at = None
        locked.rating, locked.rating_comment = None, ""
        locked.waiting_since = moment
        locked.updated_at = moment
        locked.save(
            update_fields=[
                "status",
                "closed_at",
                "rating",
                "rating_comment",
                "waiting_since",
                "updated_at",
            ]
        )
        record(locked, "ticket.reopened", actor, moment)
    ticket.status, ticket.closed_at = locked.status, locked.closed_at
    return locked


def rate_ticket(
    *, ticket: Ticket, rating: int, comment: str = "", actor: Actor, now: datetime | None = None
) -> Ticket:
    """The client rates a closed ticket 1-5 (``ticket_not_closed``, ``invalid_rating``); a
    second rating replaces the first."""
    moment = clock.now(now)
    if type(rating) is not int or not 1 <= rating <= 5:
        raise SupportValidationError("the rating is 1 to 5", code="invalid_rating")
    with transaction.atomic():
        locked = lock_ticket(ticket.pk)
        if locked.status != T.CLOSED:
            raise TicketStateError("only a closed ticket is rated", code="ticket_not_closed")
        locked.rating, locked.rating_comment = rating, comment.strip()[:2000]
        locked.save(update_fields=["rating", "rating_comment"])
        record(locked, "ticket.rated", actor, moment, rating=rating)
    ticket.rating, ticket.rating_comment = locked.rating, locked.rating_comment
    return locked
