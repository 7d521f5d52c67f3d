"""Dedicated servers on the client pages (issue 18): the availability line of a build on the
order form, and the server facts on the service page."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from django import forms as django_forms
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from billow.core import clock
from billow.core.errors import BillowError
from billow.inventory.choices import PartChoice, part_choices
from billow.inventory.dedicated import expected_date
from billow.inventory.publish import (
    KINDS,
    LOCATION,
    build_from_addons,
    is_configurable,
    location_from_addons,
)
from billow.inventory.selectors import availability, locations_with_stock
from billow.services.models import OperationStatus, Service, ServiceOperation
from billow.web.forms import ADDON_PREFIX


def _offered(values: Mapping[str, Any]) -> dict[str, list[PartChoice]]:
    if not is_configurable(values):
        return {}
    try:
        location_id = location_from_addons(values).pk
    except BillowError:
        return {}
    return part_choices(values, location_id=location_id)


def fitting_defaults(values: Mapping[str, Any]) -> dict[str, Any]:
    """The unbound form's addon values with each kind, in order, moved to its first fitting
    choice when its default does not fit (a DDR5 board does not start with DDR4 memory)."""
    out = dict(values)
    if not is_configurable(out):
        return out
    if LOCATION in out:
        stocked = locations_with_stock()
        if stocked and str(out[LOCATION]) not in stocked:
            out[LOCATION] = stocked[0]
    for kind, _most, _optional in KINDS:
        offered = _offered(out).get(kind, [])
        if offered and str(out.get(kind)) not in {c.value for c in offered}:
            out[kind] = offered[0].value
    return out


def narrow_build_fields(
    form: django_forms.Form, values: Mapping[str, Any], *, out_of_band: bool = False
) -> list[str]:
    """Narrow each component field of ``form`` to the choices that fit the current picks,
    marking parts not in stock "on order, expected by <date>"; a current pick that does not
    fit stays listed (selected) and says so, as the quote refuses it with the reason. With
    ``out_of_band`` the selects carry ``hx-swap-oob`` for the htmx refresh. Returns the names
    of the narrowed fields."""
    narrowed: list[str] = []
    location_field = form.fields.get(ADDON_PREFIX + LOCATION)
    if isinstance(location_field, django_forms.ChoiceField) and is_configurable(values):
        # the locations with stock (all of them when none has any); the current pick stays
        stocked = locations_with_stock()
        if stocked:
            keep = {*stocked, str(values.get(LOCATION, ""))}
            all_choices = list(location_field.choices)  # type: ignore[arg-type]
            location_field.choices = [(v, label) for v, label in all_choices if v in keep]
        if out_of_band:
            location_field.widget.attrs["hx-swap-oob"] = "true"
        narrowed.append(ADDON_PREFIX + LOCATION)
    for kind, offered in _offered(values).items():
        name = ADDON_PREFIX + kind
        field = form.fields.get(name)
        if not isinstance(field, django_forms.ChoiceField):
            continue
        labels = {str(v): str(label) for v, label in list(field.choices)}  # type: ignore[arg-type]
        choices: list[tuple[str, str]] = []
        for choice in offered:
            if choice.value not in labels:
                continue  # a part added after the tariff was published
            label = labels[choice.value]
            if choice.on_order_until is not None:
                label = _("%(part)s — on order, expected by %(day)s") % {
                    "part": label,
                    "day": date_format(choice.on_order_until, "DATE_FORMAT"),
                }
            choices.append((choice.value, label))
        current = str(values.get(kind, ""))
        if current in labels and current not in {v for v, _label in choices}:
            choices.append((current, _("%(part)s — does not fit") % {"part": labels[current]}))
        field.choices = choices
        if out_of_band:
            field.widget.attrs["hx-swap-oob"] = "true"
        narrowed.append(name)
    return narrowed


@dataclass(frozen=True)
class DedicatedAvailability:
    in_stock: int
    expected_on: date


def dedicated_availability(addon_values: Mapping[str, Any]) -> DedicatedAvailability | None:
    """Free ready servers of the build now, or the date it can be ready (None when the item
    is not a server build or the build is not valid: the quote shows why)."""
    if not is_configurable(addon_values):
        return None
    try:
        chosen = build_from_addons(addon_values)
        where = availability(chosen, location_id=location_from_addons(addon_values).pk)
    except BillowError:
        return None
    today = clock.now().date()
    if where.in_stock:
        return DedicatedAvailability(where.free_servers, today)
    return DedicatedAvailability(0, expected_date(today, where.missing))


@dataclass(frozen=True)
class ServerFacts:
    """What the service page shows of a dedicated server (from its open's result)."""

    name: str
    ip: str
    configuration: str
    credentials_waiting: bool
    credentials_taken: bool
    expected_on: str


def server_facts(service: Service) -> ServerFacts | None:
    """The facts of a ``dcimanager6`` service, or None for any other module."""
    instance = service.module_instance
    if instance is None or instance.module != "dcimanager6":
        return None
    op = (
        ServiceOperation.objects.filter(
            service=service, operation="open", status=OperationStatus.SUCCEEDED
        )
        .order_by("-id")
        .first()
    )
    result = op.result if op is not None else {}
    return ServerFacts(
        name=str(result.get("name", "")),
        ip=str(result.get("ip", "")),
        configuration=str(
            result.get("configuration") or service.parameters.get("configuration", "")
        ),
        credentials_waiting=bool(result.get("credentials")),
        credentials_taken=bool(result.get("credentials_taken")),
        expected_on=str(service.parameters.get("expected_on", "")),
    )
