"""Mail in: parsing (quotes, signatures, automatic mail), replies through the signed Reply-To,
unknown senders, forged tokens; and the gateway over real SMTP and LMTP on 127.0.0.1."""

from __future__ import annotations

import logging
import smtplib
import socket
from email.message import EmailMessage

import pytest

from billow.core.actors import Actor
from billow.notifications.models import OutboundEmail
from billow.support import actions
from billow.support.mail.gateway import make_controller
from billow.support.mail.inbound import receive_email
from billow.support.mail.parse import parse_email, strip_reply
from billow.support.mail.tokens import reply_address
from billow.support.models import InboundEmail, Ticket, TicketMessage
from tests.support.conftest import MONDAY_10, Desk, support_counts


def email(
    *, sender: str, to: str, body: str, subject: str = "Re: VPS down", **headers: str
) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Message-ID"] = headers.pop("message_id", f"<{abs(hash((sender, body)))}@mail.example>")
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    msg.set_content(body)
    return msg.as_bytes()


REPLY = (
    "It works now, thanks!\n"
    "\n"
    "-- \n"
    "Ann, Example Ltd\n"
    "\n"
    "On Mon, 7 Dec 2026 at 10:30, Technical support <support@help.example> wrote:\n"
    "> -- Reply above this line to answer the ticket --\n"
    "> Restarted it.\n"
)


def test_strip_reply_cuts_signature_and_quotes() -> None:
    assert strip_reply(REPLY) == "It works now, thanks!"
    assert strip_reply("Yes\n> old\nand more\nEl lun, 7 dic 2026, escribió:\nold") == (
        "Yes\nand more"
    )
    outlook = "Fine.\n\nFrom: Support <support@help.example>\nSent: Monday\nSubject: x\n\nold"
    assert strip_reply(outlook) == "Fine."
    assert strip_reply("From: my colleague told me\nthe VPS is down") == (
        "From: my colleague told me\nthe VPS is down"
    )


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({"Auto_Submitted": "auto-replied"}, "auto_submitted"),
        ({"X_Autoreply": "yes"}, "auto_reply"),
        ({"Precedence": "bulk"}, "auto_reply"),
        ({"X_Billow_Email_Id": "12"}, "loop"),
    ],
)
def test_automatic_mail_is_recognised(headers: dict[str, str], reason: str) -> None:
    raw = email(sender="ann@example.com", to="help@help.example", body="x", **headers)
    assert parse_email(raw).automatic == reason


def test_bounce_by_null_sender_and_mailer_daemon() -> None:
    raw = email(sender="ann@example.com", to="help@help.example", body="x")
    assert parse_email(raw, envelope_sender="").automatic == "bounce"
    raw = email(sender="MAILER-DAEMON@mx.example", to="help@help.example", body="x")
    assert parse_email(raw).automatic == "bounce"
    assert parse_email(raw.replace(b"MAILER-DAEMON", b"ann")).automatic == ""


def opened(desk: Desk) -> Ticket:
    ticket = actions.open_ticket(
        department=desk.support,
        client=desk.web.a.client,
        subject="VPS down",
        body="My VPS does not answer.",
        actor=Actor.client_user(desk.web.a.owner),
        now=MONDAY_10,
    )
    actions.post_staff_reply(ticket=ticket, user=desk.agent, body="Restarted it.", now=MONDAY_10)
    return ticket


def test_client_answers_by_email_and_the_answer_is_on_the_ticket(desk: Desk) -> None:
    ticket = opened(desk)
    reply_to = OutboundEmail.objects.get(event="ticket_reply").reply_to
    raw = email(sender="Ann <owner-a@example.com>", to=reply_to, body=REPLY)
    result = receive_email(raw, recipients=[reply_to])
    assert (result.outcome, result.ticket_id) == ("replied", ticket.pk)
    last = ticket.messages.order_by("-id").first()
    assert (last.body, last.source, last.author_kind) == (
        "It works now, thanks!",
        "email",
        "client",
    )
    ticket.refresh_from_db()
    assert ticket.status == "open"
    # the same email delivered twice adds nothing
    assert receive_email(raw, recipients=[reply_to]).outcome == "duplicate"
    assert ticket.messages.count() == 3


def test_staff_answers_by_email(desk: Desk) -> None:
    ticket = opened(desk)
    actions.post_client_message(
        ticket=ticket, body="Still down", actor=Actor.client_user(desk.web.a.owner)
    )
    reply_to = reply_address(ticket.pk, "s")
    raw = email(sender="agent@help.example", to=reply_to, body="Moved you to another host.")
    assert receive_email(raw).outcome == "replied"
    ticket.refresh_from_db()
    assert ticket.status == "answered"


