"""Ready servers from DCImanager 6 (an idempotent job) and from a CSV file (providers without
DCImanager). Both report what they changed; a second run with nothing new changes nothing.

DCImanager is the truth for what exists and who owns it; Billow keeps its own reservations
(a server reserved for an order stays reserved while DCImanager shows it free). A server no
longer listed is marked ``gone`` (discovery shows its service, if any).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import transaction

from billow.core import clock
from billow.inventory.errors import ImportRefused
from billow.inventory.models import Location, ReadyServer, ServerStatus
from billow.services.models import ModuleInstance
from billow.services.modules.dcimanager6 import Dci6Module
from billow.services.runner import build_module


@dataclass
class SyncReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    gone: list[str] = field(default_factory=list)
    unchanged: int = 0
    configurations: dict[str, int] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated or self.gone)

    def as_dict(self) -> dict[str, Any]:
        return {
            "created": self.created,
            "updated": self.updated,
            "gone": self.gone,
            "unchanged": self.unchanged,
            "configurations": self.configurations,
        }


def _service_of(comment: str) -> int | None:
    rest = comment.removeprefix("billow:") if comment.startswith("billow:") else ""
    return int(rest) if rest.isdigit() else None


def _remote_fields(remote: dict[str, Any], server: ReadyServer | None) -> dict[str, Any]:
    owner = remote.get("owner_email") or ""
    service_id = _service_of(str(remote.get("comment") or ""))
    if owner:
        status = ServerStatus.IN_USE
    elif remote.get("is_new"):
        status = ServerStatus.MAINTENANCE
    elif server is not None and server.status == ServerStatus.RESERVED:
        status = ServerStatus.RESERVED  # our hold, not visible in DCImanager
    else:
        status = ServerStatus.FREE
    keep_service = server.service_id if status == ServerStatus.RESERVED and server else None
    return {
        "name": str(remote.get("name") or f"dci-{remote['id']}"),
        "configuration": str(remote.get("configuration") or ""),
        "owner_email": owner,
        "barcode": str(remote.get("barcode") or ""),
        "hardware_info": remote.get("hardware_info") or {},
        "status": status,
        "service_id": service_id if owner else keep_service,
    }


def sync_from_dcimanager(
    *, instance: ModuleInstance, location: Location, now: datetime | None = None
) -> SyncReport:
    """Bring the ready servers of ``location`` in line with DCImanager (``instance`` is a
    ``dcimanager6`` module instance)."""
    moment = clock.now(now)
    module = build_module(instance)
    assert isinstance(module, Dci6Module)
    where = f"location_id EQ {location.dci_location_id}" if location.dci_location_id else ""
    remote = module.api.servers(where=where, limit="0,100000")
    report = SyncReport()
    report.configurations = {
        str(c["configuration"]): int(c["free_server_count"]) for c in module.api.configurations()
    }
    with transaction.atomic():
        local = {
            s.dci_server_id: s
            for s in ReadyServer.objects.select_for_update().filter(
                location=location, dci_server_id__isnull=False
            )
        }
        for row in remote:
            server = local.pop(int(row["id"]), None)
            wanted = _remote_fields(row, server)
            if server is None:
                ReadyServer.objects.create(
                    location=location, dci_server_id=int(row["id"]), updated_at=moment, **wanted
                )
                report.created.append(wanted["name"])
                continue
            changed = [k for k, v in wanted.items() if getattr(server, k) != v]
            if not changed:
                report.unchanged += 1
                continue
            for k in changed:
                setattr(server, k, wanted[k])
            server.updated_at = moment
            server.save(update_fields=[*changed, "updated_at"])
            report.updated.append(server.name)
        for server in local.values():
            if server.status != ServerStatus.GONE:
                server.status, server.updated_at = ServerStatus.GONE, moment
                server.save(update_fields=["status", "updated_at"])
                report.gone.append(server.name)
            else:
                report.unchanged += 1
    return report


CSV_COLUMNS = ("name", "configuration", "location", "barcode", "status")
CSV_STATUSES = (ServerStatus.FREE, ServerStatus.IN_USE, ServerStatus.MAINTENANCE)


def import_servers_csv(text: str, *, now: datetime | None = None) -> SyncReport:
    """Ready servers from CSV (``name,configuration,location,barcode,status``; location by
    code; status free / in_use / maintenance, blank = free), matched by location and name.
    A bad header or row refuses the whole file (``inventory_import_refused``, nothing
    written)."""
    moment = clock.now(now)
    reader = csv.DictReader(io.StringIO(text))
    if tuple(reader.fieldnames or ()) != CSV_COLUMNS:
        raise ImportRefused(
            f"the header must be {','.join(CSV_COLUMNS)}", header=reader.fieldnames or []
        )
    locations = {loc.code: loc for loc in Location.objects.all()}
    rows = []
    for line, row in enumerate(reader, start=2):
        status = (row["status"] or ServerStatus.FREE).strip()
        if row["location"] not in locations:
            raise ImportRefused(f"line {line}: no location {row['location']!r}", line=line)
        if status not in CSV_STATUSES or not row["name"] or not row["configuration"]:
            raise ImportRefused(f"line {line}: name, configuration and a status", line=line)
        rows.append((locations[row["location"]], row, status))
    report = SyncReport()
    with transaction.atomic():
        for location, row, status in rows:
            wanted = {
                "configuration": row["configuration"].strip(),
                "barcode": row["barcode"].strip(),
            }
            server = (
                ReadyServer.objects.select_for_update()
                .filter(location=location, name=row["name"].strip())
                .first()
            )
            if server is None:
                ReadyServer.objects.create(
                    location=location,
                    name=row["name"].strip(),
                    status=status,
                    updated_at=moment,
                    **wanted,
                )
                report.created.append(row["name"].strip())
                continue
            if server.status not in (ServerStatus.RESERVED,) and server.service_id is None:
                wanted["status"] = status
            changed = [k for k, v in wanted.items() if getattr(server, k) != v]
            if not changed:
                report.unchanged += 1
                continue
            for k in changed:
                setattr(server, k, wanted[k])
            server.updated_at = moment
            server.save(update_fields=[*changed, "updated_at"])
            report.updated.append(server.name)
    return report
