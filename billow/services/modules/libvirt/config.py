"""Settings of one libvirt module instance (one host URI)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from billow.services.errors import ModuleConfigError
from billow.services.modules.base import ModuleConfig

Unit = Literal["MiB", "GiB"]
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,40}$")
_URI = re.compile(r"^(qemu|qemu\+ssh|qemu\+tcp|qemu\+tls|qemu\+unix|test)://")


@dataclass(frozen=True)
class LibvirtConfig(ModuleConfig):
    """``uri``: the host (``qemu:///system``, ``qemu+ssh://root@host/system``, ``test:///...``).
    Sizes come from the service's addons (``cpu_addon``, ``ram_addon`` in ``ram_unit``,
    ``disk_addon`` in ``disk_unit``), else the ``default_*`` values. ``domain_type`` ``auto``:
    kvm when the host offers it, else qemu (TCG); ``test`` on the test driver. ``os_images``:
    the qcow2 base per OS value with its minimum disk (docs/vps.md)."""

    uri: str = "qemu:///system"
    storage_pool: str = "default"
    network_mode: Literal["user", "bridge", "network", "none"] = "user"
    network_source: str = ""  # the bridge (bridge mode) or libvirt network (network mode)
    suspend_mode: Literal["pause", "shutdown"] = "pause"
    shutdown_timeout_s: int = 60
    guest_agent: bool = True
    domain_type: Literal["auto", "kvm", "qemu", "test"] = "auto"
    name_prefix: str = "billow-"
    machine: str = "pc"
    vnc: bool = True
    cpu_addon: str = "cpu"
    ram_addon: str = "ram"
    ram_unit: Unit = "GiB"
    disk_addon: str = "disk"
    disk_unit: Unit = "GiB"
    default_vcpus: int = 1
    default_ram: int = 1
    default_disk: int = 10
    max_vcpus: int = 16
    # OS images: {os value: {"base": "/path/base.qcow2", "min_disk_mib": 2048}}. A service whose
    # ``os_parameter`` names one boots from a copy-on-write overlay of that base, configured by
    # a cloud-init NoCloud seed; other services get a blank disk.
    os_parameter: str = "os"
    os_images: dict = field(default_factory=dict)
    hostname_domain: str = ""  # fqdn suffix given to cloud-init (``vps-12.example.net``)

    def validate(self) -> None:
        if not _URI.match(self.uri):
            raise ModuleConfigError("uri must be a qemu:// or test:// libvirt URI", field="uri")
        for name in ("storage_pool", "name_prefix"):
            if not _NAME.match(getattr(self, name)):
                raise ModuleConfigError(f"{name} must be a short plain name", field=name)
        if self.network_mode in ("bridge", "network") and not self.network_source:
            raise ModuleConfigError(
                f"network_mode {self.network_mode} needs network_source", field="network_source"
            )
        if not 0 <= self.shutdown_timeout_s <= 600:
            raise ModuleConfigError("shutdown_timeout_s must be 0..600", field="shutdown_timeout_s")
        for name in ("default_vcpus", "default_ram", "default_disk"):
            if getattr(self, name) < 1:
                raise ModuleConfigError(f"{name} must be >= 1", field=name)
        for value, image in self.os_images.items():
            if not isinstance(image, dict) or not str(image.get("base", "")).startswith("/"):
                raise ModuleConfigError(
                    f"os_images[{value!r}] needs an absolute 'base' path", field="os_images"
                )
            if (
                not isinstance(image.get("min_disk_mib", 0), int)
                or image.get("min_disk_mib", 0) < 0
            ):
                raise ModuleConfigError(
                    f"os_images[{value!r}].min_disk_mib must be a whole number", field="os_images"
                )
        if not self.default_vcpus <= self.max_vcpus <= 512:
            raise ModuleConfigError("max_vcpus must be default_vcpus..512", field="max_vcpus")
