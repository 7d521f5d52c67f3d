"""OS images on the test driver: overlay on the OS base, cloud-init seed, pool addresses,
minimum disk, reinstall, release on delete (the real boot is in test_real_vps.py)."""

from __future__ import annotations

import json
from typing import Any

import libvirt
import pytest

from billow.services import actions, ip_pools, runner, vm_actions
from billow.services.errors import ServiceValidationError
from billow.services.models import IpAllocation, IpPool, OperationStatus, Service, ServiceOperation
from billow.services.modules.libvirt import client as lv_client
from billow.services.modules.libvirt.cloud_init import (
    GuestAddress,
    Seed,
    meta_data,
    network_config,
    seed_iso,
    user_data,
)
from billow.services.modules.libvirt.domain_xml import read_devices
from billow.services.secrets import decrypt_secrets

pytestmark = pytest.mark.django_db
BASE = "/images/debian-12.qcow2"


def run(op: ServiceOperation) -> ServiceOperation:
    runner.execute_operation(operation_id=op.pk)
    op.refresh_from_db()
    return op


@pytest.fixture
def os_instance(node: Any, make_instance: Any) -> Any:
    uri = node()
    instance = make_instance(uri, os_images={"debian-12": {"base": BASE, "min_disk_mib": 32}})
    IpPool.objects.create(
        module_instance=instance,
        name="v4",
        version=4,
        network="10.0.2.0/24",
        first_address="10.0.2.15",
        last_address="10.0.2.16",
        gateway="10.0.2.2",
        dns="10.0.2.3",
    )
    IpPool.objects.create(
        module_instance=instance,
        name="v6",
        version=6,
        network="fd00:1::/64",
        first_address="fd00:1::10",
        last_address="fd00:1::ffff",
        gateway="fd00:1::1",
    )
    return uri


def dom_of(uri: str, service: Service) -> Any:
    return lv_client.connection(uri).lookupByName(f"billow-{service.pk}")


def test_open_with_an_os_boots_an_overlay_with_a_seed_and_pool_addresses(
    os_instance: str, order: Any
) -> None:
    service = order(disk=32)
    op = run(actions.request_operation(service=service, operation="open"))
    assert op.status == OperationStatus.SUCCEEDED, (op.error_code, op.error_message)
    assert (op.result["os"], op.result["ips"]) == ("debian-12", ["10.0.2.15", "fd00:1::10"])
    password = decrypt_secrets(op.result["root_password_encrypted"])["password"]
    assert len(password) == 16
    dom = dom_of(os_instance, service)
    disks = dict(read_devices(dom.XMLDesc(0)).disks)
    assert disks["vda"].endswith(f"billow-{service.pk}.qcow2")
    assert disks["hdc"].endswith(f"billow-{service.pk}-seed.iso")
    assert "<mac address='52:54:00:" in dom.XMLDesc(0)
    assert dom.state()[0] == libvirt.VIR_DOMAIN_RUNNING
    # allocating again (a replayed open, a reinstall) keeps the addresses
    again = ip_pools.allocate_addresses(
        instance_id=service.module_instance_id, service_id=service.pk
    )
    assert [a.address for a in again] == ["10.0.2.15", "fd00:1::10"]
    assert IpAllocation.objects.filter(service=service).count() == 2


def test_a_disk_below_the_os_minimum_is_refused_without_allocating(
    os_instance: str, order: Any
) -> None:
    service = order(disk=16)
    op = run(actions.request_operation(service=service, operation="open"))
    assert (op.status, op.error_code) == (OperationStatus.FAILED, "disk_below_os_minimum")
    assert not IpAllocation.objects.exists()


def test_an_exhausted_pool_refuses_the_open(os_instance: str, order: Any) -> None:
    first, second = order(disk=32), order(disk=32)
    assert run(actions.request_operation(service=first, operation="open")).status == "succeeded"
    assert run(actions.request_operation(service=second, operation="open")).status == "succeeded"
    third = order(disk=32)
    op = run(actions.request_operation(service=third, operation="open"))
    assert (op.status, op.error_code) == (OperationStatus.FAILED, "ip_pool_exhausted")
    assert not IpAllocation.objects.filter(service=third).exists()


