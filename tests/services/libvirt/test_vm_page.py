"""The client's service page shows the VM (OS, addresses, resources, power state polled
from the host, reinstall form) on the test driver; the OS shows on the priced tariff line
that the cart, the order and the invoice copy."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client as HttpClient

from billow.accounts import actions as accounts
from billow.catalog import pricing
from billow.catalog.selectors import get_tariff_info
from billow.services import actions, runner
from billow.services.models import IpPool, Service

pytestmark = pytest.mark.django_db


def login(client: Any) -> HttpClient:
    http = HttpClient()
    user = client.users.get(is_owner=True).user
    http.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return http


@pytest.fixture
def vm(node: Any, make_instance: Any, provider: Any, tiny_tariff: Any) -> tuple[Service, Any]:
    instance = make_instance(
        node(), os_images={"debian-12": {"base": "/images/debian-12.qcow2", "min_disk_mib": 16}}
    )
    IpPool.objects.create(
        module_instance=instance,
        name="v4",
        network="10.0.2.0/24",
        first_address="10.0.2.15",
        last_address="10.0.2.30",
        gateway="10.0.2.2",
    )
    owner = accounts.create_client(email="vm@example.com", providers=[provider], password="x" * 12)
    service = actions.create_service(
        client=owner,
        tariff=tiny_tariff,
        period="1m",
        currency="USD",
        addon_values={"cpu": 1, "ram": 64, "disk": 16},
        parameters={"os": "debian-12"},
    )
    runner.execute_operation(
        operation_id=actions.request_operation(service=service, operation="open").pk
    )
    service.refresh_from_db()
    return service, owner


def test_the_page_shows_os_addresses_resources_state_and_reinstall(vm: Any) -> None:
    service, owner = vm
    http = login(owner)
    page = http.get(f"/services/{service.pk}/").content.decode()
    assert 'id="h-server"' in page
    assert '<dd id="vm-os">Debian 12</dd>' in page
    assert '<dd id="vm-ips"><code>10.0.2.15</code></dd>' in page
    assert 'id="vm-reinstall"' in page and 'value="force_stop"' in page
    assert "64 MiB" in page  # resources
    state = http.get(f"/services/{service.pk}/vm/state/").content.decode()
    assert 'class="pill vm-running"' in state and 'hx-trigger="every 15s"' in state


def test_reinstall_from_the_page_needs_the_confirmation(vm: Any) -> None:
    service, owner = vm
    http = login(owner)
    form = {"os": "debian-12", "password": "N3w-password"}
    refused = http.post(f"/services/{service.pk}/vm/reinstall/", form, follow=True)
    assert "confirmation_required" in refused.content.decode()
    assert not service.operations.filter(operation="reinstall").exists()
    done = http.post(
        f"/services/{service.pk}/vm/reinstall/", {**form, "confirm": "yes"}, follow=True
    )
    assert "The reinstall was requested" in done.content.decode()
    assert service.operations.filter(operation="reinstall").count() == 1


def test_another_clients_vm_state_and_reinstall_are_not_found(vm: Any, provider: Any) -> None:
    service, _ = vm
    other = accounts.create_client(email="eve@example.com", providers=[provider], password="y" * 12)
    http = login(other)
    assert http.get(f"/services/{service.pk}/vm/state/").status_code == 404
    form = {"os": "debian-12", "password": "N3w-password", "confirm": "yes"}
    assert http.post(f"/services/{service.pk}/vm/reinstall/", form).status_code == 404
    assert not service.operations.filter(operation="reinstall").exists()


def test_the_tariff_line_names_the_chosen_os(tiny_tariff: Any) -> None:
    info = get_tariff_info(tiny_tariff.pk, "USD")
    lines = pricing.price_tariff(
        info, period="1m", addon_values={}, currency="USD", parameters={"os": "ubuntu-24.04"}
    )
    assert lines[0].description == "VPS-Tiny (1m), Operating system: Ubuntu 24.04"
    plain = pricing.price_tariff(info, period="1m", addon_values={}, currency="USD")
    assert plain[0].description == "VPS-Tiny (1m)"


def test_console_tickets_are_signed_and_short_lived(settings: Any) -> None:
    from django.core import signing

    from billow.services import console

    token = signing.dumps({"s": 1, "h": "127.0.0.1", "p": 5901}, salt=console.SALT)
    assert console.ticket_target(token) == ("127.0.0.1", 5901)
    assert console.ticket_target(token[:-2] + "xx") is None  # forged
    assert console.ticket_target(token, max_age=-1) is None  # expired
    other_salt = signing.dumps({"s": 1, "h": "10.0.0.1", "p": 22}, salt="elsewhere")
    assert console.ticket_target(other_salt) is None


def test_the_console_page_is_the_owners_only_and_needs_a_running_display(
    vm: Any, provider: Any, settings: Any
) -> None:
    service, owner = vm
    page = login(owner).get(f"/services/{service.pk}/").content.decode()
    assert 'id="vm-console"' not in page  # no proxy configured: no button
    settings.BILLOW_CONSOLE_PROXY_URL = "ws://127.0.0.1:6080"
    page = login(owner).get(f"/services/{service.pk}/").content.decode()
    assert 'id="vm-console"' in page
    # the test driver's domains have no VNC display: refused with the code, no ticket
    refused = login(owner).get(f"/services/{service.pk}/console/", follow=True)
    assert "console_unavailable" in refused.content.decode()
    other = accounts.create_client(email="eve@example.com", providers=[provider], password="y" * 12)
    assert login(other).get(f"/services/{service.pk}/console/").status_code == 404
