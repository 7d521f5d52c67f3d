"""Usage writes other than ingestion: ingest tokens, re-rate marks, raw-table maintenance."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction

from billow.catalog.choices import BillingType
from billow.catalog.models import Addon
from billow.core import clock
from billow.core.actors import Actor
from billow.core.periods import first_of_next_month
from billow.usage.errors import MeterError
from billow.usage.models import Combine, IngestToken, Meter, RerateMark, UsageDaily, UsageMonthly
from billow.usage.parsing import PARAMETER_PATTERN
from billow.usage.rollups import apply_touched, rebuild_range_in_sql
from billow.usage.selectors import list_meters_for_tariffs, services_for_ingest
from billow.usage.storage import days_between, get_storage, rebuild_parameter_daily


def set_meter(
    *,
    addon: Addon,
    parameters: list[str],
    combine: str = Combine.SUM,
    unit: str = "",
    limit: Decimal | None = None,
    actor: Actor | None = None,
) -> Meter:
    """Create or change the meter of a statistics addon. Existing rollups keep their values;
    a change of parameters applies to records ingested from then on."""
    if addon.billing_type != BillingType.STATISTICS:
        raise MeterError("only addons billed by statistics have a meter", code="not_metered")
    if not parameters or any(not PARAMETER_PATTERN.match(p) for p in parameters):
        raise MeterError("parameters: 1-64 of A-Z a-z 0-9 _ . : -", code="bad_parameters")
    if combine not in Combine.values:
        raise MeterError(f"combine: one of {Combine.values}", code="bad_combine")
    if limit is not None and limit < 0:
        raise MeterError("the limit cannot be negative", code="bad_limit")
    meter, _ = Meter.objects.update_or_create(
        addon=addon,
        defaults={
            "parameters": list(dict.fromkeys(parameters)),
            "combine": combine,
            "unit": unit,
            "limit": limit,
        },
    )
    return meter


def create_ingest_token(
    *, module_instance_id: int, name: str, actor: Actor
) -> tuple[IngestToken, str]:
    """A new ingest token of a module instance; returns it and the secret (shown once)."""
    prefix = secrets.token_hex(6)
    raw = f"bmi_{prefix}_{secrets.token_urlsafe(32).replace('_', '-')}"
    token = IngestToken.objects.create(
        module_instance_id=module_instance_id,
        name=name,
        prefix=prefix,
        token_hash=hashlib.sha256(raw.encode()).hexdigest(),
    )
    return token, raw


def revoke_ingest_token(*, token: IngestToken, actor: Actor, now: datetime | None = None) -> None:
    IngestToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
        revoked_at=clock.now(now)
    )


def clear_rerate_marks(*, mark_ids: Iterable[int], marked_before: datetime) -> int:
    """Remove re-rate marks once the rating has re-rated their periods. Only marks set before
    ``marked_before`` (when the rating read the usage) go: a record arriving meanwhile marks
    the day again and keeps it."""
    deleted, _ = RerateMark.objects.filter(
        pk__in=list(mark_ids), marked_at__lt=marked_before
    ).delete()
    return deleted


def rebuild_month(*, month: date, now: datetime | None = None) -> int:
    """Recompute every rollup of a calendar month from the raw records still stored (after a
    repair, or when a meter's parameters changed). Days whose raw records retention dropped
    keep no rollup, so rebuild only months within retention. Returns the (service, parameter,
    day) keys rolled up. Marks nothing for re-rating: use it before the month is rated."""
    moment = clock.now(now)
    first = month.replace(day=1)
    end = first_of_next_month(first)
    with transaction.atomic(durable=True):
        UsageDaily.objects.filter(day__gte=first, day__lt=end).delete()
        UsageMonthly.objects.filter(month=first).delete()
        rebuilt = rebuild_parameter_daily(first, end)
        refs = services_for_ingest(rebuilt.service_ids)
        tariff_of = {sid: ref.tariff_id for sid, ref in refs.items()}
        meters = list_meters_for_tariffs(set(tariff_of.values()))
        if rebuilt.touched is None:  # PostgreSQL: every meter rollup of the month in SQL
            rebuild_range_in_sql(first, end, tariff_of=tariff_of, meters_of=meters, now=moment)
            return rebuilt.keys
        apply_touched(
            rebuilt.touched,
            tariff_of=tariff_of,
            meters_of=meters,
            today=moment.astimezone(UTC).date(),
            now=moment,
            mark_late=False,
        )
    return rebuilt.keys


@dataclass(frozen=True, slots=True)
class Maintenance:
    created_for: list[date]
    dropped: list[date]


def maintain_raw_storage(*, now: datetime | None = None) -> Maintenance:
    """Prepare the raw store for every day records may still arrive for (the late window to
    ``USAGE_PARTITIONS_AHEAD`` days ahead) and drop days older than ``USAGE_RETENTION_DAYS``.
    Rollups are kept: retention removes raw records only."""
    today = clock.now(now).astimezone(UTC).date()
    conf = settings.BILLOW
    retention = max(int(conf["USAGE_RETENTION_DAYS"]), int(conf["USAGE_LATE_DAYS"]) + 1)
    first = today - timedelta(days=int(conf["USAGE_LATE_DAYS"]))
    days = days_between(first, today + timedelta(days=int(conf["USAGE_PARTITIONS_AHEAD"])))
    storage = get_storage()
    with transaction.atomic():
        storage.ensure_days(days)
        dropped = storage.drop_before(today - timedelta(days=retention))
    return Maintenance(sorted(days), dropped)