def test_delete_releases_the_addresses_and_removes_both_volumes(
    os_instance: str, order: Any
) -> None:
    service = order(disk=32)
    run(actions.request_operation(service=service, operation="open"))
    op = run(actions.request_operation(service=service, operation="close"))
    assert op.status == OperationStatus.SUCCEEDED
    assert op.result["addresses_released"] == 2
    assert sorted(v.rsplit("/", 1)[-1] for v in op.result["volumes_deleted"]) == [
        f"billow-{service.pk}-seed.iso",
        f"billow-{service.pk}.qcow2",
    ]
    assert ip_pools.service_addresses(service.pk) == []
    # the freed address goes to the next VM
    nxt = order(disk=32)
    assert run(actions.request_operation(service=nxt, operation="open")).result["ips"][0] == (
        "10.0.2.15"
    )


def test_reinstall_needs_confirmation_and_a_known_os(os_instance: str, order: Any) -> None:
    service = order(disk=32)
    run(actions.request_operation(service=service, operation="open"))
    service.refresh_from_db()
    for kwargs, code in (
        ({"confirm": False}, "confirmation_required"),
        ({"os": "windows-95"}, "invalid_parameter"),
        ({"password": "short"}, "invalid_password"),
        ({"ssh_key": "not a key"}, "invalid_ssh_key"),
    ):
        args = {"os": "debian-12", "password": "N3w-password", "confirm": True, **kwargs}
        with pytest.raises(ServiceValidationError) as err:
            vm_actions.reinstall_vm(service=service, **args)
        assert err.value.code == code
    assert not service.operations.filter(operation="reinstall").exists()


def test_reinstall_replaces_the_disk_keeps_the_addresses_and_records_the_os(
    os_instance: str, order: Any
) -> None:
    service = order(disk=32)
    run(actions.request_operation(service=service, operation="open"))
    service.refresh_from_db()
    op = vm_actions.reinstall_vm(
        service=service,
        os="debian-12",
        password="N3w-password",
        ssh_key="ssh-ed25519 AAAAC3Nza me@example",
        confirm=True,
    )
    assert "N3w-password" not in json.dumps(op.payload)
    op = run(op)
    assert op.status == OperationStatus.SUCCEEDED, (op.error_code, op.error_message)
    assert op.result["ips"] == ["10.0.2.15", "fd00:1::10"]
    assert "reinstall" in vm_actions.supported_vm_actions(service)
    service.refresh_from_db()
    assert service.parameters["os"] == "debian-12"
    assert dom_of(os_instance, service).state()[0] == libvirt.VIR_DOMAIN_RUNNING


def test_reinstall_to_an_os_the_host_has_no_image_for_fails_cleanly(
    os_instance: str, order: Any
) -> None:
    service = order(disk=32)
    run(actions.request_operation(service=service, operation="open"))
    service.refresh_from_db()
    op = run(
        vm_actions.reinstall_vm(
            service=service, os="ubuntu-24.04", password="N3w-password", confirm=True
        )
    )
    assert (op.status, op.error_code) == (OperationStatus.FAILED, "os_image_missing")
    service.refresh_from_db()
    assert service.parameters["os"] == "debian-12"


def test_the_seed_carries_hostname_password_key_and_static_network() -> None:
    seed = Seed(
        instance_id="billow-7-abc",
        hostname="vps-7",
        mac="52:54:00:aa:bb:cc",
        root_password='p"w: #1',
        ssh_keys=("ssh-ed25519 AAAA me",),
        addresses=(
            GuestAddress("10.0.2.15", 24, "10.0.2.2", ("10.0.2.3",)),
            GuestAddress("fd00:1::10", 64, "fd00:1::1"),
        ),
    )
    ud = user_data(seed)
    assert ud.startswith("#cloud-config\n")
    config = json.loads(ud.split("\n", 1)[1])
    assert config["hostname"] == "vps-7"
    assert config["chpasswd"]["users"] == [{"name": "root", "password": 'p"w: #1', "type": "text"}]
    assert config["ssh_authorized_keys"] == ["ssh-ed25519 AAAA me"]
    assert json.loads(meta_data(seed)) == {"instance-id": "billow-7-abc", "local-hostname": "vps-7"}
    assert json.loads(network_config(seed)) == {
        "version": 2,
        "ethernets": {
            "eth0": {
                "match": {"macaddress": "52:54:00:aa:bb:cc"},
                "set-name": "eth0",
                "addresses": ["10.0.2.15/24", "fd00:1::10/64"],
                "routes": [
                    {"to": "0.0.0.0/0", "via": "10.0.2.2"},
                    {"to": "::/0", "via": "fd00:1::1"},
                ],
                "nameservers": {"addresses": ["10.0.2.3"]},
            }
        },
    }
    iso = seed_iso(seed)
    assert iso[0x8001:0x8006] == b"CD001"
    assert iso[0x8028:0x8030] == b"cidata  "
    assert b"instance-id" in iso and b"network-config" in iso
