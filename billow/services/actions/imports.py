"""Services brought over from another billing system (``billow import``), in bulk.

An imported service already exists at its module (the remote object keeps running), so it is
written straight in its final status -- active or one of the suspensions -- with its paid-until
date and external id, and no module operation is queued. That is a creation, not a move through
the transition table: the ``service.imported`` event records the source and the status. A later
import run of a changed source row moves paid-until and the status (checked against the table,
again without a module call: the source already did it) and records ``service.reimported``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.db import transaction

from billow.catalog import cache as catalog_cache
from billow.catalog import pricing
from billow.catalog.models import Tariff
from billow.core import clock, rows
from billow.core.actors import Actor
from billow.core.audit import audit_kwargs
from billow.services.errors import InvalidTransitionError, ServiceValidationError
from billow.services.models import Service, ServiceEvent
from billow.services.states import SUSPENDED, ServiceStatus, can_transition

S = ServiceStatus
BATCH = 5000
#: The statuses a service may be imported in (a deleted one stays behind in the source).
IMPORTABLE_STATUSES = frozenset({S.ACTIVE, *SUSPENDED})


@dataclass(frozen=True, slots=True)
class ImportedService:
    """A running service of the source system, mapped to a Billow tariff and period."""

    tariff_id: int
    period: str
    currency: str
    status: str
    paid_until: date
    name: str = ""
    external_id: str = ""
    module_instance_id: int | None = None
    special_price_minor: int | None = None
    auto_renew: bool = True
    addon_values: Mapping[str, Any] = field(default_factory=dict)
    ordered_at: datetime | None = None
    source: str = ""  # "<system>:<id>", kept in the event


def check_imported_service(service: ImportedService, tariff: Tariff) -> None:
    """Refuse what the services app would not hold: ``check_import_values`` and
    ``check_import_offer``."""
    check_import_values(service)
    check_import_offer(tariff, service.currency, service.period, service.addon_values)


def check_import_values(service: ImportedService) -> None:
    """``invalid_import_status``, ``special_price_negative``."""
    if service.status not in IMPORTABLE_STATUSES:
        raise ServiceValidationError(
            f"a service cannot be imported as {service.status!r}",
            code="invalid_import_status",
            status=service.status,
        )
    if service.special_price_minor is not None and service.special_price_minor < 0:
        raise ServiceValidationError(
            "a special price cannot be negative", code="special_price_negative"
        )


def check_import_offer(
    tariff: Tariff, currency: str, period: str, addon_values: Mapping[str, Any]
) -> None:
    """The tariff pricing's codes when ``period`` is not offered in ``currency`` or an addon
    value breaks the tariff's rules (the same for every service of that combination, so a
    caller checking many may remember the answer)."""
    info = catalog_cache.tariff_info(tariff.pk, currency)
    pricing.price_tariff(
        info,
        period=period,
        addon_values=dict(addon_values),
        currency=currency,
        require_parameters=False,
    )


def import_services(
    services: Sequence[tuple[int, ImportedService]],
    *,
    actor: Actor | None = None,
    now: datetime | None = None,
) -> list[int]:
    """Write ``services`` -- (client id, service) pairs, checked with
    ``check_imported_service`` by the caller -- in their final status with a
    ``service.imported`` event each; returns their ids in input order."""
    moment = clock.now(now)
    tariffs = Tariff.objects.in_bulk({s.tariff_id for _c, s in services})
    who = audit_kwargs(actor, "service.imported", now=moment)  # validated once for the batch
    with transaction.atomic():
        ids = rows.write_new(
            Service,
            SERVICE_FIELDS,
            [_row(c, s, tariffs[s.tariff_id], moment) for c, s in services],
            with_ids=True,
        )
        rows.write_new(
            ServiceEvent,
            EVENT_FIELDS,
            [
                (
                    pk,
                    "",
                    s.status,
                    who["actor_kind"],
                    who["actor_id"],
                    "service.imported",
                    {"source": s.source, "paid_until": s.paid_until.isoformat()},
                    moment,
                )
                for pk, (_c, s) in zip(ids, services, strict=True)
            ],
        )
    return ids


SERVICE_FIELDS = (
    "client_id",
    "provider_id",
    "tariff_id",
    "name",
    "period",
    "currency",
    "billing_mode",
    "prorata_day",
    "anchor_day",
    "status",
    "sub_state",
    "ordered_at",
    "opened_at",
    "paid_until",
    "suspended_at",
    "auto_renew_period",
    "delete_at_period_end",
    "addon_values",
    "parameters",
    "special_price_minor",
    "module_instance_id",
    "external_id",
    "note",
    "created_at",
    "updated_at",
)
EVENT_FIELDS = (
    "service_id",
    "from_status",
    "to_status",
    "actor_kind",
    "actor_id",
    "type",
    "data",
    "created_at",
)


def _row(client_id: int, s: ImportedService, tariff: Tariff, moment: datetime) -> tuple[Any, ...]:
    """The service's values in ``SERVICE_FIELDS`` order."""
    opened = s.ordered_at or moment
    if s.special_price_minor is not None:
        rows.check_int64(s.special_price_minor, field="special_price_minor")
    return (
        client_id,
        tariff.provider_id,
        tariff.pk,
        (s.name or tariff.name)[:200],
        s.period,
        s.currency,
        tariff.billing_mode,
        tariff.prorata_day,
        s.paid_until.day,
        s.status,
        "",
        opened,
        opened,
        s.paid_until,
        moment if s.status in SUSPENDED else None,
        s.period if s.auto_renew else "",
        False,
        dict(s.addon_values),
        {},
        s.special_price_minor,
        s.module_instance_id,
        s.external_id,
        "",
        moment,
        moment,
    )


def check_reimport_status(current: str, new: str) -> None:
    """``invalid_transition`` unless the table allows ``current`` -> ``new`` (directly or
    through in progress, as a module operation would have moved it)."""
    if current == new or can_transition(current, new):
        return
    if can_transition(current, S.IN_PROGRESS) and can_transition(S.IN_PROGRESS, new):
        return
    raise InvalidTransitionError(
        f"a service cannot go from {current} to {new}", current=current, to=new
    )


def update_imported_services(
    changes: Sequence[tuple[int, ImportedService]],
    *,
    actor: Actor | None = None,
    now: datetime | None = None,
) -> int:
    """Bring services imported earlier up to date with a changed source row: paid-until,
    status (``check_reimport_status``), name and external id, with a ``service.reimported``
    event each; the rows are locked first, and one refused move writes nothing."""
    moment = clock.now(now)
    with transaction.atomic():
        rows = Service.objects.select_for_update().in_bulk([pk for pk, _ in changes])
        for pk, s in changes:
            row = rows[pk]
            check_reimport_status(row.status, s.status)
            event = ServiceEvent(
                service_id=pk,
                from_status=row.status,
                to_status=s.status,
                **audit_kwargs(
                    actor,
                    "service.reimported",
                    {"source": s.source, "paid_until": s.paid_until, "from": row.paid_until},
                    now=moment,
                ),
            )
            if s.status in SUSPENDED and row.status not in SUSPENDED:
                row.suspended_at = moment
            row.status, row.paid_until, row.anchor_day = s.status, s.paid_until, s.paid_until.day
            row.name, row.external_id, row.updated_at = s.name or row.name, s.external_id, moment
            row.save(
                update_fields=[
                    "status",
                    "paid_until",
                    "anchor_day",
                    "name",
                    "external_id",
                    "suspended_at",
                    "updated_at",
                ]
            )
            event.save(force_insert=True)
    return len(changes)
