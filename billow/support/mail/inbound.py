"""Mail in: a reply through a ticket's signed Reply-To address joins that ticket; mail to a
department's receiving address from anyone else opens a ticket there. Automatic mail
(auto-replies, bounces, our own mail looping back) creates nothing.

Every email received is recorded (``InboundEmail``) with what became of it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.db import IntegrityError
from django.db.models import Q

from billow.accounts.models import Client, ClientUser
from billow.core import clock
from billow.core.actors import Actor
from billow.core.errors import BillowError
from billow.support.actions import (
    open_ticket,
    post_client_message,
    post_staff_reply,
    reopen_ticket,
)
from billow.support.actions.common import staff_may_work_on
from billow.support.mail.parse import ParsedEmail, parse_email
from billow.support.mail.tokens import STAFF_SIDE, is_reply_address, read_token
from billow.support.models import Department, InboundEmail, Source, Ticket, TicketMessage
from billow.support.states import TicketStatus

logger = logging.getLogger("billow.support")

#: More new tickets than this from one sender within an hour: a loop with a robot that
#: sets none of the automatic-mail headers; the rest are dropped.
FLOOD_LIMIT = 20


@dataclass(frozen=True, slots=True)
class Received:
    """What became of an email: ``outcome`` is ``replied``, ``opened`` or why it was dropped
    (``auto_submitted``, ``auto_reply``, ``bounce``, ``loop``, ``duplicate``, ``bad_token``,
    ``unknown_sender``, ``no_department``, ``empty``, ``flood``, ``refused:<code>``)."""

    outcome: str
    ticket_id: int | None = None
    message_id: int | None = None


def receive_email(
    raw: bytes,
    *,
    recipients: Sequence[str] = (),
    envelope_sender: str | None = None,
    now: datetime | None = None,
) -> Received:
    """Handle one email (``recipients``: the envelope's; the To/Cc headers when empty)."""
    moment = clock.now(now)
    parsed = parse_email(raw, envelope_sender=envelope_sender)
    targets = [r.lower() for r in recipients] or list(parsed.recipients)
    result = _handle(parsed, targets, moment)
    InboundEmail.objects.create(
        message_id=parsed.message_id,
        sender=parsed.sender[:300],
        recipient=",".join(targets)[:300],
        subject=parsed.subject[:500],
        outcome=result.outcome,
        ticket_id=result.ticket_id,
        received_at=moment,
    )
    logger.info("inbound email %s from %s: %s", parsed.message_id, parsed.sender, result.outcome)
    return result


def _handle(parsed: ParsedEmail, targets: list[str], moment: datetime) -> Received:
    if parsed.automatic:
        return Received(parsed.automatic)
    if is_reply_address(parsed.sender):
        return Received("loop")
    if (
        parsed.message_id
        and TicketMessage.objects.filter(email_message_id=parsed.message_id).exists()
    ):
        return Received("duplicate")
    tagged = [t for t in targets if is_reply_address(t) and "+" in t.partition("@")[0]]
    if tagged:
        token = next((tok for tok in map(read_token, tagged) if tok is not None), None)
        if token is None:
            return Received("bad_token")  # forged or edited: names no ticket
        ticket = Ticket.objects.filter(pk=token.ticket_id).select_related("department").first()
        if ticket is None:
            return Received("bad_token")
        if token.side == STAFF_SIDE:
            return _staff_reply(ticket, parsed, moment)
        return _client_reply(ticket, parsed, moment)
    return _new_ticket(parsed, targets, moment)


def _client_reply(ticket: Ticket, parsed: ParsedEmail, moment: datetime) -> Received:
    """The ticket's client (any of its users) or its unknown sender answers. Anyone else
    holding the address is refused as if the ticket did not exist."""
    while ticket.merged_into_id:
        ticket = Ticket.objects.get(pk=ticket.merged_into_id)
    if not _is_requester(ticket, parsed.sender):
        return Received("unknown_sender")
    if not parsed.text:
        return Received("empty")
    actor = _client_actor(ticket, parsed.sender)
    try:
        if ticket.status == TicketStatus.CLOSED:
            reopen_ticket(ticket=ticket, actor=actor, user=None, now=moment)
        message = post_client_message(
            ticket=ticket,
            body=parsed.text,
            uploads=parsed.uploads,
            source=Source.EMAIL,
            email_message_id=parsed.message_id,
            author_name=parsed.sender_name,
            actor=actor,
            now=moment,
        )
    except BillowError as exc:
        return Received(f"refused:{exc.code}", ticket.pk)
    except IntegrityError:
        return Received("duplicate", ticket.pk)
    return Received("replied", ticket.pk, message.pk)


def _staff_reply(ticket: Ticket, parsed: ParsedEmail, moment: datetime) -> Received:
    user = (
        get_user_model()
        .objects.filter(email__iexact=parsed.sender, is_active=True, is_staff=True)
        .first()
    )
    if user is None or not staff_may_work_on(user, ticket.department):
        return Received("unknown_sender")
    if not parsed.text:
        return Received("empty")
    try:
        message = post_staff_reply(
            ticket=ticket,
            user=user,
            body=parsed.text,
            uploads=parsed.uploads,
            source=Source.EMAIL,
            email_message_id=parsed.message_id,
            now=moment,
        )
    except BillowError as exc:
        return Received(f"refused:{exc.code}", ticket.pk)
    except IntegrityError:
        return Received("duplicate", ticket.pk)
    return Received("replied", ticket.pk, message.pk)


def _new_ticket(parsed: ParsedEmail, targets: list[str], moment: datetime) -> Received:
    department = Department.objects.filter(email__in=targets).exclude(email="").first()
    if department is None:
        return Received("no_department")
    if not parsed.text:
        return Received("empty")
    recent = Ticket.objects.filter(
        requester_email=parsed.sender, created_at__gte=moment - timedelta(hours=1)
    ).count()
    if recent >= FLOOD_LIMIT:
        return Received("flood")
    client = find_client_by_email(parsed.sender)
    try:
        ticket = open_ticket(
            department=department,
            subject=parsed.subject or "(no subject)",
            body=parsed.text,
            client=client,
            requester_email=parsed.sender,
            uploads=parsed.uploads,
            source=Source.EMAIL,
            email_message_id=parsed.message_id,
            author_name=parsed.sender_name,
            actor=Actor.system("mail gateway"),
            now=moment,
        )
    except BillowError as exc:
        return Received(f"refused:{exc.code}")
    except IntegrityError:
        return Received("duplicate")
    return Received("opened", ticket.pk)


def find_client_by_email(address: str) -> Client | None:
    """The client whose account email, or one of whose enabled users' email, is ``address``
    (only when exactly one client matches)."""
    by_user = ClientUser.objects.filter(user__email__iexact=address, is_active=True).values(
        "client_id"
    )
    ids = list(
        Client.objects.filter(Q(email__iexact=address) | Q(pk__in=by_user))
        .values_list("pk", flat=True)
        .distinct()[:2]
    )
    return Client.objects.get(pk=ids[0]) if len(ids) == 1 else None


def _is_requester(ticket: Ticket, sender: str) -> bool:
    if ticket.requester_email and ticket.requester_email.lower() == sender:
        return True
    if ticket.client_id is None:
        return False
    if ticket.client and ticket.client.email.lower() == sender:
        return True
    return ClientUser.objects.filter(
        client_id=ticket.client_id, user__email__iexact=sender, is_active=True
    ).exists()


def _client_actor(ticket: Ticket, sender: str) -> Actor:
    cu = (
        ClientUser.objects.filter(
            client_id=ticket.client_id, user__email__iexact=sender, is_active=True
        )
        .select_related("user")
        .first()
        if ticket.client_id
        else None
    )
    return Actor.client_user(cu.user) if cu else Actor.system("mail gateway")
