"""Pure XML helpers: sizes from addons, metadata round trip, the domain definition."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from billow.services.modules.libvirt.config import LibvirtConfig
from billow.services.modules.libvirt.domain_xml import (
    NS,
    BillowMeta,
    DomainSpec,
    Sizes,
    domain_xml,
    parse_meta,
    read_devices,
    sizes_from_addons,
)


def test_sizes_come_from_addons_in_their_units_with_defaults_for_missing_ones() -> None:
    cfg = LibvirtConfig(ram_unit="GiB", disk_unit="GiB", default_vcpus=2, default_disk=20)
    assert sizes_from_addons(cfg, {"cpu": 4, "ram": 8}) == Sizes(4, 8192, 20480)
    mib = LibvirtConfig(ram_unit="MiB", disk_unit="MiB")
    assert sizes_from_addons(mib, {"ram": 64, "disk": 16}) == Sizes(1, 64, 16)


def test_metadata_round_trips_and_bad_xml_reads_as_none() -> None:
    meta = BillowMeta(
        service_id=42, instance_id=3, key="open:42:x", last_op="suspend:42:y", system=True
    )
    assert parse_meta(meta.to_xml()) == meta
    assert parse_meta(meta.to_xml(with_ns=True)) == meta
    assert parse_meta("<service/>") == BillowMeta()
    assert parse_meta("not xml") is None
    assert parse_meta("") is None


def test_domain_xml_has_sizes_agent_network_and_metadata() -> None:
    cfg = LibvirtConfig(network_mode="bridge", network_source="br0", guest_agent=True)
    spec = DomainSpec(
        name="billow-7",
        domain_type="kvm",
        sizes=Sizes(2, 512, 10240),
        max_vcpus=8,
        disk_path="/pool/billow-7.qcow2",
        meta=BillowMeta(7, 1, "open:7:k"),
        description="web & db",
    )
    root = ET.fromstring(domain_xml(cfg, spec))  # noqa: S314 - our own output
    assert root.get("type") == "kvm"
    vcpu = root.find("vcpu")
    assert vcpu is not None and (vcpu.text, vcpu.get("current")) == ("8", "2")
    assert root.findtext("memory") == "512"
    assert root.findtext("description") == "web & db"
    meta = root.find(f"metadata/{{{NS}}}service")
    assert meta is not None and (meta.get("id"), meta.get("key")) == ("7", "open:7:k")
    iface = root.find("devices/interface")
    assert iface is not None and iface.get("type") == "bridge"
    devices = read_devices(domain_xml(cfg, spec))
    assert devices.disks == (("vda", "/pool/billow-7.qcow2"),)
    assert devices.has_agent is True
    no_agent = LibvirtConfig(guest_agent=False, network_mode="none")
    assert read_devices(domain_xml(no_agent, spec)).has_agent is False
    assert "<interface" not in domain_xml(no_agent, spec)
