"""get_tariff_info (fixed query count, faithful snapshot) and tariff visibility."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from billow.accounts.models import ClientGroup, Provider
from billow.catalog import actions
from billow.catalog.models import Addon, ProductType, Tariff
from billow.catalog.pricing import PricePointInfo, lines_total, price_tariff
from billow.catalog.selectors import get_tariff_info, list_orderable_tariffs
from billow.core.errors import BillowError
from billow.core.money import Money

pytestmark = pytest.mark.django_db

VALUES = {"cpu": 4, "ram": 12, "disk": 50, "ipv4": True}


def _add_enum_addon(t: Tariff) -> Addon:
    enum = actions.create_enumeration(
        name="Disk class", intname="disk-class", values=[("ssd", "SSD"), ("nvme", "NVMe")]
    )
    addon = actions.create_addon(
        tariff=t,
        name="Disk class",
        intname="disk-class",
        value_type="enum",
        billing_type="on_order",
        currency="USD",
        enumeration=enum,
    )
    nvme = enum.values.get(intname="nvme")
    actions.set_enumeration_value_price(
        addon=addon, value=nvme, period="1m", currency="USD", amount_minor=400
    )
    actions.set_enumeration_value_price(
        addon=addon, value=nvme, period="3m", currency="USD", amount_minor=1100
    )
    return addon


def test_vps_priced_from_the_database(vps_tariff: Tariff) -> None:
    # given the VPS tariff with an enum disk-class addon
    _add_enum_addon(vps_tariff)
    info = get_tariff_info(vps_tariff.pk, "USD")
    # when priced for a month and a quarter
    month = price_tariff(
        info,
        period="1m",
        addon_values=VALUES | {"disk-class": "nvme"},
        currency="USD",
        parameters={"os": "ubuntu-24.04"},
    )
    quarter = price_tariff(info, period="3m", addon_values=VALUES, currency="USD")
    # then: 5 + 2 setup + 9 cpu + 6 + 2 ram + 3 disk + 2 ip + 4 nvme = 33.00
    assert lines_total(month, "USD") == Money(3300, "USD")
    # 13.50 (no setup fee on the quarterly price) + 27 + 18 + 6 + 9 + 6 + 0 (ssd) = 79.50
    assert lines_total(quarter, "USD") == Money(7950, "USD")
    assert [a.intname for a in info.addons] == [
        "cpu",
        "ram",
        "disk",
        "ipv4",
        "backup",
        "disk-class",
    ]
    assert info.addon("ram").points == (PricePointInfo(9, 50),)
    assert info.parameters[0].values == ("debian-12", "ubuntu-24.04")


def test_query_count_does_not_grow_with_addons(vps_tariff: Tariff) -> None:
    # given many more addons, points and enum prices
    _add_enum_addon(vps_tariff)
    for i in range(10):
        a = actions.create_addon(
            tariff=vps_tariff,
            name=f"R{i}",
            intname=f"r{i}",
            value_type="int",
            billing_type="on_order",
            currency="USD",
            max_value=100,
        )
        actions.set_addon_price_point(addon=a, currency="USD", from_value=50, unit_price_minor=1)
    # when the snapshot is built, then it takes exactly 9 queries
    with CaptureQueriesContext(connection) as ctx:
        info = get_tariff_info(vps_tariff.pk, "USD")
    assert len(ctx.captured_queries) == 9
    assert len(info.addons) == 16


def test_other_currency_uses_its_own_prices(vps_tariff: Tariff) -> None:
    # given EUR prices for the tariff and RAM only
    actions.set_tariff_price(tariff=vps_tariff, period="1m", currency="EUR", amount_minor=450)
    ram = vps_tariff.addons.get(intname="ram")
    actions.set_addon_price(addon=ram, period="1m", currency="EUR", unit_price_minor=90)
    info = get_tariff_info(vps_tariff.pk, "EUR")
    # then RAM is priced in EUR, and CPU (USD-only price) cannot be billed in EUR
    lines = price_tariff(info, period="1m", addon_values={"ram": 4}, currency="EUR")
    assert lines_total(lines, "EUR") == Money(450 + 2 * 90, "EUR")
    assert info.addon("ram").points == ()  # the USD point does not apply to EUR
    with pytest.raises(BillowError) as exc:
        price_tariff(info, period="1m", addon_values={"cpu": 2}, currency="EUR")
    assert exc.value.code == "addon_period_not_priced"


def test_inactive_addons_are_left_out(vps_tariff: Tariff) -> None:
    Addon.objects.filter(intname="ipv4").update(is_active=False)
    info = get_tariff_info(vps_tariff.pk, "USD")
    with pytest.raises(BillowError) as exc:
        info.addon("ipv4")
    assert exc.value.code == "unknown_addon"


def test_missing_tariff_and_unknown_currency(vps_tariff: Tariff) -> None:
    with pytest.raises(BillowError) as exc:
        get_tariff_info(vps_tariff.pk + 100, "USD")
    assert exc.value.code == "tariff_not_found"
    with pytest.raises(BillowError) as exc:
        get_tariff_info(vps_tariff.pk, "XXX")
    assert exc.value.code == "unknown_currency"


def test_orderable_tariffs_respect_group_visibility(
    currencies: None, provider: Provider, vps_type: ProductType, group: ClientGroup
) -> None:
    # given: open to all; only VIP; hidden from resellers; archived
    vip = ClientGroup.objects.create(name="VIP")
    mk = actions.create_tariff
    mk(provider_id=provider.pk, product_type=vps_type, name="A-open", sort=1)
    mk(provider_id=provider.pk, product_type=vps_type, name="B-vip", visible_to_groups=[vip.pk])
    mk(
        provider_id=provider.pk,
        product_type=vps_type,
        name="C-no-resellers",
        hidden_from_groups=[group.pk],
    )
    mk(provider_id=provider.pk, product_type=vps_type, name="D-old", status="archived")

    def names(groups: list[int]) -> list[str]:
        return sorted(
            t.name for t in list_orderable_tariffs(provider_id=provider.pk, group_ids=groups)
        )

    # then
    assert names([]) == ["A-open", "C-no-resellers"]
    assert names([vip.pk]) == ["A-open", "B-vip", "C-no-resellers"]
    assert names([group.pk]) == ["A-open"]
    assert names([group.pk, vip.pk]) == ["A-open", "B-vip"]
