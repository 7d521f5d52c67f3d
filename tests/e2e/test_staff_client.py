"""Staff open a client, log in as that client, see the banner, leave (issue 13.2), in a real
browser: the admin index's search finds the client by email, the client page shows its
summary, "Log in as client" opens the client area with the staff banner on every page, and
"Leave the client area" returns to the client page. Saves docs/screenshots/admin-client.png."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client as HttpClient
from playwright.sync_api import Page, expect

from billow.accounts.models import AccountEvent
from tests.web import conftest as web_conftest
from tests.web.conftest import WebWorld

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
web = web_conftest.web  # the client-area world fixture


def test_staff_open_a_client_log_in_as_it_see_the_banner_and_leave(
    live_server: Any, page: Page, web: WebWorld
) -> None:
    # given a staff member logged in to the admin
    staff = User.objects.create_superuser("ops", "ops@billow.example", "x-strong-pass-9")
    http = HttpClient()
    http.force_login(staff, backend="django.contrib.auth.backends.ModelBackend")
    base = live_server.url
    session = http.cookies["sessionid"].value
    page.context.add_cookies([{"name": "sessionid", "value": session, "url": base}])
    page.set_viewport_size({"width": 1280, "height": 1000})
    client = web.a.client

    # when they search the client's email from the admin index and open it
    page.goto(f"{base}/admin/")
    page.fill("#billow-index-search", "owner-a@example.com")
    page.press("#billow-index-search", "Enter")
    expect(page.locator("#search-clients")).to_contain_text("Clients (1)")
    page.get_by_role("link", name=f"#{client.pk} {client.name}").click()

    # then the client page shows its status, balance, payer and service
    expect(page.locator("#cp-summary")).to_contain_text("Active")
    expect(page.locator("#cp-summary")).to_contain_text("$490.00")
    expect(page.locator("#cp-payers")).to_contain_text("Ann Payer")
    expect(page.locator("#cp-services")).to_contain_text("web-1")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "admin-client.png"), full_page=True)

    # when they log in as the client
    page.locator("#login-as-client").click()
    # then the client's dashboard opens under the staff banner, on every page
    banner = page.locator("#impersonation-banner")
    expect(banner).to_contain_text(f"logged in as client #{client.pk} {client.name}")
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    page.get_by_role("link", name="Services", exact=True).click()
    expect(banner).to_be_visible()
    expect(page.get_by_role("link", name="web-1").first).to_be_visible()
    # and the client's security page is refused
    page.goto(f"{base}/profile/")
    expect(page.get_by_text("cannot see or change its passwords or MFA")).to_be_visible()
    expect(banner).to_be_visible()

    # when they leave
    page.get_by_role("button", name="Leave the client area").click()
    # then they are back on the client page, without the banner
    expect(page.locator("#cp-summary")).to_be_visible()
    assert page.url == f"{base}/admin/accounts/client/{client.pk}/overview/"
    expect(page.locator("#impersonation-banner")).to_have_count(0)
    types = list(
        AccountEvent.objects.filter(type__startswith="client.impersonation")
        .order_by("id")
        .values_list("type", "actor_kind", "actor_id")
    )
    assert types == [
        ("client.impersonation_started", "staff", str(staff.pk)),
        ("client.impersonation_ended", "staff", str(staff.pk)),
    ]
