"""The ticket flow through the actions: open, reply, notes, assign, move, merge, close, reopen,
rate; refusals write nothing."""

from __future__ import annotations

import pytest
from django.core import mail

from billow.core.actors import Actor
from billow.notifications.models import OutboundEmail
from billow.support import actions
from billow.support.errors import NotInDepartment, SupportValidationError, TicketStateError
from billow.support.mail.tokens import read_token
from billow.support.models import Ticket, TicketEvent
from tests.support.conftest import MONDAY_10, Desk, support_counts


def client_actor(desk: Desk):
    return Actor.client_user(desk.web.a.owner)


def open_a(desk: Desk, **kw) -> Ticket:
    return actions.open_ticket(
        department=desk.support,
        client=desk.web.a.client,
        subject="VPS down",
        body="My VPS does not answer.",
        actor=client_actor(desk),
        now=MONDAY_10,
        **kw,
    )


def test_open_ticket_stamps_sla_and_emails_staff(
    desk: Desk, django_capture_on_commit_callbacks
) -> None:
    # given a department answering normal tickets in 60 business minutes
    # when client A opens a ticket on Monday 10:00
    with django_capture_on_commit_callbacks(execute=True):
        ticket = open_a(desk)
    # then it is new, waits for staff, and its deadlines are 11:00 and 18:00 the same day
    assert ticket.status == "new"
    assert ticket.waiting_since == MONDAY_10
    assert ticket.first_response_due_at.isoformat() == "2026-12-07T11:00:00+00:00"
    assert ticket.resolution_due_at.isoformat() == "2026-12-07T18:00:00+00:00"
    assert [m.body for m in ticket.messages.all()] == ["My VPS does not answer."]
    # and the department's member got an email whose Reply-To carries the staff token
    sent = OutboundEmail.objects.get(event="ticket_message")
    assert sent.to == "agent@help.example"
    assert sent.subject == f"[#{ticket.pk}] VPS down"
    token = read_token(sent.reply_to)
    assert (token.ticket_id, token.side) == (ticket.pk, "s")
    assert [m.to for m in mail.outbox] == [["agent@help.example"]]
    assert mail.outbox[0].reply_to == [sent.reply_to]
    assert mail.outbox[0].extra_headers["Auto-Submitted"] == "auto-generated"


def test_client_cannot_open_in_internal_department(desk: Desk) -> None:
    before = support_counts()
    with pytest.raises(SupportValidationError) as exc:
        actions.open_ticket(
            department=desk.internal,
            client=desk.web.a.client,
            subject="x",
            body="y",
            actor=client_actor(desk),
        )
    assert exc.value.code == "department_not_public"
    assert support_counts() == before


def test_service_of_another_client_is_refused(desk: Desk) -> None:
    before = support_counts()
    with pytest.raises(SupportValidationError) as exc:
        open_a(desk, service_id=desk.web.b.service.pk)
    assert exc.value.code == "service_not_found"
    assert support_counts() == before


def test_staff_reply_answers_and_emails_the_client(desk: Desk) -> None:
    ticket = open_a(desk)
    later = MONDAY_10.replace(minute=30)
    actions.post_staff_reply(ticket=ticket, user=desk.agent, body="Restarted it.", now=later)
    ticket.refresh_from_db()
    assert ticket.status == "answered"
    assert ticket.first_response_at == later
    assert ticket.waiting_since is None
    assert ticket.assignee_id == desk.agent.pk  # whoever answers an unassigned ticket takes it
    sent = OutboundEmail.objects.get(event="ticket_reply")
    assert sent.to == "owner-a@example.com"
    assert "Restarted it." in sent.body
    assert read_token(sent.reply_to).side == "c"


def test_client_message_after_answer_reopens_waiting(desk: Desk) -> None:
    ticket = open_a(desk)
    actions.post_staff_reply(ticket=ticket, user=desk.agent, body="Restarted it.", now=MONDAY_10)
    later = MONDAY_10.replace(hour=12)
    actions.post_client_message(
        ticket=ticket, body="Still down", actor=client_actor(desk), now=later
    )
    ticket.refresh_from_db()
    assert (ticket.status, ticket.waiting_since) == ("open", later)
    assert ticket.first_response_at == MONDAY_10  # stamped once


