"""The order form's choices of a server build, narrowed to what fits and marked by stock.

Given the client's current picks (addon values, ``m<id>x<n>`` per kind), each part kind lists
only the values ``check_build`` accepts with the chassis and the other current picks: a value
is dropped when it adds a refusal the build without that kind does not already have (so a
stale pick elsewhere does not empty every list). The chassis itself is the anchor and lists
every active chassis. A value whose parts are not in free stock at the location (and whose
resulting build has no free ready server) stays offered, marked *on order* with the date a
server of it could be ready; every part can be bought (``dedicated.PROCUREMENT_DAYS``).

The narrowing only helps the client choose: a stale or forged pick still reaches the quote,
which refuses it with ``incompatible_build`` and the reasons.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db.models import Count

from billow.core import clock
from billow.core.errors import BillowError
from billow.inventory.compatibility import Build, PartSpec, check_build
from billow.inventory.dedicated import expected_date
from billow.inventory.models import ComponentKind, ComponentModel, ReadyServer
from billow.inventory.publish import KINDS, NONE, parse_value, value_of
from billow.inventory.selectors import ChosenBuild, free_stock, spec_of, takeable


@dataclass(frozen=True)
class PartChoice:
    """One value of a kind's field: ``on_order_until`` is None when it is in stock."""

    value: str
    on_order_until: date | None


def _picks(addon_values: Mapping[str, Any]) -> dict[str, tuple[int, int] | None]:
    out: dict[str, tuple[int, int] | None] = {}
    for kind, _most, _optional in KINDS:
        try:
            out[kind] = parse_value(str(addon_values.get(kind, NONE)))
        except BillowError:
            out[kind] = None
    return out


def _refusals(build: Build) -> set[tuple[str, str]]:
    return {(r.code, r.component) for r in check_build(build)}


def part_choices(
    addon_values: Mapping[str, Any], *, location_id: int | None, now: datetime | None = None
) -> dict[str, list[PartChoice]]:
    """Per kind (``publish.KINDS``), the values to offer with the current picks, in the
    tariff's order (``none`` first for the optional kinds). Empty when no chassis is picked."""
    moment = clock.now(now)
    picks = _picks(addon_values)
    models = {
        m.pk: m
        for m in ComponentModel.objects.filter(is_active=True).order_by("kind", "name", "pk")
    }
    chassis_pick = picks[ComponentKind.CHASSIS]
    if chassis_pick is None or chassis_pick[0] not in models:
        return {}
    box = models[chassis_pick[0]]
    if box.kind != ComponentKind.CHASSIS:
        return {}
    picked: dict[str, tuple[ComponentModel, int]] = {
        kind: (models[pick[0]], pick[1])
        for kind, pick in picks.items()
        if kind != ComponentKind.CHASSIS and pick is not None and pick[0] in models
    }
    stock = free_stock(location_id=location_id, now=moment)
    servers = ReadyServer.objects.filter(takeable(moment))
    if location_id is not None:
        servers = servers.filter(location_id=location_id)
    ready = dict(
        servers.values("configuration").annotate(n=Count("id")).values_list("configuration", "n")
    )
    today = moment.date()

    def on_order(chassis: ComponentModel, parts: dict[str, tuple[ComponentModel, int]]) -> bool:
        build = ChosenBuild(chassis, tuple(parts.values()))
        if ready.get(build.configuration):
            return False
        return any(stock.get(pk, 0) < n for pk, n in build.needs().items())

    def part_on_order(model: ComponentModel, n: int, build_parts: dict[str, Any]) -> bool:
        if stock.get(model.pk, 0) >= n:
            return False
        return on_order(box, build_parts)

    out: dict[str, list[PartChoice]] = {}
    chassis_choices = []
    for m in models.values():
        if m.kind != ComponentKind.CHASSIS:
            continue
        missing = stock.get(m.pk, 0) < 1 and on_order(m, picked)
        chassis_choices.append(
            PartChoice(value_of(m.pk, 1), expected_date(today, {m.pk: 1}) if missing else None)
        )
    out[ComponentKind.CHASSIS] = chassis_choices
    for kind, most, optional in KINDS[1:]:
        others = {k: mn for k, mn in picked.items() if k != kind}
        base = _refusals(Build(spec_of(box), tuple((spec_of(m), n) for m, n in others.values())))
        choices = [PartChoice(NONE, None)] if optional else []
        for m in models.values():
            if m.kind != kind:
                continue
            for n in range(1, most + 1):
                parts = {**others, kind: (m, n)}
                specs: tuple[tuple[PartSpec, int], ...] = tuple(
                    (spec_of(p), q) for p, q in parts.values()
                )
                if _refusals(Build(spec_of(box), specs)) - base:
                    continue  # adds a refusal: does not fit with the other picks
                late = part_on_order(m, n, parts)
                choices.append(
                    PartChoice(value_of(m.pk, n), expected_date(today, {m.pk: n}) if late else None)
                )
        out[kind] = choices
    return out
