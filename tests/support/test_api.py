"""The support API: open (idempotent), read, reply with an attachment, close, rate."""

from __future__ import annotations

import base64

import pytest

from billow.support.models import Department, Ticket
from tests.api.conftest import Tenant, tenant_a, tenant_b  # noqa: F401 - fixtures


@pytest.fixture
def department(db) -> Department:
    return Department.objects.create(name="Helpdesk")


def test_client_opens_replies_closes_and_rates(tenant_a: Tenant, department) -> None:  # noqa: F811
    api = tenant_a.api()
    body = {
        "department_id": department.pk,
        "subject": "Disk full",
        "body": "Please help",
        "service_id": tenant_a.service.pk,
    }
    first = api.post("/api/v1/tickets/", body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    again = api.post("/api/v1/tickets/", body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == 201, first.content
    assert again.json() == first.json()
    assert Ticket.objects.count() == 1
    data = first.json()
    assert (data["status"], data["status_label"], data["service_id"]) == (
        "new",
        "New",
        tenant_a.service.pk,
    )
    ticket_id = data["id"]
    log = {"name": "df.txt", "content_base64": base64.b64encode(b"100%").decode()}
    reply = api.post(
        f"/api/v1/tickets/{ticket_id}/messages/",
        {"body": "Here is df", "attachments": [log]},
        format="json",
        HTTP_IDEMPOTENCY_KEY="k-2",
    )
    assert reply.status_code == 201, reply.content
    messages = reply.json()["messages"]
    assert [m["body"] for m in messages] == ["Please help", "Here is df"]
    attachment = messages[1]["attachments"][0]
    assert (attachment["name"], attachment["size"]) == ("df.txt", 4)
    download = api.get(f"/api/v1/tickets/attachments/{attachment['id']}/")
    assert b"".join(download.streaming_content) == b"100%"
    refused = api.post(f"/api/v1/tickets/{ticket_id}/rate/", {"rating": 5}, format="json")
    assert (refused.status_code, refused.json()["code"]) == (409, "ticket_not_closed")
    closed = api.post(f"/api/v1/tickets/{ticket_id}/close/", format="json")
    assert closed.json()["status"] == "closed"
    rated = api.post(f"/api/v1/tickets/{ticket_id}/rate/", {"rating": 5}, format="json")
    assert rated.json()["rating"] == 5
    listed = api.get("/api/v1/tickets/?status=closed").json()
    assert [t["id"] for t in listed["results"]] == [ticket_id]


def test_other_clients_ticket_is_404(tenant_a: Tenant, tenant_b: Tenant, department) -> None:  # noqa: F811
    created = tenant_a.api().post(
        "/api/v1/tickets/",
        {"department_id": department.pk, "subject": "A", "body": "a"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="k-a",
    )
    ticket_id = created.json()["id"]
    api_b = tenant_b.api()
    assert api_b.get(f"/api/v1/tickets/{ticket_id}/").status_code == 404
    response = api_b.post(
        f"/api/v1/tickets/{ticket_id}/messages/",
        {"body": "x"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="k-b",
    )
    assert response.status_code == 404
    assert api_b.get("/api/v1/tickets/").json()["results"] == []
