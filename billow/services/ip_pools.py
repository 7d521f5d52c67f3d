"""Allocation and release of VM addresses from a module instance's IP pools.

``allocate_addresses`` gives a service one address per IP version its instance has pools
for, and is idempotent: a service that holds an address keeps it (a retried open, a
reinstall). The pools of the instance are locked (``SELECT ... FOR UPDATE``) while the lowest
free address is picked, so concurrent orders never get the same address; the partial unique
constraint on live allocations backs that up. ``release_addresses`` frees them when the VM
is deleted.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction

from billow.core import clock
from billow.core.errors import ConflictError, ValidationError
from billow.services.models_net import IpAllocation, IpPool

#: How many candidate addresses are tried per pool before it counts as full (IPv6 pools are
#: huge; a pool is walked from its first address, skipping taken ones).
_SCAN_LIMIT = 1 << 16


class IpPoolExhaustedError(ConflictError):
    code = "ip_pool_exhausted"


class IpPoolInvalidError(ValidationError):
    code = "invalid_ip_pool"


@dataclass(frozen=True, slots=True)
class Address:
    """An address as a VM needs it."""

    address: str
    prefix: int
    gateway: str
    dns: tuple[str, ...]
    version: int
    pool: str


def check_pool(pool: IpPool) -> None:
    """Refuse a pool whose range is not inside its network (``invalid_ip_pool``)."""
    try:
        net = ipaddress.ip_network(pool.network, strict=True)
        first = ipaddress.ip_address(pool.first_address)
        last = ipaddress.ip_address(pool.last_address)
        gateway = ipaddress.ip_address(pool.gateway) if pool.gateway else None
    except ValueError as exc:
        raise IpPoolInvalidError(str(exc)) from None
    if net.version != pool.version or first not in net or last not in net or int(first) > int(last):
        raise IpPoolInvalidError("first and last address must lie in the network, first <= last")
    if gateway is not None and gateway not in net:
        raise IpPoolInvalidError("the gateway must lie in the network")


def _as_address(pool: IpPool, address: str) -> Address:
    net = ipaddress.ip_network(pool.network, strict=False)
    dns = tuple(d.strip() for d in pool.dns.split(",") if d.strip())
    return Address(address, net.prefixlen, pool.gateway, dns, pool.version, pool.name)


def _next_free(pool: IpPool) -> str | None:
    net = ipaddress.ip_network(pool.network, strict=False)
    reserved = {net.network_address, ipaddress.ip_address(pool.gateway) if pool.gateway else None}
    if net.version == 4 and net.prefixlen < 31:
        reserved.add(net.broadcast_address)
    taken = set(
        IpAllocation.objects.filter(pool=pool, released_at__isnull=True).values_list(
            "address", flat=True
        )
    )
    first = ipaddress.ip_address(pool.first_address)
    kind = type(first)
    last = int(ipaddress.ip_address(pool.last_address))
    number = int(first)
    for _ in range(_SCAN_LIMIT + len(taken)):
        if number > last:
            return None
        candidate = kind(number)
        if candidate not in reserved and str(candidate) not in taken:
            return str(candidate)
        number += 1
    return None


def service_addresses(service_id: int) -> list[Address]:
    """The live addresses of a service, IPv4 first."""
    rows = (
        IpAllocation.objects.filter(service_id=service_id, released_at__isnull=True)
        .select_related("pool")
        .order_by("pool__version", "id")
    )
    return [_as_address(a.pool, a.address) for a in rows]


def allocate_addresses(
    *, instance_id: int, service_id: int, now: datetime | None = None
) -> list[Address]:
    """One address per IP version the instance has active pools for (kept if the service has
    one already). Refusal: ``ip_pool_exhausted`` (nothing allocated)."""
    moment = clock.now(now)
    with transaction.atomic():
        pools = list(
            IpPool.objects.select_for_update()
            .filter(module_instance_id=instance_id, is_active=True)
            .order_by("priority", "id")
        )
        held = {
            a.pool.version
            for a in IpAllocation.objects.filter(
                service_id=service_id,
                released_at__isnull=True,
                pool__module_instance_id=instance_id,
            ).select_related("pool")
        }
        for version in sorted({p.version for p in pools} - held):
            for pool in (p for p in pools if p.version == version):
                address = _next_free(pool)
                if address is not None:
                    IpAllocation.objects.create(
                        pool=pool, address=address, service_id=service_id, allocated_at=moment
                    )
                    break
            else:
                raise IpPoolExhaustedError(f"no free IPv{version} address on this host")
    return service_addresses(service_id)


def release_addresses(*, service_id: int, now: datetime | None = None) -> int:
    """Free every live address of the service; the number released."""
    return IpAllocation.objects.filter(service_id=service_id, released_at__isnull=True).update(
        released_at=clock.now(now)
    )
