"""Reads of the inventory: builds from chosen models, their price, configuration name and
availability (free ready servers, parts missing)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Q, QuerySet

from billow.core import clock
from billow.inventory.compatibility import Build, PartSpec, check_build
from billow.inventory.errors import ComponentNotFound, IncompatibleBuild
from billow.inventory.models import (
    ComponentKind,
    ComponentModel,
    Location,
    ReadyServer,
    ServerStatus,
    StockItem,
    StockStatus,
)

#: The part kinds of a build, in the order the order form shows them.
PART_KINDS = (
    ComponentKind.CPU,
    ComponentKind.RAM,
    ComponentKind.DISK,
    ComponentKind.NIC,
    ComponentKind.RAID,
    ComponentKind.GPU,
)


def spec_of(model: ComponentModel) -> PartSpec:
    return PartSpec(
        kind=model.kind,
        name=model.name,
        socket=model.socket,
        memory_type=model.memory_type,
        form_factor=model.form_factor,
        capacity_gb=model.capacity_gb,
        tdp_watts=model.tdp_watts,
        cpu_sockets=model.cpu_sockets,
        ram_slots=model.ram_slots,
        max_ram_gb=model.max_ram_gb,
        drive_bays=model.drive_bays,
        drive_form_factor=model.drive_form_factor,
        pcie_slots=model.pcie_slots,
        psu_watts=model.psu_watts,
    )


@dataclass(frozen=True)
class ChosenBuild:
    """A chassis and its parts as models with quantities (what a client picked)."""

    chassis: ComponentModel
    parts: tuple[tuple[ComponentModel, int], ...]

    @property
    def build(self) -> Build:
        return Build(spec_of(self.chassis), tuple((spec_of(m), n) for m, n in self.parts))

    @property
    def monthly_price_minor(self) -> int:
        """The chassis plus every part times its quantity, per month."""
        return self.chassis.monthly_price_minor + sum(
            m.monthly_price_minor * n for m, n in self.parts
        )

    @property
    def configuration(self) -> str:
        """The canonical configuration name (DCImanager's ``configuration`` of a server of
        exactly these parts): the chassis, then ``<n>x<model>`` by kind and name."""
        ordered = sorted(self.parts, key=lambda mn: (PART_KINDS.index(mn[0].kind), mn[0].name))
        return " / ".join([self.chassis.name, *(f"{n}x {m.name}" for m, n in ordered)])

    def needs(self) -> dict[int, int]:
        """Parts (model id -> quantity) to assemble it, the chassis included."""
        out = {self.chassis.pk: 1}
        for m, n in self.parts:
            out[m.pk] = out.get(m.pk, 0) + n
        return out

    def as_parameters(self) -> dict[str, object]:
        return {
            "chassis": self.chassis.pk,
            "parts": [[m.pk, n] for m, n in self.parts],
            "configuration": self.configuration,
        }


def choose(chassis_id: int, parts: Mapping[int, int] | list[tuple[int, int]]) -> ChosenBuild:
    """The build of the chosen model ids (``ComponentNotFound`` for an unknown or retired one);
    quantities of zero are dropped."""
    pairs = list(parts.items()) if isinstance(parts, Mapping) else list(parts)
    ids = {chassis_id, *(pk for pk, _n in pairs)}
    models = {m.pk: m for m in ComponentModel.objects.filter(pk__in=ids, is_active=True)}
    missing = sorted(ids - set(models))
    if missing:
        raise ComponentNotFound("no such component", ids=missing)
    merged: dict[int, int] = {}
    for pk, n in pairs:
        if n > 0:
            merged[pk] = merged.get(pk, 0) + n
    return ChosenBuild(models[chassis_id], tuple((models[pk], n) for pk, n in merged.items()))


def checked(chosen: ChosenBuild) -> ChosenBuild:
    """``chosen`` when compatible, else ``IncompatibleBuild`` with every reason."""
    reasons = check_build(chosen.build)
    if reasons:
        raise IncompatibleBuild(
            "; ".join(r.message for r in reasons), reasons=[r.as_dict() for r in reasons]
        )
    return chosen


def from_parameters(parameters: Mapping[str, object]) -> ChosenBuild:
    """The build stored on a service by ``ChosenBuild.as_parameters``."""
    chassis = parameters["chassis"]
    parts = parameters.get("parts") or []
    assert isinstance(chassis, int) and isinstance(parts, list)
    return choose(chassis, [(int(pk), int(n)) for pk, n in parts])


def takeable(moment: datetime) -> Q:
    """Servers that may be reserved at ``moment``: free, or held past their expiry."""
    return Q(status=ServerStatus.FREE, service_id__isnull=True) | Q(
        status=ServerStatus.RESERVED, reserved_until__lte=moment
    )


def free_servers(
    configuration: str, *, location_id: int | None = None, now: datetime | None = None
) -> QuerySet[ReadyServer]:
    """Ready servers of ``configuration`` that may be taken: free, or reserved past expiry."""
    moment = clock.now(now)
    qs = ReadyServer.objects.filter(configuration=configuration).filter(takeable(moment))
    if location_id is not None:
        qs = qs.filter(location_id=location_id)
    return qs.order_by("id")


def free_stock(*, location_id: int | None = None, now: datetime | None = None) -> dict[int, int]:
    """Loose parts that may be used, by model id: in stock, or reserved past expiry."""
    moment = clock.now(now)
    qs = StockItem.objects.filter(server__isnull=True).filter(
        Q(status=StockStatus.IN_STOCK) | Q(status=StockStatus.RESERVED, reserved_until__lte=moment)
    )
    if location_id is not None:
        qs = qs.filter(location_id=location_id)
    return dict(qs.values("model_id").annotate(n=Count("id")).values_list("model_id", "n"))


@dataclass(frozen=True)
class Availability:
    """Whether a build can be had now: a free ready server, else the parts to buy."""

    free_servers: int
    missing: dict[int, int]  # model id -> quantity to procure

    @property
    def in_stock(self) -> bool:
        return self.free_servers > 0

    @property
    def assemblable(self) -> bool:
        return not self.missing


def availability(
    chosen: ChosenBuild, *, location_id: int | None = None, now: datetime | None = None
) -> Availability:
    servers = free_servers(chosen.configuration, location_id=location_id, now=now).count()
    stock = free_stock(location_id=location_id, now=now)
    missing = {pk: n - stock.get(pk, 0) for pk, n in chosen.needs().items() if n > stock.get(pk, 0)}
    return Availability(servers, missing)


def offered(kind: str) -> list[ComponentModel]:
    return list(ComponentModel.objects.filter(kind=kind, is_active=True).order_by("name"))


def default_location() -> Location:
    """Where dedicated orders are placed: the first location (one data center per provider
    today; a location field on the order is future work)."""
    location = Location.objects.order_by("id").first()
    if location is None:
        raise ComponentNotFound("no inventory location", code="location_not_found")
    return location


def locations_with_stock(now: datetime | None = None) -> list[str]:
    """Codes of the locations with a free ready server or free loose parts, in order."""
    moment = clock.now(now)
    with_servers = ReadyServer.objects.filter(takeable(moment)).values("location_id")
    with_parts = (
        StockItem.objects.filter(server__isnull=True)
        .filter(
            Q(status=StockStatus.IN_STOCK)
            | Q(status=StockStatus.RESERVED, reserved_until__lte=moment)
        )
        .values("location_id")
    )
    return list(
        Location.objects.filter(Q(pk__in=with_servers) | Q(pk__in=with_parts))
        .order_by("id")
        .values_list("code", flat=True)
    )
