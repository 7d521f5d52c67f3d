"""Opening tickets and the conversation: client messages, staff replies, internal notes.

Every action runs in one transaction, locks the ticket row, writes a ``TicketEvent`` and
queues the email to the other side (sent after commit). A refusal writes nothing: attachments
are checked before the first write.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.db import transaction

from billow.accounts.models import Client
from billow.core import clock
from billow.core.actors import Actor
from billow.support.actions.common import (
    actor_user_id,
    check_staff,
    deadlines,
    lock_ticket,
    move_status,
    record,
)
from billow.support.attachments import Upload, check_uploads, store_uploads
from billow.support.errors import SupportValidationError, TicketClosed
from billow.support.models import AuthorKind, Department, Source, Ticket, TicketMessage
from billow.support.notify import email_message_to_staff, email_reply_to_client
from billow.support.selectors import client_owns_service
from billow.support.states import Priority, TicketStatus

T = TicketStatus
MAX_BODY = 50_000


def _check_body(body: str) -> str:
    text = body.strip()
    if not text:
        raise SupportValidationError("a message needs text", code="empty_message")
    if len(text) > MAX_BODY:
        raise SupportValidationError("the message is too long", code="message_too_long")
    return text


def open_ticket(
    *,
    department: Department,
    subject: str,
    body: str,
    client: Client | None = None,
    requester_email: str = "",
    priority: str = Priority.NORMAL,
    service_id: int | None = None,
    uploads: Sequence[Upload] = (),
    source: str = Source.WEB,
    email_message_id: str = "",
    author_name: str = "",
    actor: Actor | None = None,
    now: datetime | None = None,
) -> Ticket:
    """Open a ticket with its first message. A client's ticket needs a public department
    (``department_not_public``; staff and mail open tickets anywhere) and, with a
    ``service_id``, one of the client's services (``service_not_found``). SLA deadlines come
    from the department's target for the priority, counted in its business hours."""
    moment = clock.now(now)
    text = _check_body(body)
    subject = " ".join(subject.split())[:300]
    if not subject:
        raise SupportValidationError("a ticket needs a subject", code="empty_subject")
    if priority not in Priority.values:
        raise SupportValidationError(f"unknown priority {priority!r}", code="invalid_priority")
    if client is None and not requester_email:
        raise SupportValidationError("a ticket needs a requester", code="no_requester")
    by_client = actor is not None and actor.kind.value in {"client_user", "api_token"}
    if by_client and not department.is_public:
        raise SupportValidationError(
            "this department does not take tickets", code="department_not_public"
        )
    if service_id is not None:
        _check_service(client, service_id)
    check_uploads(uploads)
    first_due, resolution_due = deadlines(department, priority, moment)
    with transaction.atomic():
        ticket = Ticket.objects.create(
            client=client,
            requester_email=requester_email,
            department=department,
            service_id=service_id,
            subject=subject,
            priority=priority,
            status=T.NEW,
            assignee_id=department.default_assignee_id,
            created_at=moment,
            updated_at=moment,
            waiting_since=moment,
            first_response_due_at=first_due,
            resolution_due_at=resolution_due,
        )
        message = _add_message(
            ticket,
            AuthorKind.CLIENT,
            text,
            actor=actor,
            name=author_name or (client.name if client else requester_email),
            source=source,
            email_message_id=email_message_id,
            uploads=uploads,
            moment=moment,
        )
        record(ticket, "ticket.opened", actor, moment, message_id=message.pk, source=source)
        email_message_to_staff(ticket, message)
    return ticket


def _check_service(client: Client | None, service_id: int) -> None:
    if client is None or not client_owns_service(client.pk, service_id):
        raise SupportValidationError(
            f"no service {service_id} on this account", code="service_not_found"
        )


def _add_message(
    ticket: Ticket,
    kind: str,
    text: str,
    *,
    actor: Actor | None,
    name: str,
    source: str,
    moment: datetime,
    internal: bool = False,
    email_message_id: str = "",
    uploads: Sequence[Upload] = (),
) -> TicketMessage:
    message = TicketMessage.objects.create(
        ticket=ticket,
        author_kind=kind,
        author_user_id=actor_user_id(actor),
        author_name=name[:200],
        body=text,
        is_internal=internal,
        source=source,
        email_message_id=email_message_id[:300],
        created_at=moment,
    )
    store_uploads(message, uploads)
    return message


