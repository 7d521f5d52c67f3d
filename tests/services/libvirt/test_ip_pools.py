"""IP pools: range checks, lowest free address first, IPv6, release and reuse, and on
PostgreSQL 100 concurrent allocations from one pool without a duplicate."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from django.db import connection

from billow.services import actions, ip_pools
from billow.services.models import IpAllocation, IpPool, ModuleInstance


@pytest.fixture
def instance(vps_type: Any) -> ModuleInstance:
    return actions.create_module_instance(
        module="dummy", name="host-a", config={}, product_types=[vps_type]
    )


def pool(instance: ModuleInstance, **extra: Any) -> IpPool:
    fields = {
        "name": "v4",
        "version": 4,
        "network": "192.0.2.0/24",
        "first_address": "192.0.2.0",
        "last_address": "192.0.2.255",
        "gateway": "192.0.2.1",
        "dns": "192.0.2.53, 192.0.2.54",
        **extra,
    }
    return IpPool.objects.create(module_instance=instance, **fields)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("extra", "ok"),
    [
        ({}, True),
        ({"first_address": "198.51.100.1"}, False),
        ({"first_address": "192.0.2.9", "last_address": "192.0.2.8"}, False),
        ({"gateway": "10.0.0.1"}, False),
        ({"network": "192.0.2.1/24"}, False),  # host bits set
        ({"version": 6}, False),
    ],
)
def test_check_pool(instance: ModuleInstance, extra: dict[str, Any], ok: bool) -> None:
    candidate = IpPool(module_instance=instance, **{**pool_fields(), **extra})
    if ok:
        ip_pools.check_pool(candidate)
    else:
        with pytest.raises(ip_pools.IpPoolInvalidError):
            ip_pools.check_pool(candidate)


def pool_fields() -> dict[str, Any]:
    return {
        "name": "v4",
        "version": 4,
        "network": "192.0.2.0/24",
        "first_address": "192.0.2.2",
        "last_address": "192.0.2.254",
        "gateway": "192.0.2.1",
    }


@pytest.mark.django_db
def test_lowest_free_address_skips_network_gateway_and_broadcast(
    instance: ModuleInstance, order: Any
) -> None:
    pool(instance, first_address="192.0.2.0", last_address="192.0.2.2")
    pool(
        instance,
        name="v6",
        version=6,
        network="2001:db8::/64",
        first_address="2001:db8::",
        last_address="2001:db8::ffff",
        gateway="2001:db8::1",
        dns="",
    )
    a, b = order(), order()
    got = ip_pools.allocate_addresses(instance_id=instance.pk, service_id=a.pk)
    assert got == [
        ip_pools.Address("192.0.2.2", 24, "192.0.2.1", ("192.0.2.53", "192.0.2.54"), 4, "v4"),
        ip_pools.Address("2001:db8::2", 64, "2001:db8::1", (), 6, "v6"),
    ]
    with pytest.raises(ip_pools.IpPoolExhaustedError):
        ip_pools.allocate_addresses(instance_id=instance.pk, service_id=b.pk)
    assert not IpAllocation.objects.filter(service=b).exists()  # not even the IPv6 one
    assert ip_pools.release_addresses(service_id=a.pk) == 2
    assert [
        x.address for x in ip_pools.allocate_addresses(instance_id=instance.pk, service_id=b.pk)
    ] == [
        "192.0.2.2",
        "2001:db8::2",
    ]
    # the history keeps who had the address
    assert IpAllocation.objects.filter(address="192.0.2.2").count() == 2


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_100_concurrent_allocations_from_one_pool_never_repeat_an_address(
    instance: ModuleInstance, order: Any
) -> None:
    pool(instance, first_address="192.0.2.10", last_address="192.0.2.250")
    services = [order().pk for _ in range(100)]
    start = threading.Barrier(20)

    def allocate(service_id: int) -> str:
        try:
            if service_id in services[:20]:
                start.wait()  # the first 20 start at the same moment
            return ip_pools.allocate_addresses(instance_id=instance.pk, service_id=service_id)[
                0
            ].address
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=20) as pool_:
        got = list(pool_.map(allocate, services))
    assert len(set(got)) == 100
    assert sorted(got, key=lambda a: int(a.rsplit(".", 1)[1])) == [
        f"192.0.2.{n}" for n in range(10, 110)
    ]
    assert IpAllocation.objects.filter(released_at__isnull=True).count() == 100
