"""OS list sync: VMmanager's OS templates become the values of the product type's OS parameter
(reference §2.5: internal name ``<repository>__<template>``, case-sensitive).

Idempotent: a second run with the same list changes nothing; templates VMmanager no longer
offers are deactivated, not deleted (services keep pointing at them). The catalog owns the
values, so the write is ``catalog.actions.sync_parameter_values``.
"""

from __future__ import annotations

from billow.catalog import actions as catalog
from billow.catalog.models import ProductTypeParameter
from billow.core.errors import BillowError
from billow.services.models import ModuleInstance
from billow.services.modules.vmmanager6.module import VmManager6Module


def sync_os_values(instance: ModuleInstance) -> dict[str, dict[str, int]]:
    """Sync the OS parameter of every product type ``instance`` serves; the counts per product
    type intname. ``os_parameter_missing`` when none of them has the parameter."""
    from billow.services.runner import build_module

    module = build_module(instance)
    if not isinstance(module, VmManager6Module):
        raise BillowError(f"{instance} is not a VMmanager 6 instance", code="wrong_module")
    parameters = ProductTypeParameter.objects.filter(
        product_type__in=instance.product_types.all(), intname=module.cfg.os_parameter
    ).select_related("product_type")
    if not parameters:
        raise BillowError(
            f"no product type of {instance} has the parameter {module.cfg.os_parameter!r}",
            code="os_parameter_missing",
        )
    values = [(os["intname"], os["name"]) for os in module.os_list()]
    return {
        p.product_type.intname: catalog.sync_parameter_values(parameter=p, values=values)
        for p in parameters
    }