def post_client_message(
    *,
    ticket: Ticket,
    body: str,
    uploads: Sequence[Upload] = (),
    source: str = Source.WEB,
    email_message_id: str = "",
    author_name: str = "",
    actor: Actor | None = None,
    now: datetime | None = None,
) -> TicketMessage:
    """The client (or the unknown sender, by email) writes. The ticket waits for staff again
    (``open``); a closed ticket is refused (``ticket_closed``: the client reopens it first)."""
    moment = clock.now(now)
    text = _check_body(body)
    check_uploads(uploads)
    with transaction.atomic():
        locked = lock_ticket(ticket.pk)
        if locked.status == T.CLOSED:
            raise TicketClosed("the ticket is closed", ticket_id=locked.pk)
        if locked.status != T.NEW:
            move_status(locked, T.OPEN)
        locked.waiting_since = locked.waiting_since or moment
        locked.updated_at = moment
        locked.save(update_fields=["status", "waiting_since", "updated_at"])
        client_name = locked.client.name if locked.client else locked.requester_email
        message = _add_message(
            locked,
            AuthorKind.CLIENT,
            text,
            actor=actor,
            name=author_name or client_name,
            source=source,
            moment=moment,
            email_message_id=email_message_id,
            uploads=uploads,
        )
        record(locked, "ticket.client_message", actor, moment, message_id=message.pk)
        email_message_to_staff(locked, message)
    _refresh(ticket, locked)
    return message


def post_staff_reply(
    *,
    ticket: Ticket,
    user: Any,
    body: str,
    uploads: Sequence[Upload] = (),
    source: str = Source.WEB,
    email_message_id: str = "",
    now: datetime | None = None,
) -> TicketMessage:
    """A staff member of the ticket's department answers: the ticket awaits the client
    (``answered``), the first response is stamped once, the client is emailed. Answering a
    closed ticket reopens it first. Nobody assigned yet: the one who answers takes it."""
    moment = clock.now(now)
    text = _check_body(body)
    check_uploads(uploads)
    actor = Actor.staff(user)
    with transaction.atomic():
        locked = lock_ticket(ticket.pk)
        check_staff(user, locked.department)
        if locked.status == T.CLOSED:
            move_status(locked, T.OPEN)
            locked.closed_at = None
        move_status(locked, T.ANSWERED)
        locked.first_response_at = locked.first_response_at or moment
        locked.waiting_since = None
        locked.updated_at = moment
        locked.assignee_id = locked.assignee_id or user.pk
        locked.save(
            update_fields=[
                "status",
                "closed_at",
                "first_response_at",
                "waiting_since",
                "updated_at",
                "assignee",
            ]
        )
        message = _add_message(
            locked,
            AuthorKind.STAFF,
            text,
            actor=actor,
            name=user.get_full_name() or user.get_username(),
            source=source,
            moment=moment,
            email_message_id=email_message_id,
            uploads=uploads,
        )
        record(locked, "ticket.staff_reply", actor, moment, message_id=message.pk)
        email_reply_to_client(locked, message)
    _refresh(ticket, locked)
    return message


def add_internal_note(
    *,
    ticket: Ticket,
    user: Any,
    body: str,
    uploads: Sequence[Upload] = (),
    now: datetime | None = None,
) -> TicketMessage:
    """A note only staff see; the status, timers and the client are left alone."""
    moment = clock.now(now)
    text = _check_body(body)
    check_uploads(uploads)
    actor = Actor.staff(user)
    with transaction.atomic():
        locked = lock_ticket(ticket.pk)
        check_staff(user, locked.department)
        message = _add_message(
            locked,
            AuthorKind.STAFF,
            text,
            actor=actor,
            name=user.get_full_name() or user.get_username(),
            source=Source.WEB,
            moment=moment,
            internal=True,
            uploads=uploads,
        )
        record(locked, "ticket.note", actor, moment, message_id=message.pk)
    return message


def _refresh(ticket: Ticket, locked: Ticket) -> None:
    """The caller's instance shows what was saved."""
    for field in (
        "status",
        "waiting_since",
        "updated_at",
        "first_response_at",
        "closed_at",
        "assignee_id",
    ):
        setattr(ticket, field, getattr(locked, field))
