"""Support in a real browser: the client opens a ticket with a file, staff see it in the queue
with the SLA column (a week-old ticket highlighted as breached) and answer on the conversation
page, the client reads the answer, replies, closes the ticket and rates it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from huey.contrib.djhuey import HUEY
from playwright.sync_api import Browser, Page, expect

from billow.core import clock
from billow.core.actors import Actor
from billow.support import actions
from billow.support.models import Ticket
from tests.support import conftest as support_conftest
from tests.support.conftest import Desk, staff_http
from tests.web import conftest as web_conftest

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
web = web_conftest.web
desk = support_conftest.desk


@pytest.fixture(autouse=True)
def _inline(settings: Any, tmp_path: Any) -> Any:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    previous = HUEY.immediate
    HUEY.immediate = True
    yield
    HUEY.immediate = previous


def session_page(browser: Browser, base: str, http: Any) -> Page:
    context = browser.new_context()
    cookie = http.cookies["sessionid"].value
    context.add_cookies([{"name": "sessionid", "value": cookie, "url": base}])
    return context.new_page()


def test_open_reply_attach_close_rate_and_the_staff_queue(
    live_server: Any, page: Page, browser: Browser, desk: Desk
) -> None:
    base = live_server.url
    cookie = desk.web.a.http.cookies["sessionid"].value
    page.context.add_cookies([{"name": "sessionid", "value": cookie, "url": base}])
    # an old ticket of client B, its first response long overdue
    actions.open_ticket(
        department=desk.support,
        client=desk.web.b.client,
        subject="Old and forgotten",
        body="hello?",
        actor=Actor.client_user(desk.web.b.owner),
        now=clock.now() - timedelta(days=7),
    )

    # the client opens a ticket with a file
    page.goto(f"{base}/")
    page.get_by_role("link", name="Support").click()
    page.get_by_role("link", name="New ticket").click()
    page.select_option("#id_department", label="Technical support")
    page.fill("#id_subject", "Website is slow")
    page.fill("#id_body", "Pages take 10 s to load.")
    page.set_input_files(
        "#id_attachment",
        files=[{"name": "trace.txt", "mimeType": "text/plain", "buffer": b"GET / 10.2s"}],
    )
    page.get_by_role("button", name="Send").click()
    expect(page.locator("#ticket-status")).to_have_text("New")
    expect(page.get_by_role("link", name="trace.txt")).to_be_visible()
    ticket = Ticket.objects.get(subject="Website is slow")

    # staff: the queue with the SLA column, the overdue ticket highlighted
    staff = session_page(browser, base, staff_http(desk.agent))
    staff.goto(f"{base}/admin/support/ticket/")
    expect(staff.get_by_role("columnheader", name="SLA")).to_be_visible()
    old_row = staff.locator("tr", has_text="Old and forgotten")
    expect(old_row.locator(".sla-breached")).to_have_text("Breached")
    new_row = staff.locator("tr", has_text="Website is slow")
    expect(new_row.locator(".sla")).to_be_visible()
    new_row.get_by_role("link", name="Website is slow").click()
    expect(staff.locator("#client-panel")).to_contain_text("web-1")
    staff.fill("#id_body", "We enabled caching, please check.")
    staff.get_by_role("button", name="Send reply").click()
    expect(staff.locator("#ticket-status")).to_have_text("Awaiting client")

    # the client reads the answer and replies with another file
    page.goto(f"{base}/support/{ticket.pk}/")
    expect(page.locator("#conversation")).to_contain_text("We enabled caching")
    expect(page.locator("#ticket-status")).to_have_text("Answered")
    page.fill("#id_body", "Much better now, thank you.")
    page.set_input_files(
        "#id_attachment",
        files=[{"name": "after.txt", "mimeType": "text/plain", "buffer": b"GET / 0.3s"}],
    )
    page.get_by_role("button", name="Send reply").click()
    expect(page.get_by_role("link", name="after.txt")).to_be_visible()

    # closes and rates
    page.get_by_role("button", name="Close ticket").click()
    expect(page.locator("#ticket-status")).to_have_text("Closed")
    page.get_by_label("4").check()
    page.get_by_role("button", name="Rate").click()
    expect(page.locator("#rating")).to_have_text("You rated this ticket 4 of 5.")
    ticket.refresh_from_db()
    assert (ticket.status, ticket.rating) == ("closed", 4)
    assert [m.body for m in ticket.messages.order_by("id")] == [
        "Pages take 10 s to load.",
        "We enabled caching, please check.",
        "Much better now, thank you.",
    ]
