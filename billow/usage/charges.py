"""The overage of closed periods, for the billing run: what to charge (``list_overage_charges``)
and the record of what was charged (``record_overage_charges``), written in the run's
transaction right after the charges (``billing.usage_charges``).

A run on day D rates, for the services of its client range, every rating period that ended
since the last run (``last_run``: a missed month end is caught up) or in the last
``USAGE_LATE_DAYS + 2`` days (a late record, accepted up to ``USAGE_LATE_DAYS`` after its time,
is rated at the next run), and every closed period a late record marked (``RerateMark``). The
loads are one query for the meters (nothing more when no addon is metered), one for the marks,
one per kind of period over the rollups (``UsageMonthly``, ``UsageDaily``; never raw records)
and one for what was charged before.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import Q

from billow.catalog.choices import BillingType, StatisticsRating
from billow.core import clock
from billow.usage.models import Meter, RerateMark, UsageDaily, UsageMonthly
from billow.usage.rating import (
    MeterTerms,
    OverageCharge,
    PeriodUsage,
    closed_periods,
    period_of,
    plan_overage,
)
from billow.usage.rating_models import UsageCharge


def setting(name: str, default: int) -> int:
    """``settings.BILLOW[name]``, else the ``BILLOW_<name>`` environment variable, else default."""
    conf = getattr(settings, "BILLOW", {})
    if name in conf:
        return int(conf[name])
    return int(os.environ.get(f"BILLOW_{name}", default))


#: The oldest closed period a run catches up, in days back from its date.
MAX_CATCH_UP_DAYS = 400


def rating_lookback_days() -> int:
    return setting("USAGE_LATE_DAYS", 7) + 2


def load_meter_terms(meter_ids: Iterable[int] | None = None) -> dict[int, MeterTerms]:
    """The rating terms of every meter of a statistics addon (or of ``meter_ids``), one query."""
    rows = Meter.objects.filter(addon__billing_type=BillingType.STATISTICS)
    if meter_ids is not None:
        rows = rows.filter(pk__in=list(meter_ids))
    return {
        m["id"]: MeterTerms(
            meter_id=m["id"],
            addon_id=m["addon_id"],
            name=m["addon__name"],
            unit=m["unit"] or m["addon__unit"],
            included=Decimal(m["addon__included"]),
            price_minor=m["addon__overage_price_minor"],
            per_day=m["addon__statistics_rating"] == StatisticsRating.PER_DAY,
            currency=m["addon__currency_id"],
        )
        for m in rows.values(
            "id",
            "addon_id",
            "unit",
            "addon__name",
            "addon__unit",
            "addon__included",
            "addon__overage_price_minor",
            "addon__statistics_rating",
            "addon__currency_id",
        )
    }


@dataclass(frozen=True, slots=True)
class OverageRating:
    """A run's rating of one client range: the charges to write and the re-rate marks it
    rated (cleared with the record of the charges)."""

    charges: list[OverageCharge] = field(default_factory=list)
    rated_marks: Q | None = None  # the re-rate marks this rating makes redundant
    read_at: datetime | None = None  # when the marks and the usage were read


def list_overage_charges(
    *,
    day: date,
    client_from: int,
    client_to: int | None,
    last_run: Callable[[], date | None] | None = None,
) -> OverageRating:
    """The overage to charge on ``day`` for the services of clients ``[client_from,
    client_to)`` (``client_to`` None: open-ended). ``last_run`` gives the day of the last run
    before (asked only when some addon is metered), so the periods that closed while no run
    ran are caught up (at most ``MAX_CATCH_UP_DAYS`` back). One query when no addon is
    metered."""
    terms = load_meter_terms()
    if not terms:
        return OverageRating()
    clients = Q(service__client_id__gte=client_from)
    if client_to is not None:
        clients &= Q(service__client_id__lt=client_to)
    read_at = clock.now()
    lookback = rating_lookback_days()
    since = last_run() if last_run is not None else None
    if since is not None:
        lookback = min(max(lookback, (day - since).days + 1), MAX_CATCH_UP_DAYS)
    periods, marks = _periods_to_rate(terms, day, clients, lookback)
    usages = _load_usage(terms, periods, clients)
    return OverageRating(plan_overage(usages, terms, _charged(usages, clients)), marks, read_at)


def _periods_to_rate(
    terms: dict[int, MeterTerms], day: date, clients: Q, lookback: int
) -> tuple[dict[bool, set[tuple[date, date]]], Q]:
    """Per kind of period (per day: True), the closed periods to rate: those that ended in the
    lookback and those a late record marked; and which marks go once they are rated: every
    mark of a day before ``day`` (a mark in a month still open says nothing the month's own
    rating at its close will not see, so it goes too: marks never pile up)."""
    out: dict[bool, set[tuple[date, date]]] = {
        per_day: set(closed_periods(day, per_day=per_day, lookback_days=lookback))
        for per_day in {t.per_day for t in terms.values()}
    }
    closed = Q()
    for per_day in out:
        meters = sorted(m for m, t in terms.items() if t.per_day == per_day)
        closed |= Q(meter_id__in=meters, day__lt=period_of(day, per_day=per_day)[0])
    marked = RerateMark.objects.filter(clients & closed).values_list("meter_id", "day").distinct()
    for meter_id, marked_day in marked:
        per_day = terms[meter_id].per_day
        out[per_day].add(period_of(marked_day, per_day=per_day))
    return out, clients & Q(meter_id__in=sorted(terms), day__lt=day)


def _load_usage(
    terms: dict[int, MeterTerms], periods: dict[bool, set[tuple[date, date]]], clients: Q
) -> list[PeriodUsage]:
    out: list[PeriodUsage] = []
    fields = (
        "service_id",
        "service__client_id",
        "service__provider_id",
        "service__currency",
        "meter_id",
    )
    monthly = sorted(periods.get(False, ()))
    if monthly:
        meters = [m for m, t in terms.items() if not t.per_day]
        ends = {start: end for start, end in monthly}
        for r in UsageMonthly.objects.filter(
            clients, meter_id__in=meters, month__in=list(ends)
        ).values_list(*fields, "month", "value"):
            out.append(_period_usage(r, ends[r[5]]))
    daily = sorted(periods.get(True, ()))
    if daily:
        meters = [m for m, t in terms.items() if t.per_day]
        for r in UsageDaily.objects.filter(
            clients, meter_id__in=meters, day__in=[start for start, _end in daily]
        ).values_list(*fields, "day", "value"):
            out.append(_period_usage(r, r[5] + timedelta(days=1)))
    return out


def _period_usage(row: tuple[Any, ...], period_to: date) -> PeriodUsage:
    service_id, client_id, provider_id, currency, meter_id, period_from, value = row
    return PeriodUsage(
        service_id, client_id, provider_id, currency, meter_id, period_from, period_to, value
    )


def _charged(usages: Sequence[PeriodUsage], clients: Q) -> dict[tuple[int, int, date], int]:
    """What was charged before for the periods of ``usages`` (one query over the client
    range, not an IN list of services)."""
    if not usages:
        return {}
    rows = UsageCharge.objects.filter(
        clients,
        meter_id__in=sorted({u.meter_id for u in usages}),
        period_from__in=sorted({u.period_from for u in usages}),
    )
    return {
        (s, m, p): c
        for s, m, p, c in rows.values_list("service_id", "meter_id", "period_from", "charged_minor")
    }


def record_overage_charges(rating: OverageRating, *, now: datetime) -> None:
    """Record what the rating's charges brought the charged total of their periods to (inside
    the transaction that wrote them), and clear the re-rate marks it rated."""
    charges = rating.charges
    if rating.rated_marks is not None and rating.read_at is not None:
        # by range, not by id (a chunk's marks can be many); a mark set after the read stays
        RerateMark.objects.filter(rating.rated_marks, marked_at__lt=rating.read_at).delete()
    UsageCharge.objects.bulk_create(
        [
            UsageCharge(
                service_id=c.service_id,
                meter_id=c.meter_id,
                period_from=c.period_from,
                period_to=c.period_to,
                value=c.value,
                overage=c.overage,
                charged_minor=c.due_minor,
                currency=c.currency,
                updated_at=now,
            )
            for c in charges
        ],
        update_conflicts=True,
        unique_fields=["service", "meter", "period_from"],
        update_fields=["period_to", "value", "overage", "charged_minor", "updated_at"],
        batch_size=1000,
    )


def usage_summary(rating: OverageRating) -> dict[str, Any]:
    """The run report's part: how many overage charges, and how much per currency."""
    charges = rating.charges
    amounts: dict[str, int] = defaultdict(int)
    for c in charges:
        amounts[c.currency] += c.amount_minor
    return {"usage_charges": len(charges), "usage_amounts": dict(sorted(amounts.items()))}
