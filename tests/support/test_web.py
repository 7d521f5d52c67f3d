"""Client pages and the staff pages: open with an attachment, the conversation without internal
notes, 404 for another client's ticket, the queue's SLA column, canned replies, abuse."""

from __future__ import annotations

from datetime import timedelta

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from billow.core import clock
from billow.core.actors import Actor
from billow.services.models import ServiceOperation
from billow.support import actions
from billow.support.models import CannedReply, Ticket
from tests.support.conftest import Desk, staff_http


def test_client_opens_a_ticket_with_a_file_and_reads_the_answer(desk: Desk) -> None:
    http = desk.web.a.http
    page = http.get(reverse("web:ticket_new"))
    assert page.status_code == 200
    assert "Second line" not in page.content.decode()  # internal departments are not offered
    response = http.post(
        reverse("web:ticket_new"),
        {
            "department": desk.support.pk,
            "service": desk.web.a.service.pk,
            "priority": "high",
            "subject": "Slow disk",
            "body": "iostat attached",
            "attachment": SimpleUploadedFile("iostat.txt", b"sda 99%"),
        },
    )
    ticket = Ticket.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("web:ticket_detail", args=[ticket.pk])
    assert (ticket.priority, ticket.service_id) == ("high", desk.web.a.service.pk)
    actions.add_internal_note(ticket=ticket, user=desk.agent, body="SECRET NOTE")
    actions.post_staff_reply(ticket=ticket, user=desk.agent, body="Moved to SSD")
    page = http.get(reverse("web:ticket_detail", args=[ticket.pk])).content.decode()
    assert "Moved to SSD" in page and "iostat.txt" in page
    assert "SECRET NOTE" not in page
    assert "Answered" in page
    attachment = ticket.messages.first().attachments.get()
    download = http.get(reverse("web:ticket_attachment", args=[attachment.pk]))
    assert b"".join(download.streaming_content) == b"sda 99%"
    # client B: every page of A's ticket is not found
    other = desk.web.b.http
    for name in ("web:ticket_detail", "web:ticket_close", "web:ticket_rate"):
        assert other.get(reverse(name, args=[ticket.pk])).status_code == 404
    assert other.get(reverse("web:ticket_attachment", args=[attachment.pk])).status_code == 404


def test_client_closes_and_rates_on_the_web(desk: Desk) -> None:
    ticket = actions.open_ticket(
        department=desk.support,
        client=desk.web.a.client,
        subject="Q",
        body="q",
        actor=Actor.client_user(desk.web.a.owner),
    )
    http = desk.web.a.http
    http.post(reverse("web:ticket_close", args=[ticket.pk]))
    http.post(reverse("web:ticket_rate", args=[ticket.pk]), {"rating": "4", "comment": "ok"})
    ticket.refresh_from_db()
    assert (ticket.status, ticket.rating, ticket.rating_comment) == ("closed", 4, "ok")


def test_staff_queue_highlights_breached_sla(desk: Desk) -> None:
    old = actions.open_ticket(
        department=desk.support,
        client=desk.web.a.client,
        subject="Overdue one",
        body="x",
        actor=Actor.client_user(desk.web.a.owner),
        now=clock.now() - timedelta(days=7),
    )
    fresh = actions.open_ticket(
        department=desk.support, client=desk.web.b.client, subject="Fresh one", body="y"
    )
    page = staff_http(desk.agent).get(reverse("admin:support_ticket_changelist")).content.decode()
    assert "Overdue one" in page and "Fresh one" in page
    assert page.count("sla sla-breached") == 1  # the week-old one
    assert page.count("sla sla-ok") == 1
    # a staff member outside the department sees neither
    page = staff_http(desk.outsider).get(reverse("admin:support_ticket_changelist"))
    assert "Overdue one" not in page.content.decode()
    assert fresh.pk and old.pk


