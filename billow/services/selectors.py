"""Services reads: module instance choice, due operations, the context handed to modules."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Q

from billow.catalog import cache as catalog_cache
from billow.catalog.models import Tariff
from billow.services.models import (
    ModuleInstance,
    OperationStatus,
    Service,
    ServiceEvent,
    ServiceOperation,
)
from billow.services.modules.base import ServiceContext, modules
from billow.services.states import Operation, ServiceStatus


def pick_module_instance(tariff: Tariff) -> ModuleInstance | None:
    """The active instance of a registered module with the lowest priority that serves
    ``tariff``: listed for the tariff, or (listing no tariff) for its product type.

    Cached per process under the catalog token, which every module instance write replaces;
    the row returned is shared: read it, never change it."""
    key = ("module_instance", tariff.pk, tariff.product_type_id)
    return catalog_cache.cached(key, lambda: _pick_module_instance(tariff))


def _pick_module_instance(tariff: Tariff) -> ModuleInstance | None:
    candidates = (
        ModuleInstance.objects.filter(is_active=True, module__in=modules.keys())
        .filter(Q(tariffs=tariff) | Q(tariffs__isnull=True, product_types=tariff.product_type_id))
        .distinct()
        .order_by("priority", "id")
    )
    return candidates.first()


def list_due_operation_ids(*, now: datetime, limit: int = 1000) -> list[int]:
    """Queued operations whose next attempt is due, oldest first."""
    return list(
        ServiceOperation.objects.filter(status=OperationStatus.QUEUED)
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .order_by("id")
        .values_list("id", flat=True)[:limit]
    )


def get_operation(operation_id: int) -> ServiceOperation:
    return ServiceOperation.objects.select_related(
        "service__tariff__product_type", "service__module_instance", "module_instance"
    ).get(pk=operation_id)


def build_context(op: ServiceOperation, operation: str | None = None) -> ServiceContext:
    """What the module sees for ``op`` (``operation`` overrides the name, e.g. for ``sync``).
    For set_param the addon values and parameters are already the requested new ones."""
    svc = op.service
    addons, params = dict(svc.addon_values), dict(svc.parameters)
    if op.operation == Operation.SET_PARAM:
        addons.update(op.payload.get("addon_values") or {})
        params.update(op.payload.get("parameters") or {})
    instance = op.module_instance or svc.module_instance
    return ServiceContext(
        service_id=svc.pk,
        operation=operation or op.operation,
        idempotency_key=op.idempotency_key,
        operation_id=op.pk,
        client_id=svc.client_id,
        module_instance_id=instance.pk if instance else None,
        tariff_id=svc.tariff_id,
        tariff_name=svc.tariff.name,
        product_type=svc.tariff.product_type.intname,
        addon_values=addons,
        parameters=params,
        external_id=svc.external_id,
        payload=dict(op.payload),
        checked_operation=op.operation if operation and operation != op.operation else "",
    )


def get_suspension_notice(service: Service) -> str:
    """Why staff suspended the service (the reason of its latest ``staff.suspend`` event), for
    the client to see while it is suspended by staff or for abuse; "" otherwise."""
    if service.status not in (ServiceStatus.SUSPENDED_BY_STAFF, ServiceStatus.SUSPENDED_ABUSE):
        return ""
    data = (
        ServiceEvent.objects.filter(service=service, type="staff.suspend")
        .order_by("-id")
        .values_list("data", flat=True)
        .first()
    )
    return str((data or {}).get("reason", ""))


def service_table() -> str:
    """The services' table name, for other apps' read-only joins in their hand-written SQL
    (the usage bulk upload checks staged lines against it); only the services app writes it."""
    return Service._meta.db_table
