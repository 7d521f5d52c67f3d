"""The one compatibility check of a server build (pure: plain specs in, reasons out).

``check_build(build)`` returns every refusal as a :class:`Refusal` (stable ``code``, a
translated ``message`` naming the parts and the numbers, the ``component`` at fault); an empty
tuple means the build fits. Rules, checked in this order:

- exactly one chassis (``chassis_required``, ``wrong_kind``);
- processors: at least one (``cpu_required``), the chassis socket (``socket_mismatch``), no
  more than its sockets (``too_many_cpus``), one model only (``mixed_cpus``);
- memory: at least one module (``memory_required``), the board's type DDR4 / DDR5
  (``memory_type_mismatch``), no more modules than slots (``too_many_memory_modules``), no
  more than the board's maximum (``memory_over_maximum``);
- drives: at least one (``drive_required``), no more than the bays (``too_many_drives``), a
  form factor the bays take (``drive_form_factor_mismatch``: 2.5" fits a 3.5" bay, not the
  other way round);
- NICs, RAID controllers and GPUs share the PCIe slots (``too_many_expansion_cards``);
- the power supply covers the chassis and every part's draw (``power_over_budget``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

CHASSIS, CPU, RAM, DISK, NIC, RAID, GPU = "chassis", "cpu", "ram", "disk", "nic", "raid", "gpu"
EXPANSION_KINDS = (NIC, RAID, GPU)
#: Which drive form factors each bay form factor takes.
BAY_TAKES = {"3.5": frozenset({"3.5", "2.5"}), "2.5": frozenset({"2.5"})}


@dataclass(frozen=True, slots=True)
class PartSpec:
    """The specs of one component model the check reads (see ``models.ComponentModel``)."""

    kind: str
    name: str
    socket: str = ""
    memory_type: str = ""
    form_factor: str = ""
    capacity_gb: int = 0
    tdp_watts: int = 0
    cpu_sockets: int = 0
    ram_slots: int = 0
    max_ram_gb: int = 0
    drive_bays: int = 0
    drive_form_factor: str = ""
    pcie_slots: int = 0
    psu_watts: int = 0


@dataclass(frozen=True, slots=True)
class Build:
    """A chassis and its parts with quantities."""

    chassis: PartSpec | None
    parts: tuple[tuple[PartSpec, int], ...] = field(default_factory=tuple)

    def of_kind(self, kind: str) -> list[tuple[PartSpec, int]]:
        return [(p, n) for p, n in self.parts if p.kind == kind and n > 0]

    def count(self, kind: str) -> int:
        return sum(n for _p, n in self.of_kind(kind))


@dataclass(frozen=True, slots=True)
class Refusal:
    code: str
    message: str
    component: str = ""

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message, "component": self.component}


def check_build(build: Build) -> tuple[Refusal, ...]:
    """Every reason ``build`` cannot be assembled (empty: it can)."""
    box = build.chassis
    if box is None:
        return (Refusal("chassis_required", _("Choose a chassis.")),)
    if box.kind != CHASSIS:
        return (
            Refusal("wrong_kind", _("%(name)s is not a chassis.") % {"name": box.name}, box.name),
        )
    out: list[Refusal] = []
    out += _wrong_kinds(build.parts)
    out += _cpus(box, build)
    out += _memory(box, build)
    out += _drives(box, build)
    out += _expansion(box, build)
    out += _power(box, build)
    return tuple(out)


def _wrong_kinds(parts: Iterable[tuple[PartSpec, int]]) -> list[Refusal]:
    return [
        Refusal("wrong_kind", _("%(name)s is a chassis, not a part.") % {"name": p.name}, p.name)
        for p, n in parts
        if p.kind == CHASSIS and n > 0
    ]


def _cpus(box: PartSpec, build: Build) -> list[Refusal]:
    cpus = build.of_kind(CPU)
    if not cpus:
        return [Refusal("cpu_required", _("Choose a processor."))]
    out = [
        Refusal(
            "socket_mismatch",
            _("%(cpu)s needs socket %(need)s; %(chassis)s has %(have)s.")
            % {"cpu": p.name, "need": p.socket, "chassis": box.name, "have": box.socket},
            p.name,
        )
        for p, _n in cpus
        if p.socket != box.socket
    ]
    count = build.count(CPU)
    if count > box.cpu_sockets:
        out.append(
            Refusal(
                "too_many_cpus",
                _("%(chassis)s takes %(max)d processors; %(count)d chosen.")
                % {"chassis": box.name, "max": box.cpu_sockets, "count": count},
                cpus[0][0].name,
            )
        )
    if len({p.name for p, _n in cpus}) > 1:
        out.append(Refusal("mixed_cpus", _("All processors must be the same model.")))
    return out


def _memory(box: PartSpec, build: Build) -> list[Refusal]:
    modules = build.of_kind(RAM)
    if not modules:
        return [Refusal("memory_required", _("Choose memory."))]
    out = [
        Refusal(
            "memory_type_mismatch",
            _("%(module)s is %(type)s; %(chassis)s takes %(board)s.")
            % {
                "module": p.name,
                "type": p.memory_type,
                "chassis": box.name,
                "board": box.memory_type,
            },
            p.name,
        )
        for p, _n in modules
        if p.memory_type != box.memory_type
    ]
    count = build.count(RAM)
    if count > box.ram_slots:
        out.append(
            Refusal(
                "too_many_memory_modules",
                _("%(chassis)s has %(slots)d memory slots; %(count)d modules chosen.")
                % {"chassis": box.name, "slots": box.ram_slots, "count": count},
                modules[0][0].name,
            )
        )
    total = sum(p.capacity_gb * n for p, n in modules)
    if total > box.max_ram_gb:
        out.append(
            Refusal(
                "memory_over_maximum",
                _("%(chassis)s takes at most %(max)d GB of memory; %(total)d GB chosen.")
                % {"chassis": box.name, "max": box.max_ram_gb, "total": total},
                modules[0][0].name,
            )
        )
    return out


def _drives(box: PartSpec, build: Build) -> list[Refusal]:
    drives = build.of_kind(DISK)
    if not drives:
        return [Refusal("drive_required", _("Choose a drive."))]
    takes = BAY_TAKES.get(box.drive_form_factor, frozenset({box.drive_form_factor}))
    out = [
        Refusal(
            "drive_form_factor_mismatch",
            _('%(drive)s is %(ff)s"; the bays of %(chassis)s take %(bay)s" drives.')
            % {
                "drive": p.name,
                "ff": p.form_factor,
                "chassis": box.name,
                "bay": box.drive_form_factor,
            },
            p.name,
        )
        for p, _n in drives
        if p.form_factor not in takes
    ]
    count = build.count(DISK)
    if count > box.drive_bays:
        out.append(
            Refusal(
                "too_many_drives",
                _("%(chassis)s has %(bays)d drive bays; %(count)d drives chosen.")
                % {"chassis": box.name, "bays": box.drive_bays, "count": count},
                drives[0][0].name,
            )
        )
    return out


def _expansion(box: PartSpec, build: Build) -> list[Refusal]:
    count = sum(build.count(kind) for kind in EXPANSION_KINDS)
    if count <= box.pcie_slots:
        return []
    first = next(p.name for kind in EXPANSION_KINDS for p, _n in build.of_kind(kind))
    return [
        Refusal(
            "too_many_expansion_cards",
            _("%(chassis)s has %(slots)d PCIe slots; %(count)d cards chosen.")
            % {"chassis": box.name, "slots": box.pcie_slots, "count": count},
            first,
        )
    ]


def _power(box: PartSpec, build: Build) -> list[Refusal]:
    draw = box.tdp_watts + sum(p.tdp_watts * n for p, n in build.parts if n > 0)
    if draw <= box.psu_watts:
        return []
    return [
        Refusal(
            "power_over_budget",
            _("The parts draw %(draw)d W; the power supply of %(chassis)s gives %(psu)d W.")
            % {"draw": draw, "chassis": box.name, "psu": box.psu_watts},
        )
    ]
