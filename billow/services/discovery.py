"""Discovery: compare a module instance's remote objects (``discover``) with its services.

Works for every module whose ``discover`` answers ``succeeded`` with ``objects`` (dicts with at
least ``external_id``; optional ``name``, ``state``, ``service_id``, ``system``). Finds:

- ``vm_without_service``: a remote object no live service points at (made by hand, or its
  service was deleted in Billow);
- ``service_without_vm``: a service that should have a remote object and has none (deleted by
  hand, or the open failed before creating it);
- ``system``: objects staff marked as the provider's own (``SystemMark``) or flagged system
  remotely. They are listed, not counted as drift.

Fixes: ``adopt_remote_object`` (a new active service for a chosen client and tariff, linked
to the object without provisioning anything), ``recreate_service_vm`` (the module builds the
object again), ``mark_system``. The reads (``run_discovery``) and writes live here so the admin
page and the API call the same code.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.db import transaction

from billow.accounts.models import Client
from billow.catalog.models import Tariff
from billow.core import clock
from billow.core.actors import Actor
from billow.core.errors import BillowError
from billow.services import actions
from billow.services.errors import ServiceConflictError, ServiceValidationError
from billow.services.models import ModuleInstance, Service, ServiceOperation, SystemMark
from billow.services.modules.base import OutcomeStatus, modules
from billow.services.states import SUSPENDED, ServiceStatus, SubState

S = ServiceStatus
VM_WITHOUT_SERVICE = "vm_without_service"
SERVICE_WITHOUT_VM = "service_without_vm"
SYSTEM = "system"
DRIFT_KINDS = frozenset({VM_WITHOUT_SERVICE, SERVICE_WITHOUT_VM})
#: Services that should have a remote object. In progress only when not opening (an open in
#: flight has none yet); failed only with an external id or after an open.
_EXPECTED = frozenset({S.ACTIVE, *SUSPENDED, S.FAILED, S.IN_PROGRESS})


class DiscoveryError(BillowError):
    code = "discovery_failed"
    http_status = 502


@dataclass(frozen=True, slots=True)
class ServiceRef:
    id: int
    external_id: str
    status: str
    name: str = ""
    client_id: int | None = None


@dataclass(frozen=True, slots=True)
class DiscoveryRow:
    kind: str
    external_id: str = ""
    name: str = ""
    state: str = ""
    service_id: int | None = None
    detail: str = ""


@dataclass
class DiscoveryReport:
    instance_id: int
    rows: list[DiscoveryRow] = field(default_factory=list)
    remote_count: int = 0
    linked_count: int = 0
    seconds: float = 0.0

    @property
    def drift(self) -> list[DiscoveryRow]:
        return [r for r in self.rows if r.kind in DRIFT_KINDS]

    def counts(self) -> dict[str, int]:
        out = {VM_WITHOUT_SERVICE: 0, SERVICE_WITHOUT_VM: 0, SYSTEM: 0}
        for row in self.rows:
            out[row.kind] += 1
        return out


def compare(
    objects: Iterable[Mapping[str, Any]],
    services: Sequence[ServiceRef],
    system_ids: frozenset[str] = frozenset(),
) -> tuple[list[DiscoveryRow], int]:
    """Pure: the discovery rows and the number of linked pairs. An object is linked to a
    service by the service's ``external_id`` or by the ``service_id`` it carries."""
    by_external = {s.external_id: s for s in services if s.external_id}
    by_id = {s.id: s for s in services}
    linked: set[int] = set()
    rows: list[DiscoveryRow] = []
    for obj in objects:
        external_id = str(obj.get("external_id", ""))
        name, state = str(obj.get("name", "")), str(obj.get("state", ""))
        svc = by_external.get(external_id)
        claimant = by_id.get(_int(obj.get("service_id")) or 0)
        if svc is None and claimant is not None and claimant.external_id in ("", external_id):
            svc = claimant  # its metadata names it and the service points nowhere else
        if svc is not None:
            linked.add(svc.id)
        elif external_id in system_ids or obj.get("system"):
            rows.append(DiscoveryRow(SYSTEM, external_id, name, state))
        else:
            claimed = _int(obj.get("service_id"))
            detail = f"metadata names service #{claimed}, which is gone" if claimed else ""
            rows.append(DiscoveryRow(VM_WITHOUT_SERVICE, external_id, name, state, None, detail))
    for svc in services:
        if svc.id not in linked:
            rows.append(
                DiscoveryRow(
                    SERVICE_WITHOUT_VM,
                    svc.external_id,
                    svc.name,
                    "",
                    svc.id,
                    f"service is {svc.status}",
                )
            )
    return rows, len(linked)


