"""Staff writes on what discovery found (dummy module): adopt a VM as a client's active service,
mark / unmark a system VM, and recreate (refused where the module cannot); refusals change
nothing; client tokens never reach these endpoints."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from billow.services.models import ModuleInstance, Service, ServiceOperation, SystemMark
from billow.services.modules.dummy import reset_store, store
from tests.api.conftest import Tenant, bearer

pytestmark = pytest.mark.django_db
STAFF = ["staff:read", "staff:write"]


@pytest.fixture
def dummy(tenant_a: Tenant) -> Any:
    reset_store()
    instance = ModuleInstance.objects.create(module="dummy", name="dummy-staff")
    instance.product_types.add(tenant_a.tariff.product_type)
    for name in ("hand-1", "router"):
        store(instance.pk).objects[name] = {
            "external_id": name,
            "state": "running",
            "service_id": None,
            "name": name,
        }
    yield instance
    reset_store()


def url(instance: ModuleInstance, rest: str) -> str:
    return f"/api/v1/staff/module-instances/{instance.pk}/discovery/{rest}"


def post(api: Any, path: str, body: dict[str, Any] | None = None) -> Any:
    return api.post(path, body or {}, format="json", HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex)


def test_adopt_then_mark_system_leaves_no_drift(
    tenant_a: Tenant, staff_user: Any, dummy: ModuleInstance
) -> None:
    api = bearer(staff_user, STAFF)
    body = {
        "external_id": "hand-1",
        "client_id": tenant_a.client.pk,
        "tariff_id": tenant_a.tariff.pk,
        "period": "1m",
        "currency": "USD",
        "paid_until": "2030-01-31",
    }
    r = post(api, url(dummy, "adopt/"), body)
    assert r.status_code == 201, r.content
    adopted = Service.objects.get(pk=r.json()["id"])
    assert (adopted.client_id, adopted.status, adopted.external_id, str(adopted.paid_until)) == (
        tenant_a.client.pk,
        "active",
        "hand-1",
        "2030-01-31",
    )
    # adopting it again is refused and writes nothing
    before = Service.objects.count()
    again = post(api, url(dummy, "adopt/"), body)
    assert (again.status_code, again.json()["code"]) == (409, "remote_object_linked")
    assert Service.objects.count() == before
    r = post(api, url(dummy, "system/"), {"external_id": "router", "note": "core router"})
    assert (r.status_code, r.json()["external_id"], r.json()["note"]) == (
        201,
        "router",
        "core router",
    )
    report = api.get(url(dummy, "")).json()
    assert report["counts"]["vm_without_service"] == 0 and report["counts"]["system"] == 1
    r = post(api, url(dummy, "system/remove/"), {"external_id": "router"})
    assert (r.status_code, r.json()) == (200, {"removed": 1})
    assert not SystemMark.objects.exists()


def test_refusals_and_who_may_call(
    tenant_a: Tenant, staff_user: Any, dummy: ModuleInstance
) -> None:
    api = bearer(staff_user, STAFF)
    missing = post(
        api,
        url(dummy, "adopt/"),
        {
            "external_id": "nope",
            "client_id": tenant_a.client.pk,
            "tariff_id": tenant_a.tariff.pk,
            "period": "1m",
            "currency": "USD",
        },
    )
    assert (missing.status_code, missing.json()["code"]) == (400, "remote_object_not_found")
    ops = ServiceOperation.objects.count()
    r = post(api, f"/api/v1/staff/services/{tenant_a.service.pk}/recreate/")
    assert (r.status_code, r.json()["code"]) == (400, "recreate_unsupported")
    assert ServiceOperation.objects.count() == ops
    # a client's token (all client scopes) is refused on every staff write
    client = tenant_a.api()
    for path in (
        url(dummy, "adopt/"),
        url(dummy, "system/"),
        f"/api/v1/staff/services/{tenant_a.service.pk}/recreate/",
    ):
        assert post(client, path, {"external_id": "router"}).status_code in (401, 403)
    # reading only is not enough to write
    reader = bearer(staff_user, ["staff:read"])
    assert post(reader, url(dummy, "system/"), {"external_id": "router"}).status_code == 403
    assert not SystemMark.objects.exists()
    assert Service.objects.filter(external_id="hand-1").count() == 0