def test_auto_reply_and_bounce_create_nothing(desk: Desk) -> None:
    ticket = opened(desk)
    reply_to = reply_address(ticket.pk, "c")
    before = TicketMessage.objects.count(), Ticket.objects.count()
    away = email(
        sender="owner-a@example.com", to=reply_to, body="I am away", Auto_Submitted="auto-replied"
    )
    assert receive_email(away).outcome == "auto_submitted"
    bounce = email(sender="MAILER-DAEMON@mx.example", to="help@help.example", body="failed")
    assert receive_email(bounce, envelope_sender="").outcome == "bounce"
    assert (TicketMessage.objects.count(), Ticket.objects.count()) == before
    assert list(InboundEmail.objects.values_list("outcome", flat=True).order_by("id")) == [
        "auto_submitted",
        "bounce",
    ]


def test_forged_or_foreign_token_reaches_no_ticket(desk: Desk) -> None:
    ticket = opened(desk)
    good = reply_address(ticket.pk, "c")
    # another ticket's id with this ticket's signature: forged
    forged = good.replace(f"+t{ticket.pk}c", f"+t{ticket.pk + 1}c")
    before = support_counts()
    raw = email(sender="owner-b@example.com", to=forged, body="let me in")
    assert receive_email(raw).outcome == "bad_token"
    # client B holding A's real address: as if the ticket did not exist
    raw = email(sender="owner-b@example.com", to=good, body="let me in", message_id="<b2@x>")
    assert receive_email(raw).outcome == "unknown_sender"
    after = support_counts()
    assert after.pop("support_inboundemail") == before.pop("support_inboundemail") + 2
    assert after == before


def test_unknown_sender_opens_a_ticket_by_receiving_address(desk: Desk) -> None:
    raw = email(
        sender="Stranger <who@else.example>", to="help@help.example", body="Hi", subject="Sales?"
    )
    result = receive_email(raw)
    ticket = Ticket.objects.get(pk=result.ticket_id)
    assert (result.outcome, ticket.client_id, ticket.requester_email, ticket.subject) == (
        "opened",
        None,
        "who@else.example",
        "Sales?",
    )
    assert ticket.department_id == desk.support.pk
    # a known client's address opens the ticket on their account
    raw = email(sender="owner-a@example.com", to="help@help.example", body="Hello", subject="Q")
    assert Ticket.objects.get(pk=receive_email(raw).ticket_id).client_id == desk.web.a.client.pk
    # an address no department receives: nothing
    raw = email(sender="who@else.example", to="nobody@help.example", body="x", message_id="<n@x>")
    assert receive_email(raw).outcome == "no_department"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("lmtp", [False, True])
def test_gateway_over_real_smtp_and_lmtp(desk: Desk, lmtp: bool) -> None:
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    ticket = opened(desk)
    reply_to = reply_address(ticket.pk, "c")
    port = free_port()
    controller = make_controller(host="127.0.0.1", port=port, lmtp=lmtp)
    controller.start()
    try:
        msg = EmailMessage()
        msg["From"] = "owner-a@example.com"
        msg["To"] = reply_to
        msg["Subject"] = "Re: VPS down"
        msg["Message-ID"] = f"<gw-{lmtp}@mail.example>"
        msg.set_content("Answered over the wire.\n\n> quoted")
        msg.add_attachment(b"log line\n", maintype="text", subtype="plain", filename="boot.log")
        client = smtplib.LMTP("127.0.0.1", port) if lmtp else smtplib.SMTP("127.0.0.1", port)
        with client as conn:
            conn.send_message(msg)
            # not our domain: refused at RCPT (no open relay)
            with pytest.raises(smtplib.SMTPRecipientsRefused):
                conn.sendmail("x@y.example", ["victim@elsewhere.example"], b"Subject: x\n\nx")
    finally:
        controller.stop()
    last = ticket.messages.order_by("-id").first()
    assert (last.body, last.source) == ("Answered over the wire.", "email")
    assert [(a.name, a.size) for a in last.attachments.all()] == [("boot.log", 9)]


def test_unknown_sender_gets_the_answer_and_can_reply(desk: Desk) -> None:
    raw = email(sender="who@else.example", to="help@help.example", body="Prices?", subject="Q")
    ticket = Ticket.objects.get(pk=receive_email(raw).ticket_id)
    actions.post_staff_reply(ticket=ticket, user=desk.agent, body="See our site.")
    sent = OutboundEmail.objects.get(event="ticket_reply")
    assert (sent.to, sent.subject) == ("who@else.example", f"[#{ticket.pk}] Q")
    assert "See our site." in sent.body
    answer = email(sender="who@else.example", to=sent.reply_to, body="Thanks", message_id="<t@x>")
    assert receive_email(answer).outcome == "replied"
    assert ticket.messages.count() == 3
