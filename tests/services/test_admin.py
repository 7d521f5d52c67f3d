"""Admin smoke tests: pages render, actions go through the actions layer."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from billow.services import runner
from billow.services.models import ModuleInstance, Service, ServiceOperation


@pytest.fixture
def staff(db):
    user = get_user_model().objects.create_superuser("root", "root@example.com", "pw")
    browser = Client()
    browser.force_login(user)
    return browser


@pytest.mark.django_db
@pytest.mark.parametrize("model", ["service", "moduleinstance", "serviceoperation", "task"])
def test_changelists_render(staff, service, model):
    assert staff.get(reverse(f"admin:services_{model}_changelist")).status_code == 200


@pytest.mark.django_db
def test_service_page_and_suspend_action(staff, service):
    assert staff.get(reverse("admin:services_service_change", args=[service.pk])).status_code == 200
    url = reverse("admin:services_service_changelist")
    # an ordered service cannot be suspended: refused with its code, nothing written
    page = staff.post(
        url, {"action": "suspend_services", "_selected_action": [service.pk]}, follow=True
    )
    assert b"operation_not_allowed" in page.content
    assert not ServiceOperation.objects.exists()
    Service.objects.filter(pk=service.pk).update(status="active")
    staff.post(url, {"action": "suspend_services", "_selected_action": [service.pk]})
    op = ServiceOperation.objects.get(service=service)
    assert (op.operation, op.payload, op.status) == (
        "suspend",
        {"target_status": "suspended_staff"},
        "queued",
    )  # dispatched on commit


@pytest.mark.django_db
def test_module_instance_form_encrypts_write_only_secrets(staff, vps_type):
    url = reverse("admin:services_moduleinstance_add")
    data = {
        "module": "dummy",
        "name": "hv-2",
        "priority": 5,
        "is_active": "on",
        "department": "ops",
        "config": '{"latency_ms": 3}',
        "product_types": [vps_type.pk],
        "secrets": '{"password": "s3cret"}',
    }
    response = staff.post(url, data)
    assert response.status_code == 302, response.content[:2000]
    inst = ModuleInstance.objects.get(name="hv-2")
    assert inst.config == {"latency_ms": 3, "fail_mode": "none", "fail_times": 1}
    assert runner.build_module(inst).secrets == {"password": "s3cret"}
    page = staff.get(reverse("admin:services_moduleinstance_change", args=[inst.pk]))
    assert b"s3cret" not in page.content and inst.secrets_encrypted.encode() not in page.content
    bad = staff.post(url, {**data, "name": "hv-3", "config": '{"fail_mode": "often"}'})
    assert bad.status_code == 200 and not ModuleInstance.objects.filter(name="hv-3").exists()
