"""Services fixtures: a VPS tariff sold by one provider, a client of it, module instances."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from django.apps import apps
from huey.contrib.djhuey import HUEY

from billow.accounts.models import Client, Provider
from billow.catalog import actions as catalog
from billow.catalog.models import ProductType, Tariff
from billow.core import clock
from billow.services import actions
from billow.services.models import ModuleInstance, Service
from billow.services.modules.dummy import reset_store

T0 = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)


def services_counts() -> dict[str, int]:
    """Row count of every services table: 'nothing written' checks."""
    return {
        m._meta.db_table: m.objects.count()
        for m in apps.get_app_config("services").get_models(include_auto_created=True)
    }


def snapshot(service: Service) -> dict[str, Any]:
    service.refresh_from_db()
    return {f.attname: getattr(service, f.attname) for f in Service._meta.concrete_fields}


@pytest.fixture(autouse=True)
def _isolated() -> Iterator[None]:
    """Empty dummy panel, Huey in immediate (in-memory) mode, a clock standing at T0."""
    reset_store()
    previous = HUEY.immediate
    HUEY.immediate = True
    HUEY.flush()
    try:
        with clock.use_clock(clock.FixedClock(T0)):
            yield
    finally:
        HUEY.flush()
        HUEY.immediate = previous
        reset_store()


@pytest.fixture
def provider(db: Any) -> Provider:
    catalog.create_currency(code="USD", name="US dollar", symbol="$")
    catalog.create_currency(code="EUR", name="Euro", symbol="€")
    return Provider.objects.create(name="Cloudy", code="cloudy")


@pytest.fixture
def other_provider(db: Any) -> Provider:
    return Provider.objects.create(name="Other", code="other")


@pytest.fixture
def client(provider: Provider) -> Client:
    c = Client.objects.create(name="Ann", email="ann@example.com")
    c.providers.add(provider)
    return c


@pytest.fixture
def vps_type(db: Any) -> ProductType:
    pt = catalog.create_product_type(name="VPS", intname="vps")
    catalog.add_product_type_parameter(
        product_type=pt,
        name="Operating system",
        intname="os",
        values=[("debian-12", "Debian 12"), ("ubuntu-24.04", "Ubuntu 24.04")],
    )
    return pt


@pytest.fixture
def tariff(provider: Provider, vps_type: ProductType) -> Tariff:
    """VPS-S: 5.00 USD a month, 13.50 a quarter; CPU 1..16 (1 included, increase only), disk
    20..500 GiB in steps of 10."""
    t = catalog.create_tariff(provider_id=provider.pk, product_type=vps_type, name="VPS-S")
    catalog.set_tariff_price(tariff=t, period="1m", currency="USD", amount_minor=500)
    catalog.set_tariff_price(tariff=t, period="3m", currency="USD", amount_minor=1350)
    catalog.create_addon(
        tariff=t,
        name="CPU",
        intname="cpu",
        unit="vCPU",
        value_type="int",
        billing_type="on_order",
        currency="USD",
        unit_price_minor=300,
        included=1,
        min_value=1,
        max_value=16,
        step=1,
        edit_policy="increase_only",
    )
    catalog.create_addon(
        tariff=t,
        name="Disk",
        intname="disk",
        unit="GiB",
        value_type="int",
        billing_type="on_order",
        currency="USD",
        unit_price_minor=10,
        included=20,
        min_value=20,
        max_value=500,
        step=10,
    )
    return t


@pytest.fixture
def dummy(vps_type: ProductType) -> ModuleInstance:
    return actions.create_module_instance(
        module="dummy",
        name="dummy-1",
        department="vps-team",
        product_types=[vps_type],
        priority=10,
    )


@pytest.fixture
def service(client: Client, tariff: Tariff, dummy: ModuleInstance) -> Service:
    return actions.create_service(
        client=client,
        tariff=tariff,
        period="1m",
        currency="USD",
        addon_values={"cpu": 2},
        parameters={"os": "debian-12"},
    )
