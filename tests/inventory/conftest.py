"""Inventory fixtures: a location, a 1U DDR5 chassis with parts, and ready servers."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from billow.inventory.models import ComponentModel, Location, ReadyServer, StockItem
from billow.inventory.selectors import ChosenBuild, choose


@dataclass
class Catalogue:
    location: Location
    chassis: ComponentModel
    cpu: ComponentModel
    ddr5: ComponentModel
    ddr4: ComponentModel
    ssd: ComponentModel

    def small(self) -> ChosenBuild:
        return choose(self.chassis.pk, {self.cpu.pk: 1, self.ddr5.pk: 2, self.ssd.pk: 2})

    def add_server(self, build: ChosenBuild, name: str = "srv", **kw: object) -> ReadyServer:
        return ReadyServer.objects.create(
            location=self.location,
            name=name,
            configuration=build.configuration,
            chassis=build.chassis,
            **kw,
        )

    def add_stock(self, model: ComponentModel, n: int) -> None:
        StockItem.objects.bulk_create(
            StockItem(model=model, location=self.location) for _ in range(n)
        )


def make_catalogue() -> Catalogue:
    loc = Location.objects.create(code="ams1", name="Amsterdam 1", dci_location_id=1)
    mk = ComponentModel.objects.create
    return Catalogue(
        location=loc,
        chassis=mk(
            kind="chassis",
            name="R250 1U",
            socket="LGA1700",
            memory_type="DDR5",
            form_factor="1U",
            tdp_watts=60,
            cpu_sockets=1,
            ram_slots=4,
            max_ram_gb=128,
            drive_bays=4,
            drive_form_factor="2.5",
            pcie_slots=1,
            psu_watts=450,
            monthly_price_minor=4000,
        ),
        cpu=mk(
            kind="cpu", name="Xeon E-2488", socket="LGA1700", tdp_watts=95, monthly_price_minor=3500
        ),
        ddr5=mk(
            kind="ram",
            name="32GB DDR5",
            memory_type="DDR5",
            capacity_gb=32,
            tdp_watts=5,
            monthly_price_minor=800,
        ),
        ddr4=mk(
            kind="ram",
            name="32GB DDR4",
            memory_type="DDR4",
            capacity_gb=32,
            tdp_watts=5,
            monthly_price_minor=600,
        ),
        ssd=mk(
            kind="disk",
            name="960GB SSD",
            form_factor="2.5",
            capacity_gb=960,
            tdp_watts=5,
            monthly_price_minor=1250,
        ),
    )


@pytest.fixture
def cat(db: object) -> Catalogue:
    return make_catalogue()
