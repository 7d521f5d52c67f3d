"""The ``libvirt`` module: VMs on a libvirt host (QEMU/KVM; the ``test:///`` driver for tests).

libvirt-python is an optional dependency (extra ``libvirt``): the module registers without it
and its operations answer ``failed`` / ``libvirt_unavailable`` until it is installed.
"""

from billow.services.modules.libvirt.config import LibvirtConfig
from billow.services.modules.libvirt.module import LibvirtModule

__all__ = ["LibvirtConfig", "LibvirtModule"]
