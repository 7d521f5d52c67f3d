"""cloud-init NoCloud seed for a VM: ``user-data``, ``meta-data``, ``network-config`` (v2) and
the ISO9660 image (volume label ``cidata``) that carries them.

Pure functions (no libvirt): the module uploads the ISO into the storage pool and attaches it
as an IDE CD-ROM (the Debian cloud kernel has no AHCI driver, so not SATA; see
docs/vps.md). The ISO is written with pycdlib, so no genisoimage is needed on either side.
"""

from __future__ import annotations

import hashlib
import io
import ipaddress
import json
from collections.abc import Sequence
from dataclasses import dataclass, field

from billow.core.errors import BillowError


@dataclass(frozen=True, slots=True)
class GuestAddress:
    """One static address of the guest's NIC: ``10.0.2.20/24`` via ``10.0.2.2``."""

    address: str
    prefix: int
    gateway: str = ""
    dns: tuple[str, ...] = ()

    @property
    def version(self) -> int:
        return ipaddress.ip_address(self.address).version


@dataclass(frozen=True, slots=True)
class Seed:
    """What cloud-init sets on first boot (and again when ``instance_id`` changes)."""

    instance_id: str
    hostname: str
    mac: str
    root_password: str = ""
    ssh_keys: tuple[str, ...] = ()
    addresses: tuple[GuestAddress, ...] = field(default_factory=tuple)


def user_data(seed: Seed) -> str:
    """``#cloud-config``; JSON is valid YAML, so no YAML writer is needed (and no quoting
    mistakes with passwords or keys)."""
    config: dict[str, object] = {
        "hostname": seed.hostname,
        "manage_etc_hosts": True,
        "users": [],  # no default 'debian' user
        "disable_root": False,  # else root's keys get a "login as debian" prefix
        "ssh_pwauth": bool(seed.root_password),
        "write_files": [
            {
                "path": "/etc/ssh/sshd_config.d/60-root-login.conf",
                "content": "PermitRootLogin yes\n"
                if seed.root_password
                else "PermitRootLogin prohibit-password\n",
            }
        ],
    }
    if seed.root_password:
        config["chpasswd"] = {
            "expire": False,
            "users": [{"name": "root", "password": seed.root_password, "type": "text"}],
        }
    if seed.ssh_keys:
        config["ssh_authorized_keys"] = list(seed.ssh_keys)
    return "#cloud-config\n" + json.dumps(config, indent=1) + "\n"


def meta_data(seed: Seed) -> str:
    return json.dumps({"instance-id": seed.instance_id, "local-hostname": seed.hostname}) + "\n"


def network_config(seed: Seed) -> str:
    """v2: the NIC matched by MAC and renamed ``eth0``; static addresses when the pool gave
    some, else DHCP."""
    nic: dict[str, object] = {"match": {"macaddress": seed.mac}, "set-name": "eth0"}
    if not seed.addresses:
        nic["dhcp4"] = True
    else:
        nic["addresses"] = [f"{a.address}/{a.prefix}" for a in seed.addresses]
        routes = []
        for a in seed.addresses:
            if a.gateway:
                default = "0.0.0.0/0" if a.version == 4 else "::/0"
                routes.append({"to": default, "via": a.gateway})
        if routes:
            nic["routes"] = routes
        dns = [d for a in seed.addresses for d in a.dns]
        if dns:
            nic["nameservers"] = {"addresses": list(dict.fromkeys(dns))}
    return json.dumps({"version": 2, "ethernets": {"eth0": nic}}, indent=1) + "\n"


def seed_iso(seed: Seed) -> bytes:
    """The NoCloud ISO (label ``cidata``, Joliet + Rock Ridge like genisoimage -J -r)."""
    try:
        import pycdlib
    except ImportError:
        raise BillowError(
            "pycdlib is not installed (pip install 'billow[libvirt]')", code="libvirt_unavailable"
        ) from None
    iso = pycdlib.PyCdlib()
    iso.new(interchange_level=3, joliet=3, rock_ridge="1.09", vol_ident="cidata")
    files = (
        ("user-data", user_data(seed)),
        ("meta-data", meta_data(seed)),
        ("network-config", network_config(seed)),
    )
    for name, text in files:
        data = text.encode()
        iso_name = "/" + name.replace("-", "_").upper()[:8] + ".;1"
        iso.add_fp(io.BytesIO(data), len(data), iso_name, rr_name=name, joliet_path=f"/{name}")
    out = io.BytesIO()
    iso.write_fp(out)
    iso.close()
    return out.getvalue()


def mac_for(service_id: int, instance_id: int | None) -> str:
    """A stable locally administered MAC in QEMU's 52:54:00 range for a service's NIC."""
    digest = hashlib.sha256(f"{instance_id}:{service_id}".encode()).digest()
    return "52:54:00:" + ":".join(f"{b:02x}" for b in digest[:3])


def instance_id_for(name: str, key: str) -> str:
    """A new instance-id per open / reinstall: cloud-init re-provisions when it changes."""
    return f"{name}-{hashlib.sha256(key.encode()).hexdigest()[:12]}"


def clean_ssh_keys(keys: Sequence[str]) -> tuple[str, ...]:
    """Public keys, one per line, comments and blanks dropped."""
    out = []
    for block in keys:
        for line in str(block).splitlines():
            line = line.strip()
            if line and not line.startswith("#"):
                out.append(line)
    return tuple(out)
