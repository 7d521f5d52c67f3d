"""The staff client page and "log in as client" (issue 13.2): the page shows the client's
status, balances, payers, services, statement and activity; staff with the permission log in
as the client (audited), see the banner on every client-area page, cannot reach the client's
password or MFA pages, and leave back to the admin."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import Permission, User
from django.test import Client as HttpClient

from billow.accounts.models import AccountEvent, ClientStatus
from billow.billing.client_status import derive_client_statuses, refresh_client_statuses
from billow.core import clock
from billow.web.admin_client import get_client_overview
from tests.web.conftest import WebWorld, login

pytestmark = pytest.mark.django_db


def _page(http: HttpClient, client_id: int) -> str:
    resp = http.get(f"/admin/accounts/client/{client_id}/overview/")
    assert resp.status_code == 200
    return resp.content.decode()


def test_client_page_shows_summary_services_money_and_activity(
    web: WebWorld, admin_client: HttpClient
) -> None:
    a = web.a
    html = _page(admin_client, a.client.pk)
    assert f"Client #{a.client.pk} {a.client.name}" in html
    assert '<span class="cp-status-active">Active</span>' in html
    assert web.world.balance(a.client) == 49000
    assert '<div class="cp-balance">$490.00</div>' in html
    assert "Ann Payer" in html and "Not verified" in html
    assert ">web-1<" in html and "Services (1)" in html
    assert "owner-a@example.com (owner)" in html
    assert "limited-a@example.com" in html
    # the statement, newest first, with the balance after each row (the top-up is dated now,
    # the opening charge back in 2025)
    statement = get_client_overview(a.client).statement
    assert [(e.amount_minor, e.balance_minor) for e in statement] == [
        (50000, 49000),
        (-1000, -1000),
    ]
    assert html.index("$500.00") < html.index("-$10.00")
    assert "client.created" in html  # activity: account events
    assert 'id="login-as-client"' in html
    # another client's page shows its own data only
    assert "owner-a@example.com" not in _page(admin_client, web.b.client.pk)


def test_staff_without_view_permission_get_403(web: WebWorld) -> None:
    staff = User.objects.create_user("desk", "desk@example.com", "x", is_staff=True)
    resp = login(staff).get(f"/admin/accounts/client/{web.a.client.pk}/overview/")
    assert resp.status_code == 403


def test_log_in_as_client_shows_banner_refuses_security_pages_and_leaves(
    web: WebWorld, admin_client: HttpClient, admin_user: User
) -> None:
    a = web.a
    # when staff log in as client A
    resp = admin_client.post(f"/admin/accounts/client/{a.client.pk}/login-as/")
    assert (resp.status_code, resp["Location"]) == (302, "/")
    started = AccountEvent.objects.get(type="client.impersonation_started")
    assert (started.client_id, started.actor_kind, started.actor_id) == (
        a.client.pk,
        "staff",
        str(admin_user.pk),
    )
    assert started.data == {"ip": "127.0.0.1", "as_user_id": a.owner.pk}
    # then every client-area page shows the banner and acts for client A
    for path in ("/", "/services/", f"/services/{a.service.pk}/", "/billing/"):
        html = admin_client.get(path).content.decode()
        assert 'id="impersonation-banner"' in html, path
        assert f"logged in as client #{a.client.pk} {a.client.name}" in html
    assert "web-1" in admin_client.get("/services/").content.decode()
    # and the client's password, email and MFA pages are refused
    for path in ("/profile/", "/accounts/password/change/", "/accounts/2fa/", "/accounts/email/"):
        assert admin_client.get(path).status_code == 403, path
    # when staff leave
    resp = admin_client.post("/staff/leave-client/")
    assert resp["Location"] == f"/admin/accounts/client/{a.client.pk}/overview/"
    ended = AccountEvent.objects.get(type="client.impersonation_ended")
    assert (ended.actor_kind, ended.actor_id) == ("staff", str(admin_user.pk))
    # then the client area is no longer theirs: staff land on the admin again
    assert admin_client.get("/")["Location"] == "/admin/"
    assert admin_client.get("/accounts/2fa/").status_code == 200


def test_staff_without_the_permission_cannot_log_in_as_client(web: WebWorld) -> None:
    staff = User.objects.create_user("desk", "desk@example.com", "x", is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="view_client"))
    http = login(staff)
    resp = http.post(f"/admin/accounts/client/{web.a.client.pk}/login-as/")
    assert resp.status_code == 403
    assert not AccountEvent.objects.filter(type__startswith="client.impersonation").exists()
    assert "impersonation-banner" not in http.get("/").content.decode()
    # with the permission, they may
    staff.user_permissions.add(Permission.objects.get(codename="impersonate_client"))
    http = login(User.objects.get(pk=staff.pk))
    assert http.post(f"/admin/accounts/client/{web.a.client.pk}/login-as/").status_code == 302
    assert AccountEvent.objects.filter(type="client.impersonation_started").count() == 1


def test_log_in_as_a_client_without_enabled_owner_is_refused(
    web: WebWorld, admin_client: HttpClient
) -> None:
    web.a.client.users.filter(is_owner=True).update(is_active=False)
    resp = admin_client.post(f"/admin/accounts/client/{web.a.client.pk}/login-as/")
    assert resp["Location"] == f"/admin/accounts/client/{web.a.client.pk}/overview/"
    assert not AccountEvent.objects.filter(type__startswith="client.impersonation").exists()
    assert admin_client.get("/")["Location"] == "/admin/"


def test_client_status_follows_services_and_balance_movements(web: WebWorld) -> None:
    w = web.world
    now = clock.now()
    idle = w.client()  # no service, no balance movement
    paid = w.client(balance=1000)  # a top-up now
    ids = [web.a.client.pk, idle.pk, paid.pk]
    assert derive_client_statuses(client_ids=ids, now=now) == {
        web.a.client.pk: ClientStatus.ACTIVE,
        idle.pk: ClientStatus.INACTIVE,
        paid.pk: ClientStatus.ACTIVE,
    }
    # 91 days later the top-up no longer counts; A's active service still does
    later = now + timedelta(days=91)
    assert derive_client_statuses(client_ids=ids, now=later)[paid.pk] == ClientStatus.INACTIVE
    assert derive_client_statuses(client_ids=ids, now=later)[web.a.client.pk] == "active"


def test_refresh_client_statuses_stores_the_derived_status_once(web: WebWorld) -> None:
    a, b = web.a.client, web.b.client
    assert {a.status, b.status} == {ClientStatus.INACTIVE}
    moment = datetime(2031, 1, 1, tzinfo=UTC)
    assert refresh_client_statuses(now=moment) == 2
    a.refresh_from_db()
    assert a.status == ClientStatus.ACTIVE
    event = AccountEvent.objects.get(client=a, type="client.status_changed")
    assert (event.actor_kind, event.data) == ("job", {"from": "inactive", "to": "active"})
    assert refresh_client_statuses(now=moment) == 0  # nothing changes twice
