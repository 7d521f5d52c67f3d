"""What the client's service page shows about a VM: its OS, addresses, resources and the
power state read live from the host (modules that can answer offer ``power_state``)."""

from __future__ import annotations

from dataclasses import dataclass

from billow.catalog.models import ParameterValue
from billow.core.errors import BillowError
from billow.services import ip_pools
from billow.services.models import Service
from billow.services.modules.base import ServiceContext
from billow.services.runner import build_module

#: Parameter intnames that hold the OS (ours and VMmanager's names).
OS_PARAMETERS = ("os", "ostempl", "os_template")


@dataclass(frozen=True, slots=True)
class VmFacts:
    os_value: str
    os_name: str
    addresses: tuple[ip_pools.Address, ...]


def os_of(service: Service) -> tuple[str, str]:
    """(value, display name) of the service's OS parameter; ("", "") without one."""
    for intname in OS_PARAMETERS:
        value = str(service.parameters.get(intname) or "")
        if value:
            name = (
                ParameterValue.objects.filter(
                    parameter__product_type_id=service.tariff.product_type_id,
                    parameter__intname=intname,
                    intname=value,
                )
                .values_list("name", flat=True)
                .first()
            )
            return value, name or value
    return "", ""


def vm_facts(service: Service) -> VmFacts:
    value, name = os_of(service)
    return VmFacts(value, name, tuple(ip_pools.service_addresses(service.pk)))


def power_state(service: Service) -> str:
    """``running``, ``shutoff``, ``paused`` ... read from the host now; ``unknown`` when the
    module cannot say or the host does not answer (the page never fails on it)."""
    instance = service.module_instance
    if instance is None or not service.external_id:
        return "unknown"
    try:
        module = build_module(instance)
        read = getattr(module, "power_state", None)
        if read is None:
            return "unknown"
        ctx = ServiceContext(
            service_id=service.pk,
            operation="power_state",
            idempotency_key="",
            module_instance_id=instance.pk,
            external_id=service.external_id,
        )
        return str(read(ctx))
    except (BillowError, OSError):
        return "unknown"
