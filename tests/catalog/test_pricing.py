"""Pure pricing (no database): hand-built TariffInfo in, exact lines out."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from billow.catalog.pricing import (
    AddonInfo,
    EnumValueInfo,
    LineKind,
    ParameterInfo,
    PeriodPrice,
    PriceLine,
    PricePointInfo,
    TariffInfo,
    check_addon_change,
    lines_total,
    price_tariff,
)
from billow.core.errors import BillowError
from billow.core.money import Money

CPU = AddonInfo(
    "cpu",
    "CPU",
    "vCPU",
    "int",
    "on_order",
    included=1,
    min_value=1,
    max_value=16,
    default_value=1,
    edit_policy="increase_only",
    monthly_unit_price_minor=300,
)
RAM = AddonInfo(
    "ram",
    "RAM",
    "GiB",
    "int",
    "on_order",
    included=2,
    min_value=1,
    max_value=64,
    default_value=2,
    monthly_unit_price_minor=100,
    period_prices={},
    points=(PricePointInfo(9, 50),),
)
DISK = AddonInfo(
    "disk",
    "Disk",
    "GiB",
    "int",
    "on_order",
    included=20,
    min_value=20,
    max_value=500,
    step=10,
    default_value=20,
    monthly_unit_price_minor=10,
    edit_policy="decrease_only",
)
IPV4 = AddonInfo("ipv4", "Extra IPv4", "", "bool", "on_order", monthly_unit_price_minor=200)
BACKUP = AddonInfo("backup", "Backups", "", "bool", "included", included=1)
DISK_CLASS = AddonInfo(
    "disk-class",
    "Disk class",
    "",
    "enum",
    "on_order",
    edit_policy="fixed",
    enum_values=(
        EnumValueInfo("ssd", "SSD"),
        EnumValueInfo("nvme", "NVMe", {"1m": 400, "3m": 1100}),
        EnumValueInfo("hdd", "HDD", {"1m": 100}),
    ),
)
TRAFFIC = AddonInfo(
    "traffic",
    "Traffic",
    "GiB",
    "int",
    "statistics",
    included=1000,
    overage_price_minor=Decimal("1.5"),
)
PANEL = AddonInfo(
    "panel",
    "Panel",
    "",
    "bool",
    "client_choice",
    monthly_unit_price_minor=0,
    children=("none", "ispmanager"),
)
PANEL_NONE = AddonInfo("none", "No panel", "", "bool", "on_order", included=1, parent="panel")
PANEL_ISP = AddonInfo(
    "ispmanager", "ISPmanager", "", "bool", "on_order", parent="panel", monthly_unit_price_minor=650
)

INFO = TariffInfo(
    id=1,
    name="VPS-S",
    currency="USD",
    provider_id=1,
    product_type="vps",
    status="active",
    billing_mode="anniversary",
    prorata_day=1,
    trial_days=0,
    order_limit=None,
    prices={
        "1m": PeriodPrice(500, 200),
        "3m": PeriodPrice(1350, 200),
        "day": PeriodPrice(20, 0),
        "trial": PeriodPrice(0, 0),
    },
    addons=(CPU, RAM, DISK, IPV4, BACKUP, DISK_CLASS, TRAFFIC, PANEL, PANEL_NONE, PANEL_ISP),
    parameters=(ParameterInfo("os", "OS", True, ("debian-12", "ubuntu-24.04")),),
)

VALUES: dict[str, Any] = {"cpu": 4, "ram": 12, "disk": 50, "ipv4": True}


def _rows(lines: list[PriceLine]) -> list[tuple[str, str, int, int, int]]:
    return [
        (ln.kind.value, ln.code, ln.quantity, ln.unit_price.amount_minor, ln.amount.amount_minor)
        for ln in lines
    ]


def test_vps_monthly_exact_lines() -> None:
    # when a VPS with 4 vCPU, 12 GiB RAM, 50 GiB disk and an extra IP is priced for 1 month
    lines = price_tariff(
        INFO, period="1m", addon_values=VALUES, currency="USD", parameters={"os": "debian-12"}
    )
    # then every line is exact and explains itself
    assert _rows(lines) == [
        ("tariff", "tariff", 1, 500, 500),
        ("setup", "setup", 1, 200, 200),
        ("addon", "cpu", 3, 300, 900),
        ("addon", "ram", 6, 100, 600),  # units 3..8 at the base price
        ("addon", "ram", 4, 50, 200),  # units 9..12 at the price point from 9
        ("addon", "disk", 30, 10, 300),
        ("addon", "ipv4", 1, 200, 200),
        ("addon", "backup", 0, 0, 0),
        ("addon", "disk-class", 1, 0, 0),  # default: first value, SSD, no price -> free
        ("addon", "traffic", 0, 0, 0),
        ("addon", "panel", 0, 0, 0),  # default: first option, "No panel", included
    ]
    assert lines_total(lines, "USD") == Money(2900, "USD")
    assert lines[2].reason == "4 vCPU, 1 included, 3 x 3.00 USD"
    assert lines[3].description == "RAM: units 3-8"
    assert lines[4].reason == "12 GiB, 2 included, 4 x 0.50 USD (price point from 9)"
    assert lines[7].reason == "True, included in the tariff"
    assert lines[9].reason.startswith("billed by usage (per_month): 1000 GiB included, then 1.5 ")


def test_vps_quarterly_multiplies_monthly_prices_by_three() -> None:
    lines = price_tariff(INFO, period="3m", addon_values=VALUES, currency="USD")
    assert _rows(lines)[:7] == [
        ("tariff", "tariff", 1, 1350, 1350),
        ("setup", "setup", 1, 200, 200),
        ("addon", "cpu", 3, 900, 2700),
        ("addon", "ram", 6, 300, 1800),
        ("addon", "ram", 4, 150, 600),
        ("addon", "disk", 30, 30, 900),
        ("addon", "ipv4", 1, 600, 600),
    ]
    assert lines_total(lines, "USD") == Money(8150, "USD")
    assert lines[2].reason == "4 vCPU, 1 included, 3 x 3.00 USD/month x 3 months"


def test_addon_period_price_replaces_monthly_times_months() -> None:
    # given a quarterly RAM unit price of 2.70 (instead of 3 x 1.00)
    info = replace(INFO, addons=(replace(RAM, period_prices={"3m": 270}),))
    lines = price_tariff(info, period="3m", addon_values={"ram": 12}, currency="USD")
    # then units below the first point use it; the point sector stays 3 x 0.50
    assert _rows(lines)[2:] == [("addon", "ram", 6, 270, 1620), ("addon", "ram", 4, 150, 600)]
    assert lines[2].reason == "12 GiB, 2 included, 6 x 2.70 USD per unit for 3 months"


def test_renewal_without_setup_fee() -> None:
    lines = price_tariff(INFO, period="1m", addon_values={}, currency="USD", include_setup=False)
    assert [ln.kind for ln in lines].count(LineKind.SETUP) == 0
    assert lines_total(lines, "USD") == Money(500, "USD")


def test_stepped_points_several_sectors() -> None:
    # given 0 included; 1.00 for units 1-4, 0.80 for 5-9, 0.60 from 10
    ram = replace(RAM, included=0, points=(PricePointInfo(10, 60), PricePointInfo(5, 80)))
    info = replace(INFO, addons=(ram,))
    # when 12 units are ordered
    lines = price_tariff(info, period="1m", addon_values={"ram": 12}, currency="USD")
    # then 4 x 1.00 + 5 x 0.80 + 3 x 0.60 = 9.80
    assert _rows(lines)[2:] == [
        ("addon", "ram", 4, 100, 400),
        ("addon", "ram", 5, 80, 400),
        ("addon", "ram", 3, 60, 180),
    ]
    assert lines_total(lines, "USD") == Money(500 + 200 + 980, "USD")


def test_point_from_one_replaces_base_price() -> None:
    ram = replace(RAM, included=0, points=(PricePointInfo(1, 70),))
    lines = price_tariff(
        replace(INFO, addons=(ram,)), period="1m", addon_values={"ram": 3}, currency="USD"
    )
    assert _rows(lines)[2:] == [("addon", "ram", 3, 70, 210)]


@pytest.mark.parametrize(
    ("value", "period", "unit"),
    [("nvme", "1m", 400), ("nvme", "3m", 1100), ("hdd", "3m", 300), ("ssd", "3m", 0)],
)
def test_enum_values(value: str, period: str, unit: int) -> None:
    lines = price_tariff(INFO, period=period, addon_values={"disk-class": value}, currency="USD")
    line = next(ln for ln in lines if ln.code == "disk-class")
    assert (line.quantity, line.amount.amount_minor) == (1, unit)


def test_client_choice_bills_the_chosen_child() -> None:
    lines = price_tariff(INFO, period="3m", addon_values={"panel": "ispmanager"}, currency="USD")
    line = next(ln for ln in lines if ln.code == "panel")
    assert (line.description, line.quantity, line.amount.amount_minor) == (
        "Panel: ISPmanager",
        1,
        1950,
    )


def test_trial_period_addons_are_free_without_trial_price() -> None:
    lines = price_tariff(INFO, period="trial", addon_values=VALUES, currency="USD")
    assert lines_total(lines, "USD") == Money(0, "USD")


def test_bool_off_costs_nothing() -> None:
    lines = price_tariff(INFO, period="1m", addon_values={"ipv4": False}, currency="USD")
    line = next(ln for ln in lines if ln.code == "ipv4")
    assert (line.quantity, line.amount.amount_minor, line.reason) == (0, 0, "off")


@pytest.mark.parametrize(
    ("period", "values", "code"),
    [
        ("1m", {"cpu": 17}, "addon_value_out_of_range"),
        ("1m", {"cpu": 0}, "addon_value_out_of_range"),
        ("1m", {"disk": 55}, "addon_step_mismatch"),
        ("1m", {"cpu": "4"}, "invalid_addon_value"),
        ("1m", {"cpu": True}, "invalid_addon_value"),
        ("1m", {"ipv4": "yes"}, "invalid_addon_value"),
        ("1m", {"gpu": 1}, "unknown_addon"),
        ("1m", {"ispmanager": True}, "unknown_addon"),
        ("1m", {"disk-class": "floppy"}, "invalid_enum_value"),
        ("1m", {"panel": "cpanel"}, "invalid_enum_value"),
        ("1m", {"backup": False}, "addon_edit_forbidden"),
        ("1m", {"traffic": 5}, "addon_edit_forbidden"),
        ("12m", {}, "period_not_offered"),
        ("2m", {}, "invalid_period"),
        ("day", {"cpu": 2}, "addon_period_not_priced"),
        ("day", {"disk-class": "nvme"}, "addon_period_not_priced"),
    ],
)
def test_invalid_requests_are_refused(period: str, values: dict[str, Any], code: str) -> None:
    with pytest.raises(BillowError) as exc:
        price_tariff(INFO, period=period, addon_values=values, currency="USD")
    assert exc.value.code == code


def test_day_period_with_all_addons_at_defaults_is_priced() -> None:
    # CPU at its included value bills nothing, so no day price is needed
    lines = price_tariff(INFO, period="day", addon_values={}, currency="USD")
    assert lines_total(lines, "USD") == Money(20, "USD")


@pytest.mark.parametrize(
    ("parameters", "code"),
    [
        ({}, "missing_parameter"),
        ({"os": "windows"}, "invalid_parameter_value"),
        ({"os": "debian-12", "panel": "x"}, "unknown_parameter"),
    ],
)
def test_parameters_are_checked(parameters: dict[str, str], code: str) -> None:
    with pytest.raises(BillowError) as exc:
        price_tariff(INFO, period="1m", addon_values={}, currency="USD", parameters=parameters)
    assert exc.value.code == code


def test_currency_must_match_info() -> None:
    with pytest.raises(BillowError) as exc:
        price_tariff(INFO, period="1m", addon_values={}, currency="EUR")
    assert exc.value.code == "currency_mismatch"


@pytest.mark.parametrize(
    ("addon", "old", "new", "allowed"),
    [
        ("cpu", 2, 4, True),  # increase_only
        ("cpu", 4, 2, False),
        ("disk", 50, 30, True),  # decrease_only
        ("disk", 30, 50, False),
        ("ram", 4, 2, True),  # any
        ("disk-class", "ssd", "nvme", False),  # fixed
        ("disk-class", "ssd", "ssd", True),
        ("backup", True, False, False),  # included
        ("traffic", 1000, 2000, False),  # statistics
        ("ipv4", False, True, True),
    ],
)
def test_check_addon_change(addon: str, old: Any, new: Any, allowed: bool) -> None:
    if allowed:
        check_addon_change(INFO, addon, old, new)
        return
    with pytest.raises(BillowError) as exc:
        check_addon_change(INFO, addon, old, new)
    assert exc.value.code == "addon_edit_forbidden"


def test_check_addon_change_validates_new_value() -> None:
    with pytest.raises(BillowError) as exc:
        check_addon_change(INFO, "cpu", 2, 99)
    assert exc.value.code == "addon_value_out_of_range"


# -- property: lines add up, none negative, each line is unit x quantity ----------------------


def _expected_addon_total(a: AddonInfo, value: int, months: int) -> int:
    """Brute force: price every billed unit by the sector it falls in."""
    total = 0
    for u in range(a.included + 1, value + 1):
        points = [p for p in a.points if p.from_value <= u]
        monthly = (
            max(points, key=lambda p: p.from_value).unit_price_minor
            if points
            else a.monthly_unit_price_minor
        )
        assert monthly is not None
        total += monthly * months
    return total


@st.composite
def int_addons(draw: st.DrawFn) -> tuple[AddonInfo, int]:
    step = draw(st.integers(1, 5))
    min_value = draw(st.integers(0, 10))
    max_value = min_value + step * draw(st.integers(0, 40))
    included = draw(st.integers(0, max_value + 3))
    point_from = draw(st.lists(st.integers(1, max_value + 1), unique=True, max_size=4))
    points = tuple(PricePointInfo(f, draw(st.integers(0, 10**6))) for f in point_from)
    addon = AddonInfo(
        "res",
        "Resource",
        "u",
        "int",
        "on_order",
        included=included,
        min_value=min_value,
        max_value=max_value,
        step=step,
        default_value=min_value,
        monthly_unit_price_minor=draw(st.integers(0, 10**6)),
        points=points,
    )
    value = min_value + step * draw(st.integers(0, (max_value - min_value) // step))
    return addon, value


@settings(max_examples=300, deadline=None)
@given(
    addon_value=int_addons(),
    period=st.sampled_from(["1m", "3m", "6m", "12m", "24m", "36m"]),
    tariff_price=st.integers(0, 10**9),
    setup=st.integers(0, 10**6),
)
def test_lines_sum_to_total_and_never_negative(
    addon_value: tuple[AddonInfo, int], period: str, tariff_price: int, setup: int
) -> None:
    addon, value = addon_value
    months = int(period.rstrip("m"))
    info = replace(INFO, prices={period: PeriodPrice(tariff_price, setup)}, addons=(addon,))
    lines = price_tariff(info, period=period, addon_values={"res": value}, currency="USD")
    total = lines_total(lines, "USD")
    assert sum(ln.amount.amount_minor for ln in lines) == total.amount_minor
    assert all(ln.amount.amount_minor >= 0 and ln.quantity >= 0 for ln in lines)
    assert all(ln.unit_price * ln.quantity == ln.amount for ln in lines)
    billed_units = sum(ln.quantity for ln in lines if ln.code == "res")
    assert billed_units == max(0, value - addon.included)
    assert total.amount_minor == tariff_price + setup + _expected_addon_total(addon, value, months)
