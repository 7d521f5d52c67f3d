"""VMmanager 6 fixtures: a local VMmanager 6 server per test (fresh state, free port) and the
module's kept sessions forgotten around each test."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from billow.services.modules.vmmanager6 import client as vmm_client
from billow.services.modules.vmmanager6.testserver import RunningServer, VmmState, serve

ADMIN_EMAIL, ADMIN_PASSWORD = "admin@example.com", "secret"


@pytest.fixture
def vmm() -> Iterator[RunningServer]:
    vmm_client.reset_sessions()
    with serve(VmmState(admin_email=ADMIN_EMAIL, admin_password=ADMIN_PASSWORD)) as server:
        yield server
    vmm_client.reset_sessions()


def vmm_config(url: str, **extra: Any) -> dict[str, Any]:
    """Small sizes in MiB, tasks polled every 10 ms for up to 2 s."""
    return {
        "url": url,
        "email": ADMIN_EMAIL,
        "ram_unit": "MiB",
        "disk_unit": "MiB",
        "default_ram": 1024,
        "default_disk": 10240,
        "default_os": "ISPsystem__Debian 12",
        "poll_interval_s": 0.01,
        "task_wait_s": 2.0,
        "timeout_s": 5.0,
        **extra,
    }


def vmm_secrets() -> dict[str, str]:
    return {"password": ADMIN_PASSWORD}


@pytest.fixture
def vmm_type(db: Any) -> Any:
    """A VPS product type whose OS parameter VMmanager fills (values synced by the tests)."""
    from billow.catalog import actions as catalog

    pt = catalog.create_product_type(name="Cloud VPS", intname="cloud-vps")
    catalog.add_product_type_parameter(product_type=pt, name="Operating system", intname="os")
    return pt


@pytest.fixture
def vmm_tariff(provider: Any, vmm_type: Any) -> Any:
    """Cloud-1: cpu 1..8, ram 1024..8192 MiB (step 512), disk 10240..40960 MiB (step 5120)."""
    from billow.catalog import actions as catalog

    t = catalog.create_tariff(provider_id=provider.pk, product_type=vmm_type, name="Cloud-1")
    catalog.set_tariff_price(tariff=t, period="1m", currency="USD", amount_minor=900)
    for intname, unit, lo, hi, step in (
        ("cpu", "vCPU", 1, 8, 1),
        ("ram", "MiB", 1024, 8192, 512),
        ("disk", "MiB", 10240, 40960, 5120),
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
def vmm_instance(vmm: RunningServer, vmm_type: Any) -> Any:
    from billow.services import actions

    return actions.create_module_instance(
        module="vmmanager6",
        name="vmm-1",
        config=vmm_config(vmm.url),
        secrets=vmm_secrets(),
        department="vps-team",
        product_types=[vmm_type],
        priority=1,
    )
