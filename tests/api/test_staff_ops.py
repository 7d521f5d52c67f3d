"""Staff API writes (issue 13.3): service operations, clients, payers, balance adjustments.
Scopes and model permissions, idempotent replay, the error shape, refusals writing nothing."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission

from billow.accounts.models import AccountEvent, Client, Payer
from billow.ledger.models import LedgerAccount, LedgerTransaction
from billow.services.models import Service, ServiceEvent
from tests.api.conftest import MONTH_PRICE, Tenant, bearer

pytestmark = pytest.mark.django_db
STAFF = ["staff:read", "staff:write"]


def post(api: Any, path: str, body: dict[str, Any], key: str | None = None) -> Any:
    return api.post(
        f"/api/v1/staff/{path}", body, format="json", HTTP_IDEMPOTENCY_KEY=key or uuid.uuid4().hex
    )


def staff_events(service: Service) -> list[tuple[str, str]]:
    return list(
        ServiceEvent.objects.filter(service=service, type__startswith="staff.")
        .order_by("id")
        .values_list("type", "data__reason")
    )


def test_service_operations_end_to_end(tenant_a: Tenant, staff_user: Any) -> None:
    api = bearer(staff_user, STAFF)
    svc = tenant_a.service
    paid = svc.paid_until
    r = post(api, f"services/{svc.pk}/suspend/", {"reason": "phishing site", "abuse": True})
    assert (r.status_code, r.json()["status"]) == (200, "suspended_abuse"), r.content
    r = post(api, f"services/{svc.pk}/resume/", {"reason": "removed"})
    assert (r.status_code, r.json()["status"]) == (200, "active")
    r = post(api, f"services/{svc.pk}/special-price/", {"amount_minor": 750, "reason": "deal"})
    assert r.status_code == 200
    r = post(api, f"services/{svc.pk}/renew/", {"charge": False, "reason": "outage"})
    assert r.status_code == 200
    svc.refresh_from_db()
    assert (svc.special_price_minor, svc.paid_until.month) == (750, paid.month % 12 + 1)
    r = post(api, f"services/{svc.pk}/paid-until/", {"paid_until": "2031-01-01", "reason": "x"})
    assert (r.status_code, r.json()["paid_until"]) == (200, "2031-01-01")
    r = post(api, f"services/{svc.pk}/attach/", {"external_id": "vm-1", "reason": "y"})
    assert (r.status_code, r.json()["code"]) == (400, "no_module_instance")
    r = post(api, f"services/{svc.pk}/rerun/", {"reason": "z"})
    assert (r.status_code, r.json()["code"]) == (409, "no_failed_operation")
    r = post(api, f"services/{svc.pk}/delete/", {"when": "now", "reason": "bye"})
    assert (r.status_code, r.json()["status"]) == (200, "deleted")
    assert staff_events(svc) == [
        ("staff.suspend", "phishing site"),
        ("staff.resume", "removed"),
        ("staff.set_special_price", "deal"),
        ("staff.renew", "outage"),
        ("staff.set_paid_until", "x"),
        ("staff.delete", "bye"),
    ]
    assert ServiceEvent.objects.filter(type="staff.suspend").get().actor_kind == "api_token"


def test_create_a_charged_service_and_replay_it(tenant_a: Tenant, staff_user: Any) -> None:
    api = bearer(staff_user, STAFF)
    balance = LedgerAccount.objects.get(client=tenant_a.client).balance_minor
    body = {
        "client_id": tenant_a.client.pk,
        "tariff_id": tenant_a.tariff.pk,
        "period": "1m",
        "currency": "USD",
        "charge": True,
        "reason": "phone order",
    }
    first = post(api, "services/", body, key="create-1")
    assert first.status_code == 201, first.content
    again = post(api, "services/", body, key="create-1")
    assert (again.status_code, again.json(), again.headers["Idempotent-Replayed"]) == (
        201,
        first.json(),
        "true",
    )
    assert Service.objects.filter(client=tenant_a.client).count() == 2
    assert LedgerAccount.objects.get(client=tenant_a.client).balance_minor == balance - MONTH_PRICE
    created = Service.objects.get(pk=first.json()["id"])
    assert (created.status, staff_events(created)) == ("active", [("staff.create", "phone order")])


def test_refusals_have_the_error_shape_and_write_nothing(tenant_a: Tenant, staff_user: Any) -> None:
    api = bearer(staff_user, STAFF)
    svc = tenant_a.service
    before = (ServiceEvent.objects.count(), LedgerTransaction.objects.count())
    r = post(api, f"services/{svc.pk}/resume/", {"reason": "nothing suspended"})
    assert r.status_code == 409
    assert r.json()["code"] == "operation_not_allowed"
    assert set(r.json()) >= {"code", "message", "details"}
    r = post(api, f"services/{svc.pk}/special-price/", {"amount_minor": 1, "reason": " "})
    assert (r.status_code, r.json()["code"]) == (400, "validation_error")
    r = post(
        api,
        "services/",
        {
            "client_id": tenant_a.client.pk,
            "tariff_id": tenant_a.tariff.pk,
            "period": "1m",
            "currency": "USD",
            "charge": True,
            "paid_until": "2031-01-01",
            "reason": "r",
        },
    )
    assert (r.status_code, r.json()["code"]) == (400, "paid_until_with_charge")
    assert (ServiceEvent.objects.count(), LedgerTransaction.objects.count()) == before
    assert api.post(f"/api/v1/staff/services/{svc.pk}/resume/", {"reason": "r"}).status_code == 400


def test_scopes_and_permissions(tenant_a: Tenant, staff_user: Any) -> None:
    svc = tenant_a.service
    body = {"reason": "r", "abuse": False}
    read_only = bearer(staff_user, ["staff:read"])
    assert post(read_only, f"services/{svc.pk}/suspend/", body).status_code == 403
    client_token = tenant_a.api()
    assert post(client_token, f"services/{svc.pk}/suspend/", body).status_code == 403
    clerk = get_user_model().objects.create_user("clerk", "c@example.com", "pw", is_staff=True)
    clerk.user_permissions.add(Permission.objects.get(codename="view_service"))
    assert post(bearer(clerk, STAFF), f"services/{svc.pk}/suspend/", body).status_code == 403
    svc.refresh_from_db()
    assert svc.status == "active" and not staff_events(svc)
    clerk.user_permissions.add(Permission.objects.get(codename="change_service"))
    clerk = get_user_model().objects.get(pk=clerk.pk)  # drop the permission cache
    assert post(bearer(clerk, STAFF), f"services/{svc.pk}/suspend/", body).status_code == 200


def test_balance_adjustment_is_idempotent(tenant_a: Tenant, staff_user: Any) -> None:
    api = bearer(staff_user, STAFF)
    account = LedgerAccount.objects.get(client=tenant_a.client)
    body = {
        "client_id": tenant_a.client.pk,
        "provider_id": tenant_a.world.provider.pk,
        "currency": "USD",
        "direction": "credit",
        "amount_minor": 1234,
        "reason": "goodwill",
    }
    first = post(api, "balance-adjustments/", body, key="adj-1")
    assert first.status_code == 201, first.content
    assert first.json()["balance_minor"] == account.balance_minor + 1234
    replay = post(api, "balance-adjustments/", body, key="adj-1")
    assert (replay.status_code, replay.json()) == (201, first.json())
    account.refresh_from_db()
    assert account.balance_minor == first.json()["balance_minor"]
    other = post(api, "balance-adjustments/", {**body, "amount_minor": 1}, key="adj-1")
    assert (other.status_code, other.json()["code"]) == (409, "idempotency_key_reused")
    refused = post(api, "balance-adjustments/", {**body, "reason": "  "})
    assert refused.status_code == 400
    account.refresh_from_db()
    assert account.balance_minor == first.json()["balance_minor"]


def test_clients_and_payers(tenant_a: Tenant, staff_user: Any) -> None:
    api = bearer(staff_user, STAFF)
    r = post(
        api,
        "clients/",
        {"email": "new@example.com", "name": "Newco", "provider_ids": [tenant_a.world.provider.pk]},
    )
    assert r.status_code == 201, r.content
    client = Client.objects.get(pk=r.json()["id"])
    r = api.patch(
        f"/api/v1/staff/clients/{client.pk}/", {"name": "Newco Ltd", "country": "DE"}, format="json"
    )
    assert (r.status_code, r.json()["name"], r.json()["country"]) == (200, "Newco Ltd", "DE")
    event = AccountEvent.objects.get(client=client, type="client.updated")
    assert event.data == {
        "name": {"from": "Newco", "to": "Newco Ltd"},
        "country": {"from": "", "to": "DE"},
    }
    r = api.patch(f"/api/v1/staff/clients/{client.pk}/", {"country": "XX"}, format="json")
    assert (r.status_code, r.json()["code"]) == (400, "unknown_country")
    assert Client.objects.get(pk=client.pk).country == "DE"
    r = api.post(
        f"/api/v1/staff/clients/{client.pk}/payers/",
        {"kind": "individual", "name": "Ann Smith"},
        format="json",
    )
    assert r.status_code == 201, r.content
    payer_id = r.json()["id"]
    r = api.patch(f"/api/v1/staff/payers/{payer_id}/", {"name": "Ann Jones"}, format="json")
    assert (r.status_code, r.json()["name"]) == (200, "Ann Jones")
    listed = api.get(f"/api/v1/staff/clients/{client.pk}/payers/").json()
    assert [p["name"] for p in listed["results"]] == ["Ann Jones"]
    assert Payer.objects.filter(client=client).count() == 1
