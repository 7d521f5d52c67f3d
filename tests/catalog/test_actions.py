"""Catalog actions: what they write, and that every refusal has its code and writes nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.db import IntegrityError, transaction

from billow.accounts.models import ClientGroup, Provider
from billow.catalog import actions
from billow.catalog.models import (
    Addon,
    AddonPricePoint,
    ExchangeRate,
    ParameterValue,
    ProductType,
    Tariff,
    TariffPrice,
)
from billow.core.errors import BillowError

from .conftest import catalog_counts

pytestmark = pytest.mark.django_db

Case = Callable[[Tariff, ProductType, ClientGroup], Any]


def _addon(t: Tariff, **kw: Any) -> Addon:
    base: dict[str, Any] = {
        "tariff": t,
        "name": "X",
        "intname": "x",
        "value_type": "int",
        "billing_type": "on_order",
        "currency": "USD",
    }
    return actions.create_addon(**(base | kw))


def _price(t: Tariff, **kw: Any) -> TariffPrice:
    base: dict[str, Any] = {"tariff": t, "period": "1m", "currency": "USD", "amount_minor": 100}
    return actions.set_tariff_price(**(base | kw))


def _rate(**kw: Any) -> ExchangeRate:
    base: dict[str, Any] = {
        "base": "EUR",
        "quote": "USD",
        "valid_from": date(2026, 1, 1),
        "rate": "1.1",
    }
    return actions.set_exchange_rate(**(base | kw))


def _tariff(pt: ProductType, **kw: Any) -> Tariff:
    provider = Provider.objects.get()
    return actions.create_tariff(
        **({"provider_id": provider.pk, "product_type": pt, "name": "New"} | kw)
    )


REFUSALS: dict[str, tuple[str, Case]] = {
    "negative price": ("negative_price", lambda t, pt, g: _price(t, amount_minor=-1)),
    "negative setup fee": ("negative_price", lambda t, pt, g: _price(t, setup_fee_minor=-5)),
    "price at 2^63": ("amount_out_of_range", lambda t, pt, g: _price(t, amount_minor=2**63)),
    "price below -2^63": ("amount_out_of_range", lambda t, pt, g: _price(t, amount_minor=-(2**64))),
    "float price": ("invalid_amount", lambda t, pt, g: _price(t, amount_minor=1.5)),
    "unknown currency": ("unknown_currency", lambda t, pt, g: _price(t, currency="XXX")),
    "currency not enabled": ("unknown_currency", lambda t, pt, g: _price(t, currency="GBP")),
    "unknown period": ("invalid_period", lambda t, pt, g: _price(t, period="2m")),
    "prorata day 0": ("invalid_prorata_day", lambda t, pt, g: _tariff(pt, prorata_day=0)),
    "prorata day 29": ("invalid_prorata_day", lambda t, pt, g: _tariff(pt, prorata_day=29)),
    "bad tariff status": ("invalid_choice", lambda t, pt, g: _tariff(pt, status="deleted")),
    "bad billing mode": ("invalid_choice", lambda t, pt, g: _tariff(pt, billing_mode="weekly")),
    "negative order limit": ("invalid_range", lambda t, pt, g: _tariff(pt, order_limit=-1)),
    "duplicate tariff name": ("duplicate", lambda t, pt, g: _tariff(pt, name="VPS-S")),
    "group allowed and hidden": (
        "group_visibility_overlap",
        lambda t, pt, g: _tariff(pt, visible_to_groups=[g.pk], hidden_from_groups=[g.pk]),
    ),
    "change provider": (
        "tariff_field_immutable",
        lambda t, pt, g: actions.update_tariff(tariff=t, provider_id=t.provider_id),
    ),
    "change product type": (
        "tariff_field_immutable",
        lambda t, pt, g: actions.update_tariff(tariff=t, product_type=pt, name="Renamed"),
    ),
    "update prorata day": (
        "invalid_prorata_day",
        lambda t, pt, g: actions.update_tariff(tariff=t, prorata_day=31),
    ),
    "min > max": ("invalid_range", lambda t, pt, g: _addon(t, min_value=5, max_value=4)),
    "step does not divide": (
        "step_does_not_divide_range",
        lambda t, pt, g: _addon(t, min_value=0, max_value=10, step=3),
    ),
    "step 0": ("invalid_step", lambda t, pt, g: _addon(t, step=0)),
    "default outside scale": (
        "invalid_range",
        lambda t, pt, g: _addon(t, max_value=10, default_value=11),
    ),
    "negative addon price": ("negative_price", lambda t, pt, g: _addon(t, unit_price_minor=-1)),
    "addon price at 2^63": (
        "amount_out_of_range",
        lambda t, pt, g: _addon(t, unit_price_minor=2**63),
    ),
    "negative overage": (
        "negative_price",
        lambda t, pt, g: _addon(t, billing_type="statistics", overage_price_minor="-0.01"),
    ),
    "float overage": ("invalid_amount", lambda t, pt, g: _addon(t, overage_price_minor=0.5)),
    "huge overage": (
        "amount_out_of_range",
        lambda t, pt, g: _addon(t, overage_price_minor=Decimal("1e10")),
    ),
    "enum without enumeration": (
        "enumeration_required",
        lambda t, pt, g: _addon(t, value_type="enum"),
    ),
    "bool statistics": (
        "invalid_choice",
        lambda t, pt, g: _addon(t, value_type="bool", billing_type="statistics"),
    ),
    "bool included 2": ("invalid_range", lambda t, pt, g: _addon(t, value_type="bool", included=2)),
    "parent not client choice": (
        "invalid_parent",
        lambda t, pt, g: _addon(t, value_type="bool", parent=t.addons.get(intname="cpu")),
    ),
    "bad intname": ("invalid_intname", lambda t, pt, g: _addon(t, intname="Has Space")),
    "duplicate addon": ("duplicate", lambda t, pt, g: _addon(t, intname="cpu")),
    "unknown addon currency": ("unknown_currency", lambda t, pt, g: _addon(t, currency="ABC")),
    "point on bool addon": (
        "addon_not_stepped",
        lambda t, pt, g: actions.set_addon_price_point(
            addon=t.addons.get(intname="ipv4"), currency="USD", from_value=2, unit_price_minor=1
        ),
    ),
    "point beyond max": (
        "invalid_range",
        lambda t, pt, g: actions.set_addon_price_point(
            addon=t.addons.get(intname="ram"), currency="USD", from_value=65, unit_price_minor=1
        ),
    ),
    "negative point price": (
        "negative_price",
        lambda t, pt, g: actions.set_addon_price_point(
            addon=t.addons.get(intname="ram"), currency="USD", from_value=4, unit_price_minor=-1
        ),
    ),
    "negative addon period price": (
        "negative_price",
        lambda t, pt, g: actions.set_addon_price(
            addon=t.addons.get(intname="ram"), period="3m", currency="USD", unit_price_minor=-3
        ),
    ),
    "rate zero": ("invalid_rate", lambda t, pt, g: _rate(rate=0)),
    "rate negative": ("invalid_rate", lambda t, pt, g: _rate(rate="-1.2")),
    "rate not a number": ("invalid_amount", lambda t, pt, g: _rate(rate="abc")),
    "rate too large": ("amount_out_of_range", lambda t, pt, g: _rate(rate=10**10)),
    "rate same currency": ("same_currency_rate", lambda t, pt, g: _rate(quote="EUR")),
    "rate unknown currency": ("unknown_currency", lambda t, pt, g: _rate(base="XYZ")),
    "currency not in ISO table": (
        "unknown_currency",
        lambda t, pt, g: actions.create_currency(code="XYZ", name="?"),
    ),
    "duplicate currency": (
        "duplicate",
        lambda t, pt, g: actions.create_currency(code="USD", name="$"),
    ),
    "duplicate product type": (
        "duplicate",
        lambda t, pt, g: actions.create_product_type(name="VPS 2", intname="vps"),
    ),
    "bad deletion policy": (
        "invalid_choice",
        lambda t, pt, g: actions.create_product_type(name="S3", intname="s3", deletion_policy="x"),
    ),
    "duplicate parameter values": (
        "duplicate",
        lambda t, pt, g: actions.add_product_type_parameter(
            product_type=pt, name="Panel", intname="panel", values=[("a", "A"), ("a", "A2")]
        ),
    ),
    "duplicate enumeration values": (
        "duplicate",
        lambda t, pt, g: actions.create_enumeration(
            name="Disk", intname="disk", values=[("ssd", "SSD"), ("ssd", "SSD again")]
        ),
    ),
}


@pytest.mark.parametrize("name", list(REFUSALS))
def test_refusal_has_code_and_writes_nothing(
    name: str, vps_tariff: Tariff, vps_type: ProductType, group: ClientGroup
) -> None:
    # given a seeded catalog
    code, call = REFUSALS[name]
    vps_tariff.refresh_from_db()
    before = catalog_counts()
    # when the bad request is made
    with pytest.raises(BillowError) as exc:
        call(vps_tariff, vps_type, group)
    # then it is refused with the stable code and nothing changed
    assert exc.value.code == code
    assert catalog_counts() == before
    vps_tariff.refresh_from_db()
    assert (vps_tariff.name, vps_tariff.prorata_day) == ("VPS-S", 1)


def test_enum_price_for_value_of_another_enumeration_is_refused(vps_tariff: Tariff) -> None:
    # given two enumerations and an addon on the first
    disks = actions.create_enumeration(name="Disk", intname="disk", values=[("ssd", "SSD")])
    other = actions.create_enumeration(name="Net", intname="net", values=[("br0", "Bridge")])
    addon = _addon(vps_tariff, intname="disk-class", value_type="enum", enumeration=disks)
    before = catalog_counts()
    # when a price is set for a value of the other enumeration
    with pytest.raises(BillowError) as exc:
        actions.set_enumeration_value_price(
            addon=addon, value=other.values.get(), period="1m", currency="USD", amount_minor=1
        )
    # then
    assert exc.value.code == "invalid_enum_value"
    assert catalog_counts() == before


def test_set_tariff_price_upserts_one_row(vps_tariff: Tariff) -> None:
    # when the monthly USD price is set twice
    actions.set_tariff_price(tariff=vps_tariff, period="1m", currency="USD", amount_minor=700)
    actions.set_tariff_price(
        tariff=vps_tariff, period="1m", currency="USD", amount_minor=2**63 - 1, setup_fee_minor=0
    )
    # then one row holds the last values (the largest storable amount round-trips)
    row = TariffPrice.objects.get(tariff=vps_tariff, period="1m", currency="USD")
    assert (row.amount_minor, row.setup_fee_minor) == (2**63 - 1, 0)


def test_create_tariff_stores_visibility_and_policy(
    currencies: None, provider: Provider, vps_type: ProductType, group: ClientGroup
) -> None:
    # when
    vip = ClientGroup.objects.create(name="VIP")
    t = actions.create_tariff(
        provider_id=provider.pk,
        product_type=vps_type,
        name="VPS-XL",
        billing_mode="calendar",
        prorata_day=28,
        order_limit=3,
        trial_days=7,
        visible_to_groups=[vip.pk],
        hidden_from_groups=[group.pk],
    )
    # then
    t.refresh_from_db()
    assert (t.billing_mode, t.prorata_day, t.order_limit, t.trial_days) == ("calendar", 28, 3, 7)
    assert list(t.visible_to_groups.values_list("name", flat=True)) == ["VIP"]
    assert list(t.hidden_from_groups.values_list("name", flat=True)) == ["Resellers"]


def test_update_tariff_changes_only_mutable_fields(vps_tariff: Tariff) -> None:
    actions.update_tariff(tariff=vps_tariff, name="VPS-Small", status="archived", prorata_day=15)
    vps_tariff.refresh_from_db()
    assert (vps_tariff.name, vps_tariff.status, vps_tariff.prorata_day) == (
        "VPS-Small",
        "archived",
        15,
    )


def test_product_type_parameter_values_keep_order(vps_type: ProductType) -> None:
    values = ParameterValue.objects.filter(parameter__product_type=vps_type)
    assert list(values.values_list("intname", "sort")) == [("debian-12", 0), ("ubuntu-24.04", 1)]


def test_create_addon_defaults_and_overage_decimal(vps_tariff: Tariff) -> None:
    # when a statistics addon is created with a sub-cent overage rate per GiB-hour
    addon = _addon(
        vps_tariff,
        intname="traffic",
        unit="GiB-hour",
        billing_type="statistics",
        included=100,
        overage_price_minor="0.0137",
        statistics_rating="per_day",
        aggregation="max",
    )
    # then the rate is stored exactly and the default value is the included amount
    addon.refresh_from_db()
    assert addon.overage_price_minor == Decimal("0.0137")
    assert addon.default_value == 100


def test_price_point_upserts(vps_tariff: Tariff) -> None:
    ram = vps_tariff.addons.get(intname="ram")
    actions.set_addon_price_point(addon=ram, currency="USD", from_value=9, unit_price_minor=40)
    assert list(
        AddonPricePoint.objects.filter(addon=ram).values_list("from_value", "unit_price_minor")
    ) == [(9, 40)]


@pytest.mark.parametrize(
    ("model_kwargs", "constraint"),
    [
        ({"amount_minor": -1}, "non_negative"),
        ({"setup_fee_minor": -1}, "non_negative"),
    ],
)
def test_database_refuses_negative_prices_that_bypass_actions(
    vps_tariff: Tariff, model_kwargs: dict[str, int], constraint: str
) -> None:
    # given a write that skips the action layer, then the CHECK constraint still refuses it
    with pytest.raises(IntegrityError, match=constraint), transaction.atomic():
        TariffPrice.objects.create(
            tariff=vps_tariff,
            period="6m",
            currency_id="USD",
            **({"amount_minor": 1} | model_kwargs),
        )


def test_database_refuses_min_above_max(vps_tariff: Tariff) -> None:
    with pytest.raises(IntegrityError, match="min_le_max"), transaction.atomic():
        Addon.objects.filter(intname="ram").update(min_value=100)
