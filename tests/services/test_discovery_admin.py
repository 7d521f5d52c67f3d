"""The staff Discovery page (module instance -> Discovery -> Start) and the VM admin actions."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client as Browser
from django.urls import reverse

from billow.accounts.models import Client
from billow.catalog.models import Tariff
from billow.services import actions, runner
from billow.services.models import ModuleInstance, Service, ServiceOperation, SystemMark
from billow.services.modules.dummy import store
from billow.services.states import ServiceStatus


@pytest.fixture
def staff(db: Any) -> Browser:
    user = get_user_model().objects.create_superuser("root", "root@example.com", "pw")
    browser = Browser()
    browser.force_login(user)
    return browser


def put(dummy: ModuleInstance, external_id: str) -> None:
    store(dummy.pk).objects[external_id] = {
        "external_id": external_id,
        "state": "running",
        "name": f"vm {external_id}",
    }


@pytest.mark.django_db
def test_discovery_page_start_adopt_and_mark(
    staff: Browser, dummy: ModuleInstance, client: Client, tariff: Tariff
) -> None:
    url = reverse("admin:services_moduleinstance_discovery", args=[dummy.pk])
    change = staff.get(reverse("admin:services_moduleinstance_change", args=[dummy.pk]))
    assert url.encode() in change.content or b"discovery" in change.content
    assert staff.get(url).status_code == 200
    put(dummy, "hand-1")
    put(dummy, "gw")
    page = staff.post(url, {"do": "start"})
    assert page.status_code == 200
    assert b"hand-1" in page.content and b"Adopt" in page.content
    staff.post(url, {"do": "mark_system", "external_id": "gw", "name": "gw"})
    assert SystemMark.objects.get().external_id == "gw"
    # adopt needs the tariff's parameters: refused with its code, nothing created
    page = staff.post(
        url,
        {
            "do": "adopt",
            "external_id": "hand-1",
            "client_id": client.pk,
            "tariff_id": tariff.pk,
            "period": "1m",
            "currency": "USD",
        },
    )
    assert b"missing_parameter" in page.content
    assert not Service.objects.exists()
    staff.post(
        url,
        {
            "do": "adopt",
            "external_id": "hand-1",
            "client_id": client.pk,
            "tariff_id": tariff.pk,
            "period": "1m",
            "currency": "USD",
            "parameters": "os=debian-12",
        },
    )
    adopted = Service.objects.get()
    assert (adopted.external_id, adopted.status) == ("hand-1", ServiceStatus.ACTIVE)
    page = staff.post(url, {"do": "start"})
    assert b"No drift" in page.content


@pytest.mark.django_db
def test_vm_admin_actions_queue_operations(staff: Browser, service: Service) -> None:
    runner.execute_operation(
        operation_id=actions.request_operation(service=service, operation="open").pk
    )
    url = reverse("admin:services_service_changelist")
    staff.post(url, {"action": "vm_reboot", "_selected_action": [service.pk]})
    op = ServiceOperation.objects.get(service=service, operation="reboot")
    assert op.status in ("queued", "succeeded")
    service.refresh_from_db()
    assert service.status == ServiceStatus.ACTIVE
