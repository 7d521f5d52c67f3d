"""The order form's choices of a build: narrowed to what fits the chassis and the other picks,
parts not in stock marked on order with the date a server of them could be ready."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest

from billow.inventory.choices import PartChoice, part_choices
from billow.inventory.models import ComponentModel
from billow.inventory.publish import value_of
from tests.inventory.conftest import Catalogue, make_catalogue

NOW = datetime(2026, 12, 8, 9, 0, tzinfo=UTC)
ON_ORDER = date(2026, 12, 20)  # 10 days to buy + 2 to assemble


@dataclass
class More:
    ddr4_chassis: ComponentModel
    old_cpu: ComponentModel
    nic: ComponentModel
    gpu: ComponentModel


def more_parts() -> More:
    mk = ComponentModel.objects.create
    return More(
        ddr4_chassis=mk(
            kind="chassis",
            name="R240 1U",
            socket="LGA1151",
            memory_type="DDR4",
            form_factor="1U",
            tdp_watts=60,
            cpu_sockets=1,
            ram_slots=4,
            max_ram_gb=64,
            drive_bays=2,
            drive_form_factor="3.5",
            pcie_slots=2,
            psu_watts=300,
            monthly_price_minor=3000,
        ),
        old_cpu=mk(
            kind="cpu",
            name="Xeon E-2288G",
            socket="LGA1151",
            tdp_watts=95,
            monthly_price_minor=2500,
        ),
        nic=mk(kind="nic", name="25G NIC", tdp_watts=15, monthly_price_minor=900),
        gpu=mk(kind="gpu", name="L4 GPU", tdp_watts=72, monthly_price_minor=9000),
    )


@pytest.fixture
def parts(db: object) -> tuple[Catalogue, More]:
    return make_catalogue(), more_parts()


def values(chassis: int, cpu: int, ram: str, *, nic: str = "none", gpu: str = "none") -> dict:
    return {
        "chassis": value_of(chassis, 1),
        "cpu": value_of(cpu, 1),
        "ram": ram,
        "disk": "",
        "nic": nic,
        "raid": "none",
        "gpu": gpu,
    }


def offered(choices: dict[str, list[PartChoice]]) -> dict[str, list[str]]:
    return {kind: [c.value for c in options] for kind, options in choices.items()}


def test_a_ddr5_chassis_offers_ddr5_up_to_its_slots_and_one_card(
    parts: tuple[Catalogue, More],
) -> None:
    cat, more = parts
    picks = values(cat.chassis.pk, cat.cpu.pk, value_of(cat.ddr5.pk, 2))
    picks["disk"] = value_of(cat.ssd.pk, 2)
    got = offered(part_choices(picks, location_id=cat.location.pk, now=NOW))
    assert got == {
        "chassis": [value_of(more.ddr4_chassis.pk, 1), value_of(cat.chassis.pk, 1)],  # by name
        "cpu": [value_of(cat.cpu.pk, 1)],  # one socket; the LGA1151 one does not fit
        "ram": [value_of(cat.ddr5.pk, n) for n in (1, 2, 3, 4)],  # 4 slots, no DDR4
        "disk": [value_of(cat.ssd.pk, n) for n in (1, 2, 3, 4)],
        "nic": ["none", value_of(more.nic.pk, 1)],
        "raid": ["none"],
        "gpu": ["none", value_of(more.gpu.pk, 1)],  # one PCIe slot
    }
    # the NIC takes the only PCIe slot: no GPU any more
    picks["nic"] = value_of(more.nic.pk, 1)
    got = offered(part_choices(picks, location_id=cat.location.pk, now=NOW))
    assert got["gpu"] == ["none"]
    assert got["nic"] == ["none", value_of(more.nic.pk, 1)]


def test_a_ddr4_chassis_offers_ddr4_to_its_maximum_and_what_the_psu_carries(
    parts: tuple[Catalogue, More],
) -> None:
    cat, more = parts
    picks = values(more.ddr4_chassis.pk, more.old_cpu.pk, value_of(cat.ddr4.pk, 2))
    picks["disk"] = value_of(cat.ssd.pk, 1)
    got = offered(part_choices(picks, location_id=cat.location.pk, now=NOW))
    assert got["cpu"] == [value_of(more.old_cpu.pk, 1)]
    assert got["ram"] == [value_of(cat.ddr4.pk, 1), value_of(cat.ddr4.pk, 2)]  # 64 GB at most
    assert got["disk"] == [value_of(cat.ssd.pk, 1), value_of(cat.ssd.pk, 2)]  # 2 bays
    # two PCIe slots, but two GPUs draw 60+95+10+5+144 = 314 W of the 300 W supply
    assert got["gpu"] == ["none", value_of(more.gpu.pk, 1)]


def test_a_stale_pick_elsewhere_does_not_empty_the_other_lists(
    parts: tuple[Catalogue, More],
) -> None:
    cat, _more = parts
    # DDR4 left over from another chassis: the processors are still offered
    picks = values(cat.chassis.pk, cat.cpu.pk, value_of(cat.ddr4.pk, 2))
    got = offered(part_choices(picks, location_id=cat.location.pk, now=NOW))
    assert got["cpu"] == [value_of(cat.cpu.pk, 1)]
    assert got["ram"] == [value_of(cat.ddr5.pk, n) for n in (1, 2, 3, 4)]
    assert part_choices({"chassis": "none"}, location_id=cat.location.pk, now=NOW) == {}


def test_parts_not_in_stock_are_on_order_with_the_expected_date(
    parts: tuple[Catalogue, More],
) -> None:
    cat, more = parts
    cat.add_stock(cat.ddr5, 2)
    cat.add_stock(cat.chassis, 1)
    picks = values(cat.chassis.pk, cat.cpu.pk, value_of(cat.ddr5.pk, 2))
    picks["disk"] = value_of(cat.ssd.pk, 2)
    got = part_choices(picks, location_id=cat.location.pk, now=NOW)
    assert got["ram"] == [
        PartChoice(value_of(cat.ddr5.pk, 1), None),
        PartChoice(value_of(cat.ddr5.pk, 2), None),
        PartChoice(value_of(cat.ddr5.pk, 3), ON_ORDER),
        PartChoice(value_of(cat.ddr5.pk, 4), ON_ORDER),
    ]
    assert got["chassis"] == [
        PartChoice(value_of(more.ddr4_chassis.pk, 1), ON_ORDER),
        PartChoice(value_of(cat.chassis.pk, 1), None),
    ]
    assert got["cpu"] == [PartChoice(value_of(cat.cpu.pk, 1), ON_ORDER)]
    # a ready server of exactly this build: its parts are in stock
    cat.add_server(cat.small(), name="ready-1")
    got = part_choices(picks, location_id=cat.location.pk, now=NOW)
    assert got["cpu"] == [PartChoice(value_of(cat.cpu.pk, 1), None)]
    assert got["disk"][1] == PartChoice(value_of(cat.ssd.pk, 2), None)
    assert got["disk"][2] == PartChoice(value_of(cat.ssd.pk, 3), ON_ORDER)
