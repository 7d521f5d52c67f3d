"""Ingestion: records from the bulk API or a module's ``stat()`` into raw storage and rollups.

``ingest_records`` takes parsed records (a stream: it keeps one batch in memory), refuses per
record what it must (unknown service, deleted service, older than the late window, in the
future) and stores the rest batch by batch, each batch in its own transaction: raw rows (new
ones only, so a re-sent batch changes nothing), per-parameter daily statistics, the meters'
daily and monthly rollups and re-rate marks for days already closed. After each commit the
status hook (``usage.status.refresh``) gets the (service, meter) pairs whose usage changed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction

from billow.core import clock
from billow.usage import rollups, status
from billow.usage.errors import RECORD_ERROR_CODES
from billow.usage.parsing import RecordError, RecordIn
from billow.usage.selectors import MeterInfo, ServiceRef, list_meters_for_tariffs
from billow.usage.selectors import services_for_ingest as load_services
from billow.usage.storage import PostgresStorage, UsageStorage, get_storage

#: Clock skew tolerated for records stamped ahead of the server's clock.
FUTURE_SKEW = timedelta(minutes=10)
#: At most this many per-record errors are listed in a result (all are counted).
MAX_LISTED_ERRORS = 1000
#: Known services kept between batches of one upload (then the cache starts over).
SERVICE_CACHE_SIZE = 200_000


@dataclass
class IngestResult:
    """The outcome of one upload: counts and the first ``MAX_LISTED_ERRORS`` record errors."""

    received: int = 0
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)

    def refuse(self, error: RecordError) -> None:
        self.rejected += 1
        if len(self.errors) < MAX_LISTED_ERRORS:
            self.errors.append(error.as_dict())

    def as_dict(self) -> dict[str, Any]:
        return {
            "received": self.received,
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "rejected": self.rejected,
            "errors": self.errors,
            "errors_truncated": self.rejected > len(self.errors),
        }


def late_window_start(now: datetime) -> datetime:
    """The oldest timestamp still accepted: 00:00 UTC ``USAGE_LATE_DAYS`` days before today."""
    days = int(settings.BILLOW["USAGE_LATE_DAYS"])
    return datetime.combine(now.astimezone(UTC).date() - timedelta(days=days), time(0), UTC)


class _Batcher:
    def __init__(self, *, module_instance_id: int | None, now: datetime) -> None:
        self.module_instance_id = module_instance_id
        self.now = now
        self.earliest = late_window_start(now)
        self.latest = now + FUTURE_SKEW
        self.storage: UsageStorage = get_storage()
        self.services: dict[int, ServiceRef | None] = {}
        self.meters: dict[int, list[MeterInfo]] = {}
        self.result = IngestResult()

    def _refs(self, batch: list[RecordIn]) -> None:
        missing = {r.service_id for r in batch} - self.services.keys()
        if not missing:
            return
        if len(self.services) > SERVICE_CACHE_SIZE:
            self.services.clear()
            missing = {r.service_id for r in batch}
        found = load_services(missing)
        for service_id in missing:
            self.services[service_id] = found.get(service_id)
        tariffs = {ref.tariff_id for ref in found.values()} - self.meters.keys()
        if tariffs:
            meters = list_meters_for_tariffs(tariffs)
            for tariff_id in tariffs:
                self.meters[tariff_id] = meters.get(tariff_id, [])

    def _check(self, record: RecordIn) -> str | None:
        ref = self.services.get(record.service_id)
        if ref is None or (
            self.module_instance_id is not None
            and ref.module_instance_id != self.module_instance_id
        ):
            return "unknown_service"
        if ref.deleted:
            return "service_deleted"
        if record.ts < self.earliest:
            return "too_late"
        if record.ts > self.latest:
            return "in_future"
        return None

    def flush(self, batch: list[RecordIn]) -> None:
        self._refs(batch)
        accepted = []
        for record in batch:
            code = self._check(record)
            if code is None:
                accepted.append(record)
            else:
                self.result.refuse(
                    RecordError(record.line, code, RECORD_ERROR_CODES[code], record.service_id)
                )
        if not accepted:
            return
        self.storage.ensure_days({r.ts.date() for r in accepted})
        tariff_of = {
            sid: ref.tariff_id
            for sid in {r.service_id for r in accepted}
            if (ref := self.services[sid]) is not None
        }
        with transaction.atomic(durable=True):
            if isinstance(self.storage, PostgresStorage):
                self.storage.lock_services(set(tariff_of))
            inserted = self.storage.insert_new(accepted, self.now)
            changes = rollups.apply_touched(
                inserted.touched,
                tariff_of=tariff_of,
                meters_of=self.meters,
                today=self.now.astimezone(UTC).date(),
                now=self.now,
            )
        self.result.accepted += inserted.new
        self.result.duplicates += len(accepted) - inserted.new
        if changes:
            status.refresh(changes=changes, now=self.now)


def ingest_records(
    items: Iterable[RecordIn | RecordError],
    *,
    module_instance_id: int | None = None,
    now: datetime | None = None,
    batch_size: int | None = None,
) -> IngestResult:
    """Store ``items`` (parsed records and parse errors) batch by batch; see the module doc.

    ``module_instance_id`` limits the records to that module instance's services (others are
    ``unknown_service``). Each batch commits on its own: when the stream breaks midway, the
    batches before stay stored and re-sending the whole upload stores only the rest.
    """
    batcher = _Batcher(module_instance_id=module_instance_id, now=now or clock.now())
    size = batch_size or int(settings.BILLOW["USAGE_INGEST_BATCH"])
    batch: list[RecordIn] = []
    for item in items:
        batcher.result.received += 1
        if isinstance(item, RecordError):
            batcher.result.refuse(item)
            continue
        batch.append(item)
        if len(batch) >= size:
            batcher.flush(batch)
            batch = []
    if batch:
        batcher.flush(batch)
    return batcher.result
