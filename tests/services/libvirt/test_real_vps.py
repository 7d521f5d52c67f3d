"""Acceptance on a REAL libvirtd + QEMU: a VPS ordered with an OS boots the Debian 12
cloud-init image of ``scripts/vm-image.sh`` from an overlay, cloud-init sets hostname, root
password and the pool address; password change and reinstall work; delete releases the IP.

One test, one guest, two boots (open and reinstall): under TCG a boot to "cloud-init done"
takes ~100-160 s, so the journey shares the guest instead of booting per check. The guest is
checked only through the QEMU guest agent (user-mode networking: no traffic from the host to
the guest). Skipped without root + libvirtd (``scripts/libvirt-up.sh``) or without the image
(``BILLOW_VM_IMAGE``, default the cache of scripts/vm-image.sh). Marker: ``libvirt``.
"""

from __future__ import annotations

import base64
import json
import os
import time
from pathlib import Path
from typing import Any

import libvirt
import libvirt_qemu
import pytest
from django.db import connection

from billow.accounts.models import Client
from billow.catalog import actions as catalog
from billow.catalog.models import ProductType, Tariff
from billow.services import actions, ip_pools, runner, vm_actions
from billow.services.models import IpPool, OperationStatus, Service, ServiceOperation
from billow.services.modules.libvirt import client as lv_client
from billow.services.modules.libvirt.domain_xml import read_devices
from billow.services.secrets import decrypt_secrets

from .conftest import POOL, REAL_URI, real_libvirt_reachable

IMAGE = os.environ.get(
    "BILLOW_VM_IMAGE",
    "/var/tmp/billow-vm-images/debian-12-cloudinit.qcow2",  # noqa: S108 - scripts/vm-image.sh cache
)
pytestmark = [
    pytest.mark.libvirt,
    pytest.mark.django_db,
    pytest.mark.skipif(not real_libvirt_reachable(), reason="no libvirtd at qemu:///system"),
    pytest.mark.skipif(not Path(IMAGE).is_file(), reason="no VM image (scripts/vm-image.sh)"),
    # the boots cost minutes: scripts/test.sh runs them in the SQLite pass only (the pool's
    # concurrency, which needs PostgreSQL, is tested without a guest)
    pytest.mark.skipif(
        connection.vendor == "postgresql" and not os.environ.get("BILLOW_REAL_VPS_ON_PG"),
        reason="real boots run in the SQLite pass",
    ),
]
PREFIX = f"bos{os.getpid()}-"
BOOT_TIMEOUT_S = int(os.environ.get("BILLOW_VM_BOOT_TIMEOUT", "600"))  # TCG on a busy host: more
SHADOW_CHECK = (
    "import crypt,sys;pw=sys.stdin.read();"
    "h=[l.split(':')[1] for l in open('/etc/shadow') if l.startswith('root:')][0];"
    "print('match' if crypt.crypt(pw,h)==h else 'nomatch')"
)


def agent(dom: Any, command: str, arguments: dict[str, Any] | None = None) -> Any:
    payload = {"execute": command, **({"arguments": arguments} if arguments else {})}
    return json.loads(libvirt_qemu.qemuAgentCommand(dom, json.dumps(payload), 30, 0))["return"]


def gexec(dom: Any, argv: list[str], stdin: str | None = None, timeout: float = 300) -> str:
    args: dict[str, Any] = {"path": argv[0], "arg": argv[1:], "capture-output": True}
    if stdin is not None:
        args["input-data"] = base64.b64encode(stdin.encode()).decode()
    pid = agent(dom, "guest-exec", args)["pid"]
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        status = agent(dom, "guest-exec-status", {"pid": pid})
        if status.get("exited"):
            return base64.b64decode(status.get("out-data", "")).decode(errors="replace")
        time.sleep(0.5)
    raise TimeoutError(f"guest-exec {argv} did not finish in {timeout}s")


def wait_provisioned(dom: Any, boot_id: str = "") -> str:
    """Wait for the agent of a (new) boot, then for cloud-init to finish; the boot id."""
    end = time.monotonic() + BOOT_TIMEOUT_S
    while time.monotonic() < end:
        try:
            current = gexec(dom, ["/bin/cat", "/proc/sys/kernel/random/boot_id"], timeout=20)
        except (libvirt.libvirtError, TimeoutError, KeyError):
            current = ""
        if current.strip() and current.strip() != boot_id:
            status = gexec(dom, ["/usr/bin/cloud-init", "status", "--wait"], timeout=BOOT_TIMEOUT_S)
            assert "status: done" in status, status
            return current.strip()
        time.sleep(2)
    raise AssertionError("the guest agent never answered")


def password_is(dom: Any, password: str) -> bool:
    return gexec(
        dom, ["/usr/bin/python3", "-W", "ignore", "-c", SHADOW_CHECK], password
    ).strip() == ("match")


def ipv4(dom: Any) -> dict[str, list[str]]:
    return {
        i["name"]: [
            a["ip-address"] for a in i.get("ip-addresses", []) if a["ip-address-type"] == "ipv4"
        ]
        for i in agent(dom, "guest-network-get-interfaces")
    }


