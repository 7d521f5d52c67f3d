"""Sending the outbox: Django's locmem backend, a real SMTP server, retries and the janitor."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import pytest
from aiosmtpd.controller import Controller
from django.core import mail
from django.core.management import call_command

from billow.core.clock import FixedClock, use_clock
from billow.core.errors import RetryableError
from billow.notifications.actions import (
    MAX_ATTEMPTS,
    notify_client,
    requeue_stuck_emails,
    send_outbound_email,
)
from billow.notifications.models import OutboundEmail
from billow.notifications.tasks import send_email

from .conftest import T0, SmtpSink, free_port

pytestmark = pytest.mark.django_db


def _queue(client, **context) -> OutboundEmail:
    notify_client(
        event="service_resumed", client_id=client.pk, context={"service_name": "VPS #5", **context}
    )
    return OutboundEmail.objects.get()


def _email(**kw) -> OutboundEmail:
    fields = {
        "to": "x@example.com",
        "from_email": "b@example.com",
        "subject": "s",
        "body": "b",
        "created_at": T0,
        "next_attempt_at": T0,
    } | kw
    return OutboundEmail.objects.create(**fields)


def test_email_goes_through_django_backend_after_commit(
    client_en, immediate_huey, django_capture_on_commit_callbacks
) -> None:
    # when the notification is queued and the transaction commits
    with use_clock(FixedClock(T0)), django_capture_on_commit_callbacks(execute=True):
        notify_client(
            event="service_resumed", client_id=client_en.pk, context={"service_name": "VPS #5"}
        )
    # then exactly this email was sent and the row says so
    (sent,) = mail.outbox
    row = OutboundEmail.objects.get()
    assert (sent.to, sent.from_email, sent.subject) == (
        ["ann@example.com"],
        "Acme Cloud <billing@acme.example>",
        "Service VPS #5 is active again",
    )
    assert sent.body == (
        "Hello Ann,\n\nYour service VPS #5 has been resumed.\n\n-- \n"
        "Your account: https://my.acme.example\nAcme Cloud\n"
    )
    # RFC 3834: autoresponders must not answer what Billow sends by itself
    assert sent.extra_headers == {
        "X-Billow-Email-Id": str(row.pk),
        "Auto-Submitted": "auto-generated",
    }
    assert (row.status, row.attempts, row.sent_at, row.claimed_at, row.error) == (
        "sent",
        1,
        T0,
        None,
        "",
    )


def test_html_body_is_sent_as_alternative(client_en) -> None:
    row = _email(html="<p>hi</p>")
    assert send_outbound_email(outbound_id=row.pk) == "sent"
    assert mail.outbox[0].alternatives == [("<p>hi</p>", "text/html")]


def test_email_goes_through_a_real_smtp_server(client_en, smtp_server, immediate_huey) -> None:
    sink, _ = smtp_server
    row = _queue(client_en)
    # when the job runs
    assert send_email(row.pk)() == "sent"
    # then the server received it
    (envelope,) = sink.messages
    assert envelope.mail_from == "billing@acme.example"
    assert envelope.rcpt_tos == ["ann@example.com"]
    content = envelope.content.decode()
    assert "Subject: Service VPS #5 is active again" in content
    assert "Your service VPS #5 has been resumed." in content
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("sent", 1)


def test_connection_refused_is_retried_and_nothing_marked_sent(
    client_en, settings, immediate_huey
) -> None:
    # given the SMTP backend points at a port where nothing listens
    port = free_port()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    row = _queue(client_en)
    # when the action runs it raises the retryable error
    with use_clock(FixedClock(T0)), pytest.raises(RetryableError) as exc:
        send_outbound_email(outbound_id=row.pk)
    assert exc.value.details == {"outbound_id": row.pk, "attempts": 1}
    row.refresh_from_db()
    assert (row.status, row.attempts, row.sent_at, row.claimed_at) == ("queued", 1, None, None)
    assert row.error.startswith("ConnectionRefusedError")
    assert row.next_attempt_at == T0 + timedelta(seconds=60)
    # and through the job, Huey schedules a retry with backoff
    send_email(row.pk)
    (retry,) = immediate_huey.scheduled()
    assert retry.retry_delay == 60.0
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("queued", 2)
    # when the server comes back, the scheduled retry sends it once
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    sink = SmtpSink()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        (task,) = immediate_huey.read_schedule(datetime(9999, 1, 1))
        immediate_huey.execute(task, timestamp=task.eta)
    finally:
        controller.stop()
    row.refresh_from_db()
    assert (row.status, row.attempts, len(sink.messages)) == ("sent", 3, 1)
    assert immediate_huey.scheduled() == []


def test_last_attempt_marks_failed_without_raising(client_en, settings) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()
    row = _email(attempts=MAX_ATTEMPTS - 1)
    assert send_outbound_email(outbound_id=row.pk) == "failed"
    row.refresh_from_db()
    assert (row.status, row.attempts, row.sent_at) == ("failed", MAX_ATTEMPTS, None)


def test_permanent_smtp_refusal_fails_at_once(client_en, smtp_server) -> None:
    sink, _ = smtp_server
    sink.reject_rcpt = "550 5.1.1 no such user"
    row = _email()
    assert send_outbound_email(outbound_id=row.pk) == "failed"
    row.refresh_from_db()
    assert (row.status, row.attempts, sink.messages) == ("failed", 1, [])
    assert "550" in row.error


def test_temporary_smtp_refusal_is_retried(client_en, smtp_server) -> None:
    sink, _ = smtp_server
    sink.reject_rcpt = "451 4.3.0 try later"
    row = _email()
    with pytest.raises(RetryableError):
        send_outbound_email(outbound_id=row.pk)
    assert OutboundEmail.objects.get().status == "queued"


def test_sent_or_claimed_rows_are_not_sent_again(db) -> None:
    sent = _email(status="sent", sent_at=T0)
    claimed = _email(claimed_at=T0)
    stale = _email(claimed_at=T0 - timedelta(minutes=11))
    now = T0 + timedelta(minutes=1)
    assert send_outbound_email(outbound_id=sent.pk, now=now) == "sent"
    assert send_outbound_email(outbound_id=claimed.pk, now=now) == "queued"
    assert send_outbound_email(outbound_id=stale.pk, now=now) == "sent"  # the claim expired
    assert [m.to for m in mail.outbox] == [["x@example.com"]]
    assert OutboundEmail.objects.get(pk=claimed.pk).attempts == 0


def test_janitor_requeues_only_lost_rows(
    db, immediate_huey, django_capture_on_commit_callbacks
) -> None:
    now = T0 + timedelta(minutes=30)
    lost = _email(to="lost@example.com")
    _email(to="fresh@example.com", next_attempt_at=now)  # its job may still be on its way
    _email(to="busy@example.com", claimed_at=now)  # being sent right now
    _email(to="done@example.com", attempts=MAX_ATTEMPTS)  # out of attempts
    _email(to="sent@example.com", status="sent", sent_at=T0)
    with django_capture_on_commit_callbacks(execute=True):
        assert requeue_stuck_emails(now=now) == 1
    assert [m.to for m in mail.outbox] == [["lost@example.com"]]
    assert OutboundEmail.objects.get(pk=lost.pk).status == "sent"


def test_send_pending_email_command_flushes_the_outbox(db, capsys) -> None:
    call_command("send_pending_email")
    assert capsys.readouterr().out == "sent 0, failed 0, deferred 0, skipped 0\n"
    _email(to="a@example.com")
    _email(to="b@example.com")
    _email(to="c@example.com", status="failed")
    call_command("send_pending_email")
    assert capsys.readouterr().out == "sent 2, failed 0, deferred 0, skipped 0\n"
    assert sorted(m.to[0] for m in mail.outbox) == ["a@example.com", "b@example.com"]


def test_send_pending_email_command_defers_on_connection_refused(db, settings, capsys) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()
    row = _email()
    call_command("send_pending_email")
    out = capsys.readouterr()
    assert out.out == "sent 0, failed 0, deferred 1, skipped 0\n"
    assert f"email {row.pk} deferred" in out.err
    assert OutboundEmail.objects.get().status == "queued"
