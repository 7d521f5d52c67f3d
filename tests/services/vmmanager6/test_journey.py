"""A client's VPS journey on VMmanager 6, through Billow's own actions against the local
VMmanager 6 server: the OS list synced, an order paid from the balance opens the VM, the VM
actions (start, stop, force stop, reboot, password, note), a paid resize (hot, then one that
needs a reboot), discovery and deletion. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from billow.billing.actions import change_addons, delete_service
from billow.catalog import actions as catalog
from billow.orders import actions as orders
from billow.orders import selectors as order_selectors
from billow.services import actions, discovery, vm_actions
from billow.services.models import OperationStatus, Service, ServiceOperation
from billow.services.modules.vmmanager6.os_sync import sync_os_values
from billow.services.modules.vmmanager6.testserver import RunningServer
from billow.services.states import ServiceStatus
from tests.billing.world import World

from .conftest import vmm_config, vmm_secrets

pytestmark = pytest.mark.django_db
DEBIAN = "ISPsystem__Debian 12"


def last_op(service: Service, operation: str) -> ServiceOperation:
    return service.operations.filter(operation=operation).latest("id")


def test_order_vm_actions_resize_discovery_and_delete(
    vmm: RunningServer, django_capture_on_commit_callbacks: Any
) -> None:
    jobs = django_capture_on_commit_callbacks  # operations run in their job after commit
    world = World()
    pt = world.product_type
    catalog.add_product_type_parameter(product_type=pt, name="Operating system", intname="os")
    instance = actions.create_module_instance(
        module="vmmanager6",
        name="vmm",
        config=vmm_config(vmm.url),
        secrets=vmm_secrets(),
        product_types=[pt],
    )
    # given the OS list synced from VMmanager and a tariff with CPU / RAM / disk addons
    assert sync_os_values(instance)[pt.intname]["added"] == 3
    tariff = world.tariff("Cloud-1", {"1m": 900})
    for intname, unit, lo, hi, step, price in (
        ("cpu", "vCPU", 1, 8, 1, 300),
        ("ram", "MiB", 1024, 8192, 512, 0),
        ("disk", "MiB", 10240, 40960, 5120, 0),
    ):
        catalog.create_addon(
            tariff=tariff,
            name=intname.upper(),
            intname=intname,
            unit=unit,
            value_type="int",
            billing_type="on_order",
            currency="USD",
            unit_price_minor=price,
            included=lo,
            min_value=lo,
            max_value=hi,
            step=step,
        )
    client = world.client(balance=10_000)
    client.providers.add(world.provider)

    # when the client orders 2 vCPU / 2 GiB / 10 GiB with Debian and pays from the balance
    item = order_selectors.ItemSpec(
        "vps", tariff.pk, "1m", {"cpu": 2, "ram": 2048, "disk": 10240}, {"os": DEBIAN}
    )
    with jobs(execute=True):
        result = orders.checkout(
            client=client, provider_id=world.provider.pk, items=[item], currency="USD"
        )
    assert result.paid
    # then 9.00 + 1 extra vCPU 3.00 is charged and the VM runs under the client's account
    assert world.balance(client) == 10_000 - 1200
    service = world.refresh(result.items[0].service)
    assert (service.status, service.parameters) == (ServiceStatus.ACTIVE, {"os": DEBIAN})
    vm = vmm.state.hosts[int(service.external_id)]
    assert (vm["name"], vm["state"], vm["cpu_number"], vm["ram_mib"], vm["os"]["name"]) == (
        f"billow-{service.pk}",
        "active",
        2,
        2048,
        "Debian 12",
    )
    assert vm["account"]["email"] == f"billow-client-{client.pk}@example.invalid"
    assert last_op(service, "open").result["ips"] == vm["ips"]

    # when the client stops, starts, force-stops, starts and reboots it
    for action, state in (
        ("stop", "stopped"),
        ("start", "active"),
        ("force_stop", "stopped"),
        ("start", "active"),
        ("reboot", "active"),
    ):
        with jobs(execute=True):
            op = vm_actions.request_vm_action(service=service, action=action)
        op.refresh_from_db()
        assert (op.status, op.result["state"], vm["state"]) == ("succeeded", state, state)
    assert vmm.state.actions_of(vm["id"]) == [
        "host_create",
        "host_stop",
        "host_start",
        "host_stop_force",
        "host_start",
        "host_restart",
    ]

    # and changes the root password and the note
    with jobs(execute=True):
        op = vm_actions.change_vm_password(service=service, password="N3w-password")
    op.refresh_from_db()
    assert op.status == OperationStatus.SUCCEEDED
    assert vmm.state.passwords[vm["id"]] == "N3w-password"
    assert "N3w-password" not in str(op.payload) + str(op.result)
    with jobs(execute=True):
        vm_actions.set_service_note(service=service, note="db primary")
    assert (last_op(service, "set_note").status, vm["comment"]) == ("succeeded", "db primary")

    # when it grows to 3 vCPU / 3 GiB (hot) and pays the extra vCPU for the month
    with jobs(execute=True):
        service = change_addons(service=service, addon_values={"cpu": 3, "ram": 3072})
    op = last_op(service, "set_param")
    assert (op.status, op.result["applied"]) == (
        "succeeded",
        {"resources": "hot", "disk": "unchanged"},
    )
    assert (vm["cpu_number"], vm["ram_mib"]) == (3, 3072)
    assert world.expenses(service)[-1] == ("charge", date(2027, 3, 1), date(2027, 4, 1), 300)
    # and then to 3.5 GiB RAM and a 15 GiB disk, which VMmanager applies with a reboot
    with jobs(execute=True):
        service = change_addons(service=service, addon_values={"ram": 3584, "disk": 15360})
    service, op = world.refresh(service), last_op(service, "set_param")
    assert op.result["applied"] == {"resources": "reboot", "disk": "grown"}
    assert vmm.state.actions_of(vm["id"])[-3:] == ["host_resource", "host_restart", "disk_resize"]
    assert (service.status, service.addon_values["ram"], op.result["disk_mib"]) == (
        ServiceStatus.ACTIVE,
        3584,
        15360,
    )

    # discovery: the service and its VM match; a VM made by hand in VMmanager is drift
    report = discovery.run_discovery(instance=instance)
    assert (report.remote_count, report.linked_count, report.drift) == (1, 1, [])
    vmm.state.hosts[500] = {**vm, "id": 500, "name": "made-by-hand", "disks": []}
    report = discovery.run_discovery(instance=instance)
    assert [(r.kind, r.external_id, r.name) for r in report.drift] == [
        ("vm_without_service", "500", "made-by-hand")
    ]
    del vmm.state.hosts[500]

    # when the client deletes the service, the VM is deleted in VMmanager
    with jobs(execute=True):
        delete_service(service=service, when="now")
    service = world.refresh(service)
    assert service.status == ServiceStatus.DELETED
    assert last_op(service, "close").status == "succeeded"
    assert vmm.state.hosts == {}
    assert discovery.run_discovery(instance=instance).rows == []
