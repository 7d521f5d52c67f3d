"""libvirt fixtures: a fresh ``test:///`` node per test (custom node XML), a VPS tariff with
cpu / ram (MiB) / disk (MiB) addons, and the real-libvirtd switch for ``@pytest.mark.libvirt``."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

libvirt = pytest.importorskip("libvirt")

from billow.accounts.models import Client  # noqa: E402
from billow.catalog import actions as catalog  # noqa: E402
from billow.catalog.models import ProductType, Tariff  # noqa: E402
from billow.services import actions  # noqa: E402
from billow.services.models import ModuleInstance, Service  # noqa: E402
from billow.services.modules.libvirt import client as lv_client  # noqa: E402

POOL = "billow-test"
REAL_URI = "qemu:///system"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "libvirt: needs a real libvirtd at qemu:///system")


def node_xml(domains: str = "", *, pool: str = POOL) -> str:
    """A test-driver node with one dir pool and the given ``<domain>`` elements."""
    return f"""<?xml version="1.0"?>
<node>
  <cpu><nodes>1</nodes><sockets>1</sockets><cores>8</cores><threads>1</threads>
       <active>8</active><mhz>2000</mhz><model>x86_64</model></cpu>
  <memory>16777216</memory>
  <pool type='dir'>
    <name>{pool}</name>
    <uuid>35bb2ad9-388a-cdfe-461a-b8907f6e53fe</uuid>
    <capacity unit='GiB'>100</capacity><allocation>0</allocation>
    <available unit='GiB'>100</available>
    <target><path>/{pool}</path></target>
  </pool>
  {domains}
</node>"""


def hand_domain(name: str, uuid: str, *, meta: str = "", state: int = 1) -> str:
    """A hand-made domain for a node file (``state`` 5 = shut off)."""
    runstate = f"<test:runstate>{state}</test:runstate>" if state != 1 else ""
    metadata = f"<metadata>{meta}</metadata>" if meta else ""
    return f"""<domain type='test' xmlns:test='http://libvirt.org/schemas/domain/test/1.0'>
    <name>{name}</name><uuid>{uuid}</uuid>{metadata}
    <memory unit='MiB'>128</memory><vcpu>1</vcpu>
    <os><type arch='x86_64'>hvm</type></os>{runstate}
  </domain>"""


@pytest.fixture(autouse=True)
def _fresh_connections() -> Iterator[None]:
    lv_client.reset_connections()
    yield
    lv_client.reset_connections()


@pytest.fixture
def node(tmp_path: Path) -> Any:
    """Write a node file and return its ``test:///`` URI: ``node()`` or ``node(domains)``."""

    def make(domains: str = "") -> str:
        path = tmp_path / "node.xml"
        path.write_text(node_xml(domains))
        return f"test://{path}"

    return make


def small_config(uri: str, **extra: Any) -> dict[str, Any]:
    return {
        "uri": uri,
        "storage_pool": POOL,
        "ram_unit": "MiB",
        "disk_unit": "MiB",
        "default_ram": 64,
        "default_disk": 16,
        "max_vcpus": 4,
        **extra,
    }


@pytest.fixture
def tiny_tariff(provider: Any, vps_type: ProductType) -> Tariff:
    """VPS-Tiny: cpu 1..4, ram 64..256 MiB (step 64), disk 16..64 MiB (step 16)."""
    t = catalog.create_tariff(provider_id=provider.pk, product_type=vps_type, name="VPS-Tiny")
    catalog.set_tariff_price(tariff=t, period="1m", currency="USD", amount_minor=300)
    for intname, unit, lo, hi, step in (
        ("cpu", "vCPU", 1, 4, 1),
        ("ram", "MiB", 64, 256, 64),
        ("disk", "MiB", 16, 64, 16),
    ):
        catalog.create_addon(
            tariff=t,
            name=intname.upper(),
            intname=intname,
            unit=unit,
            value_type="int",
            billing_type="on_order",
            currency="USD",
            unit_price_minor=1,
            included=lo,
            min_value=lo,
            max_value=hi,
            step=step,
        )
    return t


@pytest.fixture
def make_instance(vps_type: ProductType) -> Any:
    def make(uri: str, name: str = "kvm-1", **extra: Any) -> ModuleInstance:
        return actions.create_module_instance(
            module="libvirt",
            name=name,
            config=small_config(uri, **extra),
            department="vps-team",
            product_types=[vps_type],
            priority=1,
        )

    return make


@pytest.fixture
def order(client: Client, tiny_tariff: Tariff) -> Any:
    def make(cpu: int = 1, ram: int = 64, disk: int = 16) -> Service:
        return actions.create_service(
            client=client,
            tariff=tiny_tariff,
            period="1m",
            currency="USD",
            addon_values={"cpu": cpu, "ram": ram, "disk": disk},
            parameters={"os": "debian-12"},
        )

    return make


def real_libvirt_reachable() -> bool:
    if os.geteuid() != 0:
        return False
    try:
        conn = libvirt.open(REAL_URI)
    except libvirt.libvirtError:
        return False
    try:
        conn.storagePoolLookupByName(os.environ.get("BILLOW_LIBVIRT_POOL", POOL))
    except libvirt.libvirtError:
        return False
    finally:
        conn.close()
    return True