def test_internal_note_is_not_emailed_and_leaves_status(desk: Desk) -> None:
    ticket = open_a(desk)
    emails = OutboundEmail.objects.count()
    note = actions.add_internal_note(ticket=ticket, user=desk.agent, body="Check host 7")
    ticket.refresh_from_db()
    assert note.is_internal is True
    assert ticket.status == "new"
    assert OutboundEmail.objects.count() == emails


def test_staff_outside_the_department_is_refused(desk: Desk) -> None:
    ticket = open_a(desk)
    before = support_counts()
    with pytest.raises(NotInDepartment):
        actions.post_staff_reply(ticket=ticket, user=desk.outsider, body="hi")
    assert support_counts() == before


def test_staff_must_assign_to_themselves_before_closing(desk: Desk) -> None:
    ticket = open_a(desk)
    other = desk.outsider
    desk.support.members.add(other)
    actions.assign_ticket(ticket=ticket, user=desk.agent, assignee=other)
    before = support_counts()
    with pytest.raises(TicketStateError) as exc:
        actions.close_ticket(ticket=ticket, actor=Actor.staff(desk.agent), user=desk.agent)
    assert exc.value.code == "assign_before_closing"
    assert support_counts() == before
    # "assign to me", then close
    actions.assign_ticket(ticket=ticket, user=desk.agent, assignee=desk.agent)
    actions.close_ticket(ticket=ticket, actor=Actor.staff(desk.agent), user=desk.agent)
    ticket.refresh_from_db()
    assert ticket.status == "closed"


def test_client_closes_rates_and_reopens(desk: Desk) -> None:
    ticket = open_a(desk)
    actor = client_actor(desk)
    with pytest.raises(TicketStateError) as exc:
        actions.rate_ticket(ticket=ticket, rating=5, actor=actor)
    assert exc.value.code == "ticket_not_closed"
    actions.close_ticket(ticket=ticket, actor=actor, user=desk.web.a.owner)
    with pytest.raises(SupportValidationError):
        actions.rate_ticket(ticket=ticket, rating=6, actor=actor)
    actions.rate_ticket(ticket=ticket, rating=4, comment="quick", actor=actor)
    ticket.refresh_from_db()
    assert (ticket.status, ticket.rating, ticket.rating_comment) == ("closed", 4, "quick")
    actions.reopen_ticket(ticket=ticket, actor=actor, user=desk.web.a.owner)
    ticket.refresh_from_db()
    assert (ticket.status, ticket.rating, ticket.closed_at) == ("open", None, None)


def test_move_recomputes_sla_and_keeps_member_assignee(desk: Desk) -> None:
    ticket = open_a(desk)
    actions.assign_ticket(ticket=ticket, user=desk.agent, assignee=desk.agent)
    actions.move_ticket(ticket=ticket, user=desk.agent, department=desk.internal)
    ticket.refresh_from_db()
    assert ticket.department_id == desk.internal.pk
    assert ticket.assignee_id == desk.agent.pk
    assert (ticket.first_response_due_at, ticket.resolution_due_at) == (None, None)  # no target
    assert TicketEvent.objects.filter(ticket=ticket, type="ticket.moved").count() == 1


def test_merge_moves_messages_and_closes_the_source(desk: Desk) -> None:
    first = open_a(desk)
    second = actions.open_ticket(
        department=desk.support,
        client=desk.web.a.client,
        subject="Also",
        body="And the disk is full.",
        actor=client_actor(desk),
        now=MONDAY_10.replace(hour=11),
    )
    actions.merge_tickets(source=second, target=first, user=desk.agent)
    second.refresh_from_db()
    assert (second.status, second.merged_into_id) == ("closed", first.pk)
    assert [m.body for m in first.messages.order_by("created_at")] == [
        "My VPS does not answer.",
        "And the disk is full.",
    ]


def test_merge_of_different_clients_is_refused(desk: Desk) -> None:
    first = open_a(desk)
    other = actions.open_ticket(
        department=desk.support,
        client=desk.web.b.client,
        subject="B's",
        body="b",
        actor=Actor.client_user(desk.web.b.owner),
    )
    before = support_counts()
    with pytest.raises(SupportValidationError) as exc:
        actions.merge_tickets(source=other, target=first, user=desk.agent)
    assert exc.value.code == "merge_requester_differs"
    assert support_counts() == before
