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
from billow.core import clock
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

    client_id: int
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
    """Refuse what the services app would not hold: ``invalid_import_status``,
    ``special_price_negative``, and the tariff pricing's codes when the period is not offered
    in the currency or an addon value breaks the tariff's rules."""
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
    info = catalog_cache.tariff_info(tariff.pk, service.currency)
    pricing.price_tariff(
        info,
        period=service.period,
        addon_values=dict(service.addon_values),
        currency=service.currency,
        require_parameters=False,
    )


def import_services(
    services: Sequence[ImportedService],
    *,
    actor: Actor | None = None,
    now: datetime | None = None,
) -> list[int]:
    """Write ``services`` (checked with ``check_imported_service`` by the caller) in their
    final status with a ``service.imported`` event each; returns their ids in input order."""
    moment = clock.now(now)
    tariffs = Tariff.objects.in_bulk({s.tariff_id for s in services})
    with transaction.atomic():
        created = Service.objects.bulk_create(
            (_row(s, tariffs[s.tariff_id], moment) for s in services), batch_size=BATCH
        )
        ServiceEvent.objects.bulk_create(
            (
                ServiceEvent(
                    service_id=row.pk,
                    from_status="",
                    to_status=s.status,
                    **audit_kwargs(
                        actor,
                        "service.imported",
                        {"source": s.source, "paid_until": s.paid_until},
                        now=moment,
                    ),
                )
                for row, s in zip(created, services, strict=True)
            ),
            batch_size=BATCH,
        )
    return [row.pk for row in created]


def _row(s: ImportedService, tariff: Tariff, moment: datetime) -> Service:
    return Service(
        client_id=s.client_id,
        provider_id=tariff.provider_id,
        tariff_id=tariff.pk,
        name=(s.name or tariff.name)[:200],
        period=s.period,
        currency=s.currency,
        billing_mode=tariff.billing_mode,
        prorata_day=tariff.prorata_day,
        anchor_day=s.paid_until.day,
        status=s.status,
        ordered_at=s.ordered_at or moment,
        opened_at=s.ordered_at or moment,
        suspended_at=moment if s.status in SUSPENDED else None,
        paid_until=s.paid_until,
        auto_renew_period=s.period if s.auto_renew else "",
        addon_values=dict(s.addon_values),
        special_price_minor=s.special_price_minor,
        module_instance_id=s.module_instance_id,
        external_id=s.external_id,
        created_at=moment,
        updated_at=moment,
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
