"""A configurable dedicated-server tariff: one enumeration addon per component kind, so the
ordinary order form shows a field per kind and the ordinary quote prices the sum of the
chosen parts (plus the chassis) per month. Values are ``m<model id>x<quantity>`` (``none``
for the optional kinds); ``build_from_addons`` reads a build back from an item's addon values.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from billow.catalog import actions as catalog
from billow.catalog.choices import BillingType, ValueType
from billow.catalog.models import Tariff
from billow.inventory.errors import ComponentNotFound, InventoryValidationError
from billow.inventory.models import ComponentKind, ComponentModel, Location
from billow.inventory.selectors import ChosenBuild, choose, default_location

#: The addon of each kind, its largest quantity and whether it may be left out.
KINDS: tuple[tuple[str, int, bool], ...] = (
    (ComponentKind.CHASSIS, 1, False),
    (ComponentKind.CPU, 2, False),
    (ComponentKind.RAM, 8, False),
    (ComponentKind.DISK, 4, False),
    (ComponentKind.NIC, 1, True),
    (ComponentKind.RAID, 1, True),
    (ComponentKind.GPU, 2, True),
)
NONE = "none"
#: The addon naming the location (only when there is more than one): values are location codes.
LOCATION = "location"


def value_of(model_id: int, quantity: int) -> str:
    return f"m{model_id}x{quantity}"


def parse_value(value: str) -> tuple[int, int] | None:
    """``m12x2`` -> (12, 2); ``none`` -> None."""
    if value == NONE:
        return None
    head, _sep, qty = value.removeprefix("m").partition("x")
    if not (value.startswith("m") and head.isdigit() and qty.isdigit()):
        raise InventoryValidationError(f"{value!r} is not a component choice", code="bad_choice")
    return int(head), int(qty)


def is_configurable(addon_values: Mapping[str, Any]) -> bool:
    return ComponentKind.CHASSIS.value in addon_values


def build_from_addons(addon_values: Mapping[str, Any]) -> ChosenBuild:
    """The build an item's addon values name (``component_not_found`` for a retired part)."""
    chassis = parse_value(str(addon_values.get(ComponentKind.CHASSIS, NONE)))
    if chassis is None:
        raise InventoryValidationError("choose a chassis", code="chassis_required")
    parts: list[tuple[int, int]] = []
    for kind, _max, _optional in KINDS[1:]:
        chosen = parse_value(str(addon_values.get(kind, NONE)))
        if chosen is not None:
            parts.append(chosen)
    return choose(chassis[0], parts)


def location_from_addons(addon_values: Mapping[str, Any]) -> Location:
    """The location an item's addon values name, else the first one (``location_not_found``
    for a code that names none)."""
    code = addon_values.get(LOCATION)
    if not code:
        return default_location()
    location = Location.objects.filter(code=str(code)).first()
    if location is None:
        raise ComponentNotFound("no such location", code="location_not_found", location=code)
    return location


def publish_configurable_tariff(*, tariff: Tariff, currency: str, period: str = "1m") -> None:
    """Give ``tariff`` (priced 0: the parts make the price) one enum addon per component kind
    with every offered model and quantity, each priced quantity x the model's monthly price."""
    with transaction.atomic():
        for sort, (kind, most, optional) in enumerate(KINDS):
            models = list(ComponentModel.objects.filter(kind=kind, is_active=True).order_by("name"))
            values: list[tuple[str, str, int]] = [(NONE, "—", 0)] if optional else []
            for m in models:
                for n in range(1, most + 1):
                    label = m.name if most == 1 else f"{n}x {m.name}"
                    values.append((value_of(m.pk, n), label, m.monthly_price_minor * n))
            if not values:
                continue
            enum = catalog.create_enumeration(
                name=f"{tariff.name}: {ComponentKind(kind).label}",
                intname=f"dedicated-{tariff.pk}-{kind}",
                values=[(iv, name) for iv, name, _price in values],
            )
            addon = catalog.create_addon(
                tariff=tariff,
                name=str(ComponentKind(kind).label),
                intname=kind,
                value_type=ValueType.ENUM,
                billing_type=BillingType.ON_ORDER,
                currency=currency,
                enumeration=enum,
                sort=sort,
            )
            _price_values(addon, enum, values, period, currency)
        locations = list(Location.objects.order_by("id"))
        if len(locations) > 1:
            # where the server stands: the form offers those with stock, the first by default
            enum = catalog.create_enumeration(
                name=f"{tariff.name}: {_('Location')}",
                intname=f"dedicated-{tariff.pk}-{LOCATION}",
                values=[(loc.code, loc.name) for loc in locations],
            )
            addon = catalog.create_addon(
                tariff=tariff,
                name=str(_("Location")),
                intname=LOCATION,
                value_type=ValueType.ENUM,
                billing_type=BillingType.ON_ORDER,
                currency=currency,
                enumeration=enum,
                sort=len(KINDS),
            )
            prices = [(loc.code, loc.name, 0) for loc in locations]
            _price_values(addon, enum, prices, period, currency)


def _price_values(
    addon: Any, enum: Any, values: list[tuple[str, str, int]], period: str, currency: str
) -> None:
    by_intname = {v.intname: v for v in enum.values.all()}
    for iv, _name, price in values:
        catalog.set_enumeration_value_price(
            addon=addon, value=by_intname[iv], period=period, currency=currency, amount_minor=price
        )
