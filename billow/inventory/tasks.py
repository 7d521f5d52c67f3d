"""Inventory jobs: the DCImanager sync of every location and the reservation sweep."""

from __future__ import annotations

from typing import Any

from billow.inventory import actions
from billow.inventory.models import Location
from billow.inventory.sync import sync_from_dcimanager
from billow.jobs import job
from billow.services.models import ModuleInstance


@job(retries=0)
def sync_dcimanager() -> dict[str, Any]:
    """Sync every location with a DCImanager location id from each active dcimanager6
    instance whose ``location_id`` names it."""
    out: dict[str, Any] = {}
    instances = ModuleInstance.objects.filter(module="dcimanager6", is_active=True)
    for location in Location.objects.filter(dci_location_id__isnull=False):
        for instance in instances:
            if instance.config.get("location_id") in (0, location.dci_location_id):
                report = sync_from_dcimanager(instance=instance, location=location)
                out[f"{location.code}:{instance.pk}"] = report.as_dict()
    return out


@job(retries=0)
def expire_reservations() -> dict[str, int]:
    return actions.expire_reservations()
