"""Email the other side of a ticket (through the notifications outbox, after commit): a staff
reply goes to the client (or the unknown sender), a client message to the assignee, else to
the department's members, else to the staff list. Each carries the ticket's signed Reply-To."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.urls import reverse

from billow.notifications.actions import ClientEmail, email_addresses, email_clients
from billow.notifications.events import Event
from billow.notifications.selectors import list_staff_emails
from billow.support.mail.tokens import CLIENT_SIDE, STAFF_SIDE, reply_address
from billow.support.models import Ticket, TicketMessage


def _context(ticket: Ticket, message: TicketMessage, link: str) -> dict[str, Any]:
    return {
        "ticket_id": ticket.pk,
        "subject": ticket.subject,
        "message": message.body,
        "link": link,
        "department": ticket.department.name,
        "author": message.author_name,
    }


def _provider_id(ticket: Ticket) -> int | None:
    return ticket.department.provider_id


def email_reply_to_client(ticket: Ticket, message: TicketMessage) -> None:
    path = reverse("web:ticket_detail", args=[ticket.pk])
    reply_to = reply_address(ticket.pk, CLIENT_SIDE)
    key = f"ticket_message:{message.pk}"
    if ticket.client_id is None:
        email_addresses(
            event=Event.TICKET_REPLY,
            recipients=[ticket.requester_email],
            context=_context(ticket, message, ""),
            reply_to=reply_to,
            provider_id=_provider_id(ticket),
            dedup_key=key,
            name=ticket.requester_email,
        )
        return
    email = ClientEmail(
        client_id=ticket.client_id,
        provider_id=_provider_id(ticket),
        context={**_context(ticket, message, ""), "path": path},
        dedup_key=key,
        to=ticket.requester_email,
        reply_to=reply_to,
    )
    # the template puts the path under the provider's billing URL
    email_clients(event=Event.TICKET_REPLY, emails=[email])


def email_message_to_staff(ticket: Ticket, message: TicketMessage) -> None:
    link = reverse("admin:support_ticket_change", args=[ticket.pk])
    email_addresses(
        event=Event.TICKET_MESSAGE,
        recipients=staff_recipients(ticket),
        context=_context(ticket, message, link),
        reply_to=reply_address(ticket.pk, STAFF_SIDE),
        provider_id=_provider_id(ticket),
        dedup_key=f"ticket_message:{message.pk}",
    )


def staff_recipients(ticket: Ticket) -> list[str]:
    users = get_user_model().objects.filter(is_active=True, is_staff=True).exclude(email="")
    if ticket.assignee_id is not None:
        found = list(users.filter(pk=ticket.assignee_id).values_list("email", flat=True))
        if found:
            return found
    members = list(
        users.filter(support_departments=ticket.department_id).values_list("email", flat=True)
    )
    return members or list_staff_emails()