def run(op: ServiceOperation) -> ServiceOperation:
    runner.execute_operation(operation_id=op.pk)
    op.refresh_from_db()
    assert op.status == OperationStatus.SUCCEEDED, (op.operation, op.error_code, op.error_message)
    return op


@pytest.fixture
def vps_tariff(provider: Any, vps_type: ProductType) -> Tariff:
    """512 MiB (256 MiB would boot too, slower under load) and a 3 GiB disk."""
    t = catalog.create_tariff(provider_id=provider.pk, product_type=vps_type, name="VPS-Real")
    catalog.set_tariff_price(tariff=t, period="1m", currency="USD", amount_minor=500)
    for intname, lo, hi, step in (
        ("cpu", 1, 2, 1),
        ("ram", 512, 1024, 512),
        ("disk", 2048, 4096, 1024),
    ):
        catalog.create_addon(
            tariff=t,
            name=intname.upper(),
            intname=intname,
            unit="MiB",
            value_type="int",
            billing_type="on_order",
            currency="USD",
            unit_price_minor=0,
            included=lo,
            min_value=lo,
            max_value=hi,
            step=step,
        )
    return t


@pytest.fixture
def host(make_instance: Any) -> Any:
    instance = make_instance(
        REAL_URI,
        name_prefix=PREFIX,
        storage_pool=os.environ.get("BILLOW_LIBVIRT_POOL", POOL),
        domain_type="qemu",
        network_mode="user",
        os_images={"debian-12": {"base": IMAGE, "min_disk_mib": 2048}},
    )
    # QEMU user-mode networking's 10.0.2.0/24: the guest's static address works without a
    # bridge, and nothing on the host talks to the guest
    IpPool.objects.create(
        module_instance=instance,
        name="slirp",
        network="10.0.2.0/24",
        first_address="10.0.2.15",
        last_address="10.0.2.30",
        gateway="10.0.2.2",
        dns="10.0.2.3",
    )
    yield instance
    lv_client.reset_connections()
    conn = libvirt.open(REAL_URI)
    for dom in conn.listAllDomains():
        if dom.name().startswith(PREFIX):
            if dom.isActive():
                dom.destroy()
            dom.undefine()
    pool = conn.storagePoolLookupByName(os.environ.get("BILLOW_LIBVIRT_POOL", POOL))
    pool.refresh(0)
    for name in pool.listVolumes():
        if name.startswith(PREFIX):
            pool.storageVolLookupByName(name).delete(0)
    conn.close()


def test_vps_with_an_os_boots_configured_and_is_reinstalled_and_deleted(
    host: Any, client: Client, vps_tariff: Tariff
) -> None:
    service: Service = actions.create_service(
        client=client,
        tariff=vps_tariff,
        period="1m",
        currency="USD",
        addon_values={"cpu": 2, "ram": 512, "disk": 3072},  # 2 vCPUs boot ~20 % faster
        parameters={"os": "debian-12"},
    )
    opened = run(actions.request_operation(service=service, operation="open"))
    password = decrypt_secrets(opened.result["root_password_encrypted"])["password"]
    assert opened.result["ips"] == ["10.0.2.15"]
    conn = lv_client.connection(REAL_URI)
    dom = conn.lookupByName(f"{PREFIX}{service.pk}")
    disk = conn.storageVolLookupByPath(next(p for t, p in _disks(dom) if t == "vda"))
    assert "<backingStore" in disk.XMLDesc(0) and IMAGE in disk.XMLDesc(0)  # the overlay
    assert disk.info()[1] == 3072 * 1024 * 1024  # grown to the ordered size

    boot = wait_provisioned(dom)
    assert agent(dom, "guest-get-host-name")["host-name"] == f"vps-{service.pk}"
    assert password_is(dom, password)
    assert ipv4(dom)["eth0"] == ["10.0.2.15"]
    root = next(f for f in agent(dom, "guest-get-fsinfo") if f.get("mountpoint") == "/")
    assert root["total-bytes"] > 2.5 * 2**30  # growpart + resize2fs to the overlay's 3 GiB

    gexec(dom, ["/bin/touch", "/root/old-disk"])
    service.refresh_from_db()
    run(vm_actions.change_vm_password(service=service, password="Agent-set-pw1"))
    assert password_is(dom, "Agent-set-pw1") and not password_is(dom, password)

    run(
        vm_actions.reinstall_vm(
            service=service, os="debian-12", password="Reinstalled-pw2", confirm=True
        )
    )
    dom = conn.lookupByName(f"{PREFIX}{service.pk}")
    wait_provisioned(dom, boot)
    assert password_is(dom, "Reinstalled-pw2")
    assert gexec(dom, ["/bin/ls", "/root"]).split() == []  # a fresh disk: the marker is gone
    assert ipv4(dom)["eth0"] == ["10.0.2.15"]  # the address stays

    run(actions.request_operation(service=service, operation="close"))
    assert ip_pools.service_addresses(service.pk) == []
    assert f"{PREFIX}{service.pk}" not in [d.name() for d in conn.listAllDomains()]


def _disks(dom: Any) -> list[tuple[str, str]]:
    return list(read_devices(dom.XMLDesc(0)).disks)
