"""Pure XML for libvirt: domain and volume definitions, Billow's metadata element, sizes.

No libvirt import here: everything is tested without a hypervisor.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from billow.services.modules.libvirt.config import LibvirtConfig

#: Billow's own XML namespace for domain metadata (``<billow:service .../>``).
NS = "https://billow.dev/xmlns/libvirt/1.0"
PREFIX = "billow"
AGENT_CHANNEL = "org.qemu.guest_agent.0"


@dataclass(frozen=True, slots=True)
class BillowMeta:
    """What Billow stores on a domain: the service and module instance it belongs to, the key
    of the open that made it, the key of the last operation applied, the system flag."""

    service_id: int | None = None
    instance_id: int | None = None
    key: str = ""
    last_op: str = ""
    system: bool = False

    def to_xml(self, *, with_ns: bool = False) -> str:
        attrs = {
            "id": self.service_id,
            "instance": self.instance_id,
            "key": self.key,
            "last-op": self.last_op,
            "system": "1" if self.system else "",
        }
        text = " ".join(f"{k}={quoteattr(str(v))}" for k, v in attrs.items() if v not in ("", None))
        if with_ns:
            return f"<{PREFIX}:service xmlns:{PREFIX}={quoteattr(NS)} {text}/>"
        return f"<service {text}/>"


def parse_meta(text: str | None) -> BillowMeta | None:
    """The metadata element as libvirt returns it (``<service id=.../>``); None if unreadable."""
    if not text:
        return None
    try:
        root = ET.fromstring(text)  # noqa: S314 - libvirt's own output, not user input
    except ET.ParseError:
        return None
    return BillowMeta(
        service_id=_int(root.get("id")),
        instance_id=_int(root.get("instance")),
        key=root.get("key", ""),
        last_op=root.get("last-op", ""),
        system=root.get("system") == "1",
    )


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


@dataclass(frozen=True, slots=True)
class Sizes:
    vcpus: int
    ram_mib: int
    disk_mib: int


def _mib(value: Any, unit: str) -> int:
    return int(value) * (1024 if unit == "GiB" else 1)


def sizes_from_addons(cfg: LibvirtConfig, addons: Mapping[str, Any]) -> Sizes:
    """vCPU, RAM and disk of a service from its addon values (config defaults for missing)."""
    return Sizes(
        vcpus=int(addons.get(cfg.cpu_addon, cfg.default_vcpus)),
        ram_mib=_mib(addons.get(cfg.ram_addon, cfg.default_ram), cfg.ram_unit),
        disk_mib=_mib(addons.get(cfg.disk_addon, cfg.default_disk), cfg.disk_unit),
    )


def volume_xml(name: str, disk_mib: int) -> str:
    """A qcow2 volume (thin: allocation 0)."""
    return (
        f"<volume><name>{escape(name)}</name>"
        f"<capacity unit='MiB'>{int(disk_mib)}</capacity><allocation>0</allocation>"
        "<target><format type='qcow2'/></target></volume>"
    )


@dataclass(frozen=True, slots=True)
class DomainSpec:
    name: str
    domain_type: str
    sizes: Sizes
    max_vcpus: int
    disk_path: str
    meta: BillowMeta
    uuid: str = ""
    description: str = ""
    mac: str = ""  # fixed MAC: cloud-init's network-config matches the NIC by it
    seed_path: str = ""  # cloud-init NoCloud ISO, attached as an IDE CD-ROM


def domain_xml(cfg: LibvirtConfig, spec: DomainSpec) -> str:
    """The domain definition: ``max_vcpus`` slots with ``vcpus`` online (live CPU hot-add up
    to the maximum), the disk, the network, the guest agent channel, Billow's metadata."""
    test = spec.domain_type == "test"
    machine = "" if test else f" machine={quoteattr(cfg.machine)}"
    uuid = f"<uuid>{escape(spec.uuid)}</uuid>" if spec.uuid else ""
    desc = f"<description>{escape(spec.description)}</description>" if spec.description else ""
    vcpus = min(spec.sizes.vcpus, max(spec.max_vcpus, spec.sizes.vcpus))
    return f"""<domain type={quoteattr(spec.domain_type)}>
  <name>{escape(spec.name)}</name>{uuid}{desc}
  <metadata>{spec.meta.to_xml(with_ns=True)}</metadata>
  <memory unit='MiB'>{spec.sizes.ram_mib}</memory>
  <currentMemory unit='MiB'>{spec.sizes.ram_mib}</currentMemory>
  <vcpu placement='static' current='{vcpus}'>{max(spec.max_vcpus, vcpus)}</vcpu>
  <os><type arch='x86_64'{machine}>hvm</type><boot dev='hd'/></os>
  <features><acpi/></features>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file={quoteattr(spec.disk_path)}/>
      <target dev='vda' bus='virtio'/>
    </disk>{_seed(spec.seed_path)}{_interface(cfg, spec.mac)}{_agent(cfg)}{_console(cfg, test)}
  </devices>
</domain>"""


def _seed(path: str) -> str:
    if not path:
        return ""
    return f"""
    <disk type='file' device='cdrom'>
      <driver name='qemu' type='raw'/>
      <source file={quoteattr(path)}/>
      <target dev='hdc' bus='ide'/>
      <readonly/>
    </disk>"""


def _interface(cfg: LibvirtConfig, mac: str = "") -> str:
    if cfg.network_mode == "none":
        return ""
    source = f"<mac address={quoteattr(mac)}/>" if mac else ""
    if cfg.network_mode == "bridge":
        source += f"<source bridge={quoteattr(cfg.network_source)}/>"
    elif cfg.network_mode == "network":
        source += f"<source network={quoteattr(cfg.network_source)}/>"
    return f"""
    <interface type='{cfg.network_mode}'>{source}<model type='virtio'/></interface>"""


def _agent(cfg: LibvirtConfig) -> str:
    if not cfg.guest_agent:
        return ""
    return f"""
    <channel type='unix'><target type='virtio' name='{AGENT_CHANNEL}'/></channel>"""


def _console(cfg: LibvirtConfig, test: bool) -> str:
    if test:
        return ""
    vnc = "\n    <graphics type='vnc' port='-1' listen='127.0.0.1'/>" if cfg.vnc else ""
    return f"""
    <serial type='pty'/>
    <console type='pty'/>{vnc}"""


@dataclass(frozen=True, slots=True)
class DomainDevices:
    """Devices read back from a domain's XML (for stats, deletion, the agent check)."""

    disks: tuple[tuple[str, str], ...]  # (target dev, source file)
    interfaces: tuple[str, ...]  # target devs
    has_agent: bool
    description: str


def read_devices(xml: str) -> DomainDevices:
    root = ET.fromstring(xml)  # noqa: S314 - libvirt's own output
    disks = tuple(
        (t.get("dev", ""), s.get("file") or s.get("volume") or "")
        for d in root.iterfind("./devices/disk")
        if (t := d.find("target")) is not None and (s := d.find("source")) is not None
    )
    interfaces = tuple(
        t.get("dev", "")
        for i in root.iterfind("./devices/interface")
        if (t := i.find("target")) is not None and t.get("dev")
    )
    agent = any(t.get("name") == AGENT_CHANNEL for t in root.iterfind("./devices/channel/target"))
    return DomainDevices(disks, interfaces, agent, root.findtext("description") or "")
