"""The daily pull of the modules' ``stat(ctx, day)``: each metered service's usage of a day,
ingested like an upload (idempotent: a record per parameter keyed ``stat-<day>-<parameter>``,
so pulling a day twice stores it once)."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from billow.core import clock
from billow.core.errors import BillowError
from billow.services.modules.base import OutcomeStatus, ProcessingModule
from billow.services.runner import build_module
from billow.usage.ingest import ingest_records
from billow.usage.parsing import RecordError, RecordIn, build_record
from billow.usage.selectors import PullTarget, list_services_to_pull

logger = logging.getLogger("billow.usage")
CHUNK = 500


@dataclass
class PullResult:
    services: int = 0
    failed: int = 0
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0


def _stat_records(
    module: ProcessingModule, target: PullTarget, day: date
) -> list[RecordIn | RecordError]:
    outcome = module.stat(target.context, day)
    if outcome.status != OutcomeStatus.SUCCEEDED:
        raise BillowError(outcome.message, code=outcome.code or "stat_failed")
    stamp = datetime.combine(day, time(0), UTC)
    values = outcome.data.get("values") or {}
    return [
        build_record(0, target.service_id, str(p), stamp, v, f"stat-{day.isoformat()}-{p}")
        for p, v in values.items()
    ]


def pull_stats(
    *, day: date, service_ids: Iterable[int] | None = None, now: datetime | None = None
) -> PullResult:
    """Ask every metered service's module for ``day``'s usage and ingest it (``service_ids``:
    only those, for an on-demand pull). A module that fails is logged and skipped."""
    moment = clock.now(now)
    result = PullResult()
    wanted = list(service_ids) if service_ids is not None else None
    modules: dict[int, ProcessingModule] = {}
    for chunk in _chunks(day, wanted):
        records: list[RecordIn | RecordError] = []
        for target in chunk:
            result.services += 1
            try:
                instance = target.module_instance
                if instance.pk not in modules:
                    modules[instance.pk] = build_module(instance)
                records.extend(_stat_records(modules[instance.pk], target, day))
            except BillowError as exc:
                result.failed += 1
                logger.warning("stat() of service %s for %s: %s", target.service_id, day, exc)
        ingested = ingest_records(records, now=moment)
        result.accepted += ingested.accepted
        result.duplicates += ingested.duplicates
        result.rejected += ingested.rejected
    return result


def _chunks(day: date, service_ids: list[int] | None) -> Iterator[list[PullTarget]]:
    after = 0
    while True:
        chunk = list_services_to_pull(day=day, after_id=after, limit=CHUNK, service_ids=service_ids)
        if not chunk:
            return
        yield chunk
        after = chunk[-1].service_id