def _int(value: Any) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


# -- reads -----------------------------------------------------------------------------------


def list_expected_services(instance: ModuleInstance) -> list[ServiceRef]:
    """The instance's services that should have a remote object."""
    qs = (
        Service.objects.filter(module_instance=instance, status__in=_EXPECTED)
        .exclude(status=S.IN_PROGRESS, sub_state=SubState.OPEN)
        .exclude(status=S.FAILED, external_id="")
        .values_list("id", "external_id", "status", "name", "client_id")
    )
    return [ServiceRef(*row) for row in qs]


def fetch_remote_objects(instance: ModuleInstance) -> list[dict[str, Any]]:
    """The module's ``discover`` (outside any transaction). ``discovery_unsupported`` when the
    module cannot list, ``discovery_failed`` when the host refuses or cannot be reached."""
    from billow.services.runner import build_module

    module = build_module(instance)
    try:
        outcome = module.discover()
    except BillowError as exc:
        raise DiscoveryError(f"{instance}: {exc.message}", code="discovery_failed") from exc
    if outcome.status != OutcomeStatus.SUCCEEDED or "objects" not in outcome.data:
        code = "discovery_unsupported" if outcome.code == "unsupported" else "discovery_failed"
        raise DiscoveryError(outcome.message or f"{instance}: discover failed", code=code)
    return [dict(o) for o in outcome.data["objects"]]


def run_discovery(
    *, instance: ModuleInstance, objects: Sequence[Mapping[str, Any]] | None = None
) -> DiscoveryReport:
    """Compare the instance's remote objects (fetched unless given) with its services."""
    started = time.perf_counter()
    remote = list(objects) if objects is not None else fetch_remote_objects(instance)
    marks = frozenset(
        SystemMark.objects.filter(module_instance=instance).values_list("external_id", flat=True)
    )
    rows, linked = compare(remote, list_expected_services(instance), marks)
    return DiscoveryReport(instance.pk, rows, len(remote), linked, time.perf_counter() - started)


# -- writes ----------------------------------------------------------------------------------