def test_conversation_page_shows_client_panel_canned_and_suspends_for_abuse(
    desk: Desk, django_capture_on_commit_callbacks
) -> None:
    desk.agent.is_superuser = True
    desk.agent.save()
    desk.support.is_abuse = True
    desk.support.save()
    # the service runs on the dummy module (it does what it is asked at once)
    from billow.services.actions import create_module_instance
    from billow.services.models import Service

    dummy = create_module_instance(module="dummy", name="dummy-web", department="vps")
    Service.objects.filter(pk=desk.web.a.service.pk).update(module_instance=dummy)
    ticket = actions.open_ticket(
        department=desk.support,
        client=desk.web.a.client,
        subject="Spam from your VPS",
        body="It sends spam",
        requester_email="abuse@isp.example",
    )
    CannedReply.objects.create(
        title="Hello", body="Dear {{ client.name }} {{ settings.SECRET_KEY }}!"
    )
    http = staff_http(desk.agent)
    url = reverse("admin:support_ticket_change", args=[ticket.pk])
    canned = CannedReply.objects.get()
    page = http.get(url, {"canned": canned.pk}).content.decode()
    assert f"Dear {desk.web.a.client.name} !" in page
    assert 'id="client-services"' in page and "web-1" in page
    # the balance beside the conversation: 500.00 topped up, 10.00 paid for web-1
    assert '<ul id="client-balances"><li>490.00 USD</li></ul>' in page
    with django_capture_on_commit_callbacks(execute=True):
        response = http.post(url, {"op": "abuse", "service": desk.web.a.service.pk})
    assert response.status_code == 302
    key = f"abuse:{ticket.pk}:{desk.web.a.service.pk}"
    operations = list(
        ServiceOperation.objects.filter(idempotency_key=key).values_list("operation", "payload")
    )
    assert operations == [("suspend", {"target_status": "suspended_abuse", "ticket_id": ticket.pk})]
    ticket.refresh_from_db()
    assert ticket.is_abuse is True
    status = Service.objects.values_list("status", flat=True).get(pk=desk.web.a.service.pk)
    assert status == "suspended_abuse"


def test_staff_outside_the_department_get_404(desk: Desk) -> None:
    ticket = actions.open_ticket(
        department=desk.support, client=desk.web.a.client, subject="Q", body="q"
    )
    http = staff_http(desk.outsider)
    url = reverse("admin:support_ticket_change", args=[ticket.pk])
    assert http.get(url).status_code == 404
    assert http.post(url, {"op": "reply", "body": "x"}).status_code == 404


def test_staff_without_the_support_permissions_are_refused(desk: Desk) -> None:
    ticket = actions.open_ticket(
        department=desk.support, client=desk.web.a.client, subject="Q", body="q"
    )
    desk.agent.user_permissions.clear()
    url = reverse("admin:support_ticket_change", args=[ticket.pk])
    http = staff_http(desk.agent)
    assert http.get(url).status_code == 403
    assert http.post(url, {"op": "reply", "body": "x"}).status_code == 403
    assert ticket.messages.count() == 1


def test_staff_assign_another_member_and_reply_with_a_file(desk: Desk) -> None:
    ticket = actions.open_ticket(
        department=desk.support, client=desk.web.a.client, subject="Q", body="q"
    )
    colleague = desk.outsider
    desk.support.members.add(colleague)
    url = reverse("admin:support_ticket_change", args=[ticket.pk])
    http = staff_http(desk.agent)
    http.post(url, {"op": "assign", "assignee": colleague.pk})
    ticket.refresh_from_db()
    assert ticket.assignee_id == colleague.pk
    response = http.post(
        url,
        {"op": "reply", "body": "log attached", "attachment": SimpleUploadedFile("a.txt", b"ok")},
    )
    assert response.status_code == 302
    reply = ticket.messages.order_by("-id").first()
    assert (reply.body, [a.name for a in reply.attachments.all()]) == ("log attached", ["a.txt"])
    page = http.get(url).content.decode()
    assert "a.txt" in page
