"""VM endpoints: the supported actions and note, power actions, password, note; and staff
discovery of a module instance (dummy module: start, stop, reboot)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from billow.services.models import ModuleInstance, Service, ServiceOperation
from tests.api.conftest import Tenant, bearer

pytestmark = pytest.mark.django_db


def on_dummy(t: Tenant) -> ModuleInstance:
    instance = ModuleInstance.objects.create(module="dummy", name=f"dummy-{t.client.pk}")
    Service.objects.filter(pk=t.service.pk).update(module_instance=instance, external_id="vm-1")
    return instance


def post(api: Any, url: str, body: dict[str, Any]) -> Any:
    return api.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex)


def vm_url(t: Tenant, rest: str = "") -> str:
    return f"/api/v1/services/{t.service.pk}/vm/{rest}"


def test_vm_lists_the_module_actions_and_the_note(tenant_a: Tenant) -> None:
    api = tenant_a.api()
    assert api.get(vm_url(tenant_a)).json() == {"actions": [], "note": ""}
    on_dummy(tenant_a)
    assert api.get(vm_url(tenant_a)).json() == {"actions": ["start", "stop", "reboot"], "note": ""}


def test_a_power_action_queues_an_operation(tenant_a: Tenant) -> None:
    on_dummy(tenant_a)
    r = tenant_a.api().post(
        vm_url(tenant_a, "actions/"),
        {"action": "reboot"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="k-reboot-1",
    )
    assert r.status_code == 202, r.content
    op = ServiceOperation.objects.get(service=tenant_a.service)
    assert r.json()["id"] == op.pk
    assert r.json()["operation"] == "reboot"
    assert r.json()["status"] == op.status


def test_an_action_the_module_lacks_is_refused(tenant_a: Tenant) -> None:
    api = tenant_a.api()
    # no module at all, then a power action the dummy module does not offer
    bare = post(api, vm_url(tenant_a, "actions/"), {"action": "start"})
    on_dummy(tenant_a)
    reset = post(api, vm_url(tenant_a, "actions/"), {"action": "reset"})
    bad = post(api, vm_url(tenant_a, "actions/"), {"action": "explode"})
    assert (bare.status_code, bare.json()["code"]) == (400, "no_module_instance")
    assert (reset.status_code, reset.json()["code"]) == (400, "unknown_operation")
    assert bad.status_code == 400
    assert bad.json()["code"] == "validation_error"
    assert not ServiceOperation.objects.filter(service=tenant_a.service).exists()


def test_password_change_is_refused_without_the_guest_agent_action(tenant_a: Tenant) -> None:
    on_dummy(tenant_a)
    api = tenant_a.api()
    short = post(api, vm_url(tenant_a, "password/"), {"password": "short"})
    assert short.status_code == 400
    assert short.json()["code"] == "invalid_password"
    r = post(api, vm_url(tenant_a, "password/"), {"password": "long-enough-1"})
    assert (r.status_code, r.json()["code"]) == (400, "unknown_operation")
    assert not ServiceOperation.objects.filter(service=tenant_a.service).exists()


def test_note_is_stored_with_put_and_post(tenant_a: Tenant) -> None:
    api = tenant_a.api()
    r = api.put(vm_url(tenant_a, "note/"), {"note": " hello "}, format="json")
    assert r.status_code == 200, r.content
    assert r.json() == {"actions": [], "note": "hello"}
    assert (
        api.post(vm_url(tenant_a, "note/"), {"note": "x" * 2001}, format="json").json()["code"]
        == "note_too_long"
    )
    assert Service.objects.get(pk=tenant_a.service.pk).note == "hello"


def test_vm_writes_need_the_write_scope(tenant_a: Tenant) -> None:
    api = tenant_a.api(["services:read"])
    assert api.get(vm_url(tenant_a)).status_code == 200
    r = post(api, vm_url(tenant_a, "actions/"), {"action": "reboot"})
    assert r.status_code == 403


def test_staff_discovery_lists_the_rows(tenant_a: Tenant, staff_user: Any) -> None:
    instance = on_dummy(tenant_a)
    Service.objects.filter(pk=tenant_a.service.pk).update(status="active")
    r = bearer(staff_user, ["staff:read"]).get(
        f"/api/v1/staff/module-instances/{instance.pk}/discovery/"
    )
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["instance_id"] == instance.pk
    assert body["remote_count"] == 0
    assert body["counts"] == {"vm_without_service": 0, "service_without_vm": 1, "system": 0}
    assert body["rows"][0]["kind"] == "service_without_vm"
    assert body["rows"][0]["service_id"] == tenant_a.service.pk
    missing = bearer(staff_user, ["staff:read"]).get(
        "/api/v1/staff/module-instances/999999/discovery/"
    )
    assert missing.status_code == 404
