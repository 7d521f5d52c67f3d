"""Catalog fixtures: currencies, a provider, a VPS product type with an OS parameter, and a
VPS tariff with CPU / RAM / disk / IP addons priced in USD."""

from __future__ import annotations

from typing import Any

import pytest
from django.apps import apps

from billow.accounts.models import ClientGroup, Provider
from billow.catalog import actions
from billow.catalog.models import ProductType, Tariff


def catalog_counts() -> dict[str, int]:
    """Row count of every catalog table (and M2M through tables): 'nothing written' checks."""
    counts: dict[str, int] = {}
    for model in apps.get_app_config("catalog").get_models(include_auto_created=True):
        counts[model._meta.db_table] = model.objects.count()
    return counts


@pytest.fixture
def currencies(db: Any) -> None:
    actions.create_currency(code="USD", name="US dollar", symbol="$")
    actions.create_currency(code="EUR", name="Euro", symbol="€")
    actions.create_currency(code="JPY", name="Yen", symbol="¥")


@pytest.fixture
def provider(db: Any) -> Provider:
    return Provider.objects.create(name="Cloudy", code="cloudy")


@pytest.fixture
def group(db: Any) -> ClientGroup:
    return ClientGroup.objects.create(name="Resellers")


@pytest.fixture
def vps_type(db: Any) -> ProductType:
    pt = actions.create_product_type(name="VPS", intname="vps")
    actions.add_product_type_parameter(
        product_type=pt,
        name="Operating system",
        intname="os",
        values=[("debian-12", "Debian 12"), ("ubuntu-24.04", "Ubuntu 24.04")],
    )
    return pt


@pytest.fixture
def vps_tariff(currencies: None, provider: Provider, vps_type: ProductType) -> Tariff:
    """VPS-S: 5.00 USD/month (13.50 per quarter), setup 2.00; CPU 1 included (+3.00/vCPU),
    RAM 2 GiB included (+1.00/GiB, 0.50/GiB from unit 9), disk 20 GiB included in 10 GiB steps
    (+0.10/GiB), extra IPv4 (bool, 2.00), backups included."""
    t = actions.create_tariff(provider_id=provider.pk, product_type=vps_type, name="VPS-S")
    actions.set_tariff_price(
        tariff=t, period="1m", currency="USD", amount_minor=500, setup_fee_minor=200
    )
    actions.set_tariff_price(tariff=t, period="3m", currency="USD", amount_minor=1350)
    actions.create_addon(
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
    ram = actions.create_addon(
        tariff=t,
        name="RAM",
        intname="ram",
        unit="GiB",
        value_type="int",
        billing_type="on_order",
        currency="USD",
        unit_price_minor=100,
        included=2,
        min_value=1,
        max_value=64,
        step=1,
    )
    actions.set_addon_price_point(addon=ram, currency="USD", from_value=9, unit_price_minor=50)
    actions.create_addon(
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
    actions.create_addon(
        tariff=t,
        name="Extra IPv4",
        intname="ipv4",
        value_type="bool",
        billing_type="on_order",
        currency="USD",
        unit_price_minor=200,
    )
    actions.create_addon(
        tariff=t,
        name="Backups",
        intname="backup",
        value_type="bool",
        billing_type="included",
        currency="USD",
        included=1,
    )
    return t
