"""OS provisioning on a libvirt host: the overlay disk on an OS base image, the cloud-init
seed volume, the service's addresses from the instance's IP pools.

Volumes (in the instance's storage pool; work on remote hosts too, the seed is uploaded
through a libvirt stream):
- ``<name>.qcow2``: a qcow2 overlay whose backing file is the OS base, grown to the ordered
  disk size (cloud-init's growpart + resize2fs grow the guest's root filesystem);
- ``<name>-seed.iso``: the NoCloud seed, attached as an IDE CD-ROM.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape

from billow.core.errors import BillowError
from billow.services import ip_pools
from billow.services.modules.base import Outcome, ServiceContext
from billow.services.modules.libvirt import client
from billow.services.modules.libvirt.cloud_init import (
    GuestAddress,
    Seed,
    clean_ssh_keys,
    instance_id_for,
    mac_for,
    seed_iso,
)
from billow.services.modules.libvirt.config import LibvirtConfig
from billow.services.secrets import decrypt_secrets, encrypt_secrets


@dataclass(frozen=True, slots=True)
class OsImage:
    value: str
    base: str
    min_disk_mib: int


def os_image(cfg: LibvirtConfig, parameters: Any) -> OsImage | None:
    """The base image of the service's OS parameter value; None: no OS, a blank disk."""
    value = str(parameters.get(cfg.os_parameter) or "")
    image = cfg.os_images.get(value)
    if not value or not isinstance(image, dict):
        return None
    return OsImage(value, str(image["base"]), int(image.get("min_disk_mib", 0)))


def below_minimum(image: OsImage, disk_mib: int) -> Outcome | None:
    if disk_mib >= image.min_disk_mib:
        return None
    return Outcome.failed(
        code="disk_below_os_minimum",
        message=f"{image.value} needs at least {image.min_disk_mib} MiB of disk",
    )


def addresses(instance_id: int | None, service_id: int) -> list[ip_pools.Address] | Outcome:
    """The service's addresses (allocated now when it has none); ``ip_pool_exhausted``."""
    if instance_id is None:
        return []
    try:
        return ip_pools.allocate_addresses(instance_id=instance_id, service_id=service_id)
    except BillowError as exc:
        return Outcome.failed(code=exc.code, message=exc.message)


def overlay_xml(name: str, base: str, disk_mib: int) -> str:
    return (
        f"<volume><name>{escape(name)}</name>"
        f"<capacity unit='MiB'>{int(disk_mib)}</capacity><allocation>0</allocation>"
        "<target><format type='qcow2'/></target>"
        f"<backingStore><path>{escape(base)}</path><format type='qcow2'/></backingStore>"
        "</volume>"
    )


def seed_volume_name(name: str) -> str:
    return f"{name}-seed.iso"


def lookup_volume(pool: Any, name: str) -> Any | None:
    lv = client.libvirt_api()
    try:
        return pool.storageVolLookupByName(name)
    except lv.libvirtError as exc:
        if exc.get_error_code() != lv.VIR_ERR_NO_STORAGE_VOL:
            raise
        return None


def delete_volume(pool: Any, name: str) -> bool:
    vol = lookup_volume(pool, name)
    if vol is None:
        return False
    vol.delete(0)
    return True


def ensure_overlay(pool: Any, name: str, image: OsImage, disk_mib: int) -> Any:
    """The overlay volume ``name`` on ``image`` (kept when it exists: a replayed open)."""
    return lookup_volume(pool, name) or pool.createXML(overlay_xml(name, image.base, disk_mib), 0)


def upload_seed(conn: Any, pool: Any, name: str, data: bytes, *, upload: bool) -> Any:
    """(Re)create the seed volume ``name`` with ``data``. ``upload`` False on the test driver,
    which keeps volumes without content."""
    delete_volume(pool, name)
    vol = pool.createXML(
        f"<volume><name>{escape(name)}</name><capacity unit='bytes'>{len(data)}</capacity>"
        "<target><format type='raw'/></target></volume>",
        0,
    )
    if upload:
        stream = conn.newStream(0)
        vol.upload(stream, 0, len(data), 0)
        stream.send(data)
        stream.finish()
    return vol


def seed_for(
    cfg: LibvirtConfig,
    ctx: ServiceContext,
    name: str,
    addrs: list[ip_pools.Address],
    password: str,
) -> Seed:
    hostname = str(ctx.parameters.get("hostname") or f"vps-{ctx.service_id}")
    keys = [str(ctx.payload.get("ssh_key") or ctx.parameters.get("ssh_key") or "")]
    return Seed(
        instance_id=instance_id_for(name, ctx.idempotency_key),
        hostname=hostname,
        mac=mac_for(ctx.service_id, ctx.module_instance_id),
        root_password=password,
        ssh_keys=clean_ssh_keys(keys),
        addresses=tuple(GuestAddress(a.address, a.prefix, a.gateway, a.dns) for a in addrs),
    )


def root_password(ctx: ServiceContext) -> tuple[str, str]:
    """(password, encrypted) from the operation payload, else a new random one; a client with
    only an SSH key gets no password login (empty password)."""
    token = str(ctx.payload.get("password_encrypted") or "")
    if token:
        return decrypt_secrets(token).get("password", ""), token
    if ctx.payload.get("ssh_key") or ctx.parameters.get("ssh_key"):
        return "", ""
    password = secrets.token_urlsafe(12)
    return password, encrypt_secrets({"password": password})


def address_facts(addrs: list[ip_pools.Address]) -> list[str]:
    return [a.address for a in addrs]


def seed_bytes(seed: Seed) -> bytes:
    return seed_iso(seed)
