"""Reads: the client's tickets, the staff queue with its filters and SLA state, the
conversation, and the client's services and balances beside it."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Q, QuerySet

from billow.core.money import Money
from billow.ledger.models import AccountKind, LedgerAccount
from billow.services.models import Service
from billow.support.models import (
    Attachment,
    CannedReply,
    CannedScope,
    Department,
    Ticket,
    TicketMessage,
)
from billow.support.sla import SlaState, timer_state, worst
from billow.support.states import WAITING_FOR_STAFF, TicketStatus

# --- the client's side ------------------------------------------------------------------------


def list_tickets_for_client(client_id: int) -> QuerySet[Ticket]:
    return Ticket.objects.filter(client_id=client_id).select_related("department")


def get_ticket_for_client(client_id: int, ticket_id: int) -> Ticket | None:
    """The client's ticket, or None (another client's ticket is not found, never forbidden)."""
    return list_tickets_for_client(client_id).filter(pk=ticket_id).first()


def list_public_messages(ticket: Ticket) -> QuerySet[TicketMessage]:
    """What the client sees: every message but internal notes."""
    return (
        TicketMessage.objects.filter(ticket=ticket, is_internal=False)
        .prefetch_related("attachments")
        .order_by("created_at", "id")
    )


def list_all_messages(ticket: Ticket) -> QuerySet[TicketMessage]:
    return (
        TicketMessage.objects.filter(ticket=ticket)
        .prefetch_related("attachments")
        .select_related("author_user")
        .order_by("created_at", "id")
    )


def list_public_departments(provider_ids: list[int] | None = None) -> QuerySet[Department]:
    rows = Department.objects.filter(is_public=True)
    if provider_ids is not None:
        rows = rows.filter(Q(provider__isnull=True) | Q(provider_id__in=provider_ids))
    return rows


def get_client_attachment(client_id: int, attachment_id: int) -> Attachment | None:
    """An attachment of a public message of one of the client's tickets, else None."""
    return (
        Attachment.objects.filter(
            pk=attachment_id, message__ticket__client_id=client_id, message__is_internal=False
        )
        .select_related("message")
        .first()
    )


def client_owns_service(client_id: int, service_id: int) -> bool:
    return Service.objects.filter(pk=service_id, client_id=client_id).exists()


def list_client_services(client_id: int) -> list[dict[str, Any]]:
    rows = Service.objects.filter(client_id=client_id).exclude(status="deleted")
    return [dict(row) for row in rows.order_by("id").values("id", "name", "status", "tariff__name")]


# --- staff --------------------------------------------------------------------------------------


def list_department_ids_for_staff(user: Any) -> list[int] | None:
    """The departments whose tickets ``user`` sees; None: all of them (superusers)."""
    if user.is_superuser:
        return None
    return list(Department.objects.filter(members=user).values_list("pk", flat=True))


def list_tickets_for_staff(user: Any) -> QuerySet[Ticket]:
    rows = Ticket.objects.select_related("department", "client", "assignee")
    departments = list_department_ids_for_staff(user)
    return rows if departments is None else rows.filter(department_id__in=departments)


@dataclass(frozen=True, slots=True)
class QueueFilter:
    department_id: int | None = None
    status: str = ""  # a status, or "waiting" (new or in progress)
    priority: str = ""
    assignee: str = ""  # "me", "none", or a user id
    waiting_over_minutes: int | None = None


def filter_queue(
    rows: QuerySet[Ticket], f: QueueFilter, *, user: Any, now: datetime
) -> QuerySet[Ticket]:
    if f.department_id:
        rows = rows.filter(department_id=f.department_id)
    if f.status == "waiting":
        rows = rows.filter(status__in=WAITING_FOR_STAFF)
    elif f.status in TicketStatus.values:
        rows = rows.filter(status=f.status)
    if f.priority:
        rows = rows.filter(priority=f.priority)
    if f.assignee == "me":
        rows = rows.filter(assignee_id=user.pk)
    elif f.assignee == "none":
        rows = rows.filter(assignee__isnull=True)
    elif f.assignee.isdigit():
        rows = rows.filter(assignee_id=int(f.assignee))
    if f.waiting_over_minutes is not None:
        rows = rows.filter(waiting_since__lte=now - timedelta(minutes=f.waiting_over_minutes))
    return rows


def ticket_sla_state(ticket: Ticket, now: datetime) -> SlaState:
    """The worse of the first-response and resolution timers."""
    first = timer_state(ticket.first_response_due_at, ticket.first_response_at, now)
    resolution = timer_state(ticket.resolution_due_at, ticket.closed_at, now)
    return worst(first, resolution)


def next_deadline(ticket: Ticket) -> datetime | None:
    """The deadline the queue shows: first response while none was given, then resolution."""
    if ticket.first_response_at is None and ticket.first_response_due_at is not None:
        return ticket.first_response_due_at
    return None if ticket.closed_at else ticket.resolution_due_at


@dataclass(frozen=True, slots=True)
class ClientPanel:
    """What staff see beside the conversation."""

    client: Any
    services: list[dict[str, Any]]
    balances: list[Money]
    other_tickets: list[Ticket]


def get_client_panel(ticket: Ticket) -> ClientPanel | None:
    if ticket.client_id is None:
        return None
    totals: dict[str, int] = defaultdict(int)
    accounts = LedgerAccount.objects.filter(
        client_id=ticket.client_id, kind=AccountKind.CLIENT_BALANCE
    )
    for currency, balance in accounts.values_list("currency", "balance_minor"):
        totals[currency] += int(balance)
    others = list(
        Ticket.objects.filter(client_id=ticket.client_id).exclude(pk=ticket.pk).order_by("-id")[:10]
    )
    return ClientPanel(
        client=ticket.client,
        services=list_client_services(ticket.client_id),
        balances=[Money(v, c) for c, v in sorted(totals.items())],
        other_tickets=others,
    )


def list_canned_replies(user: Any, department_id: int) -> QuerySet[CannedReply]:
    """Replies shared with everyone, with the ticket's department, and the user's own."""
    return CannedReply.objects.filter(
        Q(scope=CannedScope.EVERYONE)
        | Q(scope=CannedScope.DEPARTMENT, department_id=department_id)
        | Q(scope=CannedScope.PERSONAL, owner_id=user.pk)
    )