def adopt_remote_object(
    *,
    instance: ModuleInstance,
    external_id: str,
    client: Client,
    tariff: Tariff,
    period: str,
    currency: str,
    addon_values: Mapping[str, Any] | None = None,
    parameters: Mapping[str, str] | None = None,
    paid_until: date | None = None,
    name: str = "",
    actor: Actor | None = None,
    now: datetime | None = None,
) -> Service:
    """Make the remote object ``external_id`` a new **active** service of ``client`` on
    ``tariff`` without provisioning: the order is validated like any order
    (``create_service``), the service is linked to the object (``external_id``) and goes
    ordered -> in progress -> active with a ``service.adopted`` event; ``paid_until`` (default
    today) is where billing starts charging. When the module offers ``link``, an operation
    writes Billow's metadata on the object after commit. Refusals: ``remote_object_not_found``,
    ``remote_object_linked``, ``remote_object_system``, plus the ordering codes."""
    moment = clock.now(now)
    found = [o for o in fetch_remote_objects(instance) if o.get("external_id") == external_id]
    if not found:
        raise ServiceValidationError(
            f"{instance} has no object {external_id}", code="remote_object_not_found"
        )
    with transaction.atomic():
        ModuleInstance.objects.select_for_update().get(pk=instance.pk)  # one adoption at a time
        _check_adoptable(instance, external_id)
        service = actions.create_service(
            client=client,
            tariff=tariff,
            period=period,
            currency=currency,
            addon_values=addon_values,
            parameters=parameters,
            name=name or str(found[0].get("name") or ""),
            actor=actor,
            now=moment,
        )
        service.module_instance, service.external_id = instance, external_id
        service.paid_until = paid_until or moment.date()
        service.save(update_fields=["module_instance", "external_id", "paid_until"])
        info = {"external_id": external_id, "module_instance_id": instance.pk}
        for to, sub_state, reason in (
            (S.IN_PROGRESS, SubState.OPEN, "adopting"),
            (S.ACTIVE, "", "adopted by discovery"),
        ):
            actions.transition_service(
                service=service,
                to=to,
                sub_state=sub_state,
                actor=actor,
                now=moment,
                reason=reason,
                data=info,
            )
        actions.record_event(service, "service.adopted", actor, info, moment)
        if "link" in modules.get(instance.module).actions:
            actions.request_operation(service=service, operation="link", actor=actor, now=moment)
    return service


def _check_adoptable(instance: ModuleInstance, external_id: str) -> None:
    if SystemMark.objects.filter(module_instance=instance, external_id=external_id).exists():
        raise ServiceConflictError("the object is marked system", code="remote_object_system")
    live = Service.objects.filter(module_instance=instance, external_id=external_id).exclude(
        status=S.DELETED
    )
    owner = live.first()
    if owner is not None:
        raise ServiceConflictError(
            f"service #{owner.pk} already owns this object", code="remote_object_linked"
        )


def recreate_service_vm(
    *,
    service: Service,
    actor: Actor | None = None,
    key: str | None = None,
    now: datetime | None = None,
) -> ServiceOperation:
    """Queue the module's ``recreate``: build the service's remote object again from its
    tariff and addons (same external id where the host allows). Refusals:
    ``recreate_unsupported``, plus ``request_operation``'s."""
    instance = service.module_instance
    if instance is None or "recreate" not in modules.get(instance.module).actions:
        raise ServiceValidationError(
            "the service's module cannot recreate its objects", code="recreate_unsupported"
        )
    return actions.request_operation(
        service=service,
        operation="recreate",
        payload={"note": service.note},
        actor=actor,
        key=key,
        now=now,
    )


def mark_system(
    *,
    instance: ModuleInstance,
    external_id: str,
    name: str = "",
    note: str = "",
    actor: Actor | None = None,
    now: datetime | None = None,
) -> SystemMark:
    """Mark a remote object as the provider's own (idempotent: the existing mark is returned).
    ``remote_object_linked`` when a live service owns it."""
    moment = clock.now(now)
    who = actor.audit_fields() if actor else {}
    with transaction.atomic():
        ModuleInstance.objects.select_for_update().get(pk=instance.pk)
        existing = SystemMark.objects.filter(module_instance=instance, external_id=external_id)
        if existing.exists():
            return existing.get()
        live = Service.objects.filter(module_instance=instance, external_id=external_id)
        if live.exclude(status=S.DELETED).exists():
            raise ServiceConflictError("a service owns this object", code="remote_object_linked")
        return SystemMark.objects.create(
            module_instance=instance,
            external_id=external_id,
            name=name[:200],
            note=note,
            created_at=moment,
            **who,
        )


def unmark_system(*, instance: ModuleInstance, external_id: str) -> int:
    """Drop the system mark (it shows up as drift again unless a service owns it)."""
    deleted, _ = SystemMark.objects.filter(
        module_instance=instance, external_id=external_id
    ).delete()
    return deleted
