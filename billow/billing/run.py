"""The billing run (DESIGN §5): set-based, chunked by client id range, safe to rerun.

``start_billing_run`` creates (or resumes) the run of a date and its chunks; ``process_chunk``
bills one chunk in one DB transaction (lock wallets then services, read in a few queries, plan in
pure Python, write in bulk, mark the chunk done); the last chunk to finish writes the run's
report. A chunk killed midway rolls back entirely; a chunk done is never redone; and each
service-period charge carries a unique key (also the ledger transaction's), so whatever the
interleaving, every service-period is charged exactly once.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from billow.billing.autopay import AutoPayReport, execute_autopay, get_auto_payer, plan_autopay
from billow.billing.credit import apply_credit_terms
from billow.billing.models import (
    BillingRun,
    BillingRunChunk,
    ExpenseKind,
    ExpenseReason,
    PendingChange,
    RunStatus,
)
from billow.billing.plan import Charge, DueService, Plan, RunRules, plan_chunk
from billow.billing.selectors import (
    PriceBook,
    candidate_services,
    load_autopay_data,
    load_chunk,
)
from billow.billing.usage_charges import overage_items, rate_chunk
from billow.billing.wallet import (
    MoneyItem,
    lock_wallets_in_range,
    wallet_accounts,
    write_money,
)
from billow.billing.writes import (
    RUN_ACTOR,
    apply_status_changes,
    notify_after_commit,
)
from billow.core import clock
from billow.services.actions import (
    PlanChange,
    Renewal,
    TrialConversion,
    apply_scheduled_plan_changes,
    convert_trials,
    request_prolongs,
    set_paid_until,
    set_paid_until_at,
)
from billow.services.states import SUSPENDED, ServiceStatus
from billow.usage.charges import record_overage_charges

MAX_FAILURES_LISTED = 100
_INT_KEYS = (
    "services",
    "renewed",
    "charges",
    "suspended",
    "expired",
    "resumed",
    "deleted",
    "deferred",
    "unpaid",
    "failed",
    "notices",
    "usage_charges",
    "autopay_paid",
    "autopay_failed",
    "autopay_pending",
    "autopay_skipped",
)


def _conf(name: str, default: Any) -> Any:
    """``settings.BILLOW[name]``, else the ``BILLOW_<name>`` environment variable, else default."""
    conf = getattr(settings, "BILLOW", {})
    if name in conf:
        return conf[name]
    return type(default)(os.environ.get(f"BILLOW_{name}", default))


def run_rules(day: date) -> RunRules:
    return RunRules(
        date=day,
        notice_days=int(_conf("BILLING_NOTICE_DAYS", 3)),
        delete_manual_suspended=str(_conf("BILLING_DELETE_MANUAL_SUSPENDED", "0"))
        in ("1", "true", "True"),
    )


def run_moment(day: date, now: datetime | None = None) -> datetime:
    """The moment the run's rows are stamped with: ``now``, the clock when the run is for today,
    else the start of ``day`` (time travel)."""
    if now is not None:
        return clock.now(now)
    current = clock.now()
    return current if current.date() == day else datetime.combine(day, time(0), tzinfo=UTC)


def start_billing_run(*, day: date, now: datetime | None = None) -> BillingRun:
    """The unfinished run of ``day`` if there is one, else a new run with its chunks.

    Two concurrent starts of one date give one run: only one running run per date can exist
    (``billing_run_one_running_per_date``), so the start that loses gets the winner's run.
    """
    moment = run_moment(day, now)
    try:
        with transaction.atomic():
            run = (
                BillingRun.objects.filter(date=day, status=RunStatus.RUNNING).order_by("id").first()
            )
            if run is not None:
                return run
            run = BillingRun.objects.create(date=day, started_at=moment)
            bounds = client_chunk_bounds(candidate_services(run_rules(day)))
            BillingRunChunk.objects.bulk_create(
                BillingRunChunk(run=run, client_from=lo, client_to=hi) for lo, hi in bounds
            )
            run.chunks_total = len(bounds)
            run.save(update_fields=["chunks_total"])
    except IntegrityError:
        # A concurrent start of this date committed its run first (our insert waited on the
        # unique index, then failed): that run is the date's run, whatever it has done since.
        won = BillingRun.objects.filter(date=day).order_by("-id").first()
        if won is None:
            raise
        return won
    return run


def client_chunk_bounds(candidates: QuerySet[Any]) -> list[tuple[int, int | None]]:
    """Client id ranges holding about ``BILLING_CHUNK_SERVICES`` candidate services each; the
    first starts at 0 and the last is open-ended, so clients added later are still covered."""
    size = int(_conf("BILLING_CHUNK_SERVICES", 5000))
    counts = (
        candidates.order_by("client_id")
        .values("client_id")
        .annotate(n=Count("id"))
        .values_list("client_id", "n")
    )
    starts = [0]
    filled = 0
    for client_id, n in counts:
        if filled >= size:
            starts.append(client_id)
            filled = 0
        filled += n
    ends: list[int | None] = [*starts[1:], None]
    return list(zip(starts, ends, strict=True))


def pending_chunk_ids(run: BillingRun) -> list[int]:
    return list(
        run.chunks.filter(status=RunStatus.RUNNING)
        .order_by("client_from")
        .values_list("id", flat=True)
    )


def mark_dispatched(chunk_ids: Sequence[int]) -> None:
    """Stamp the chunks as queued now (wall time: the redispatch janitor's clock)."""
    BillingRunChunk.objects.filter(pk__in=list(chunk_ids)).update(dispatched_at=timezone.now())


def claim_stale_chunks(*, older_than_seconds: float | None = None) -> list[int]:
    """The chunks of running runs that are neither done nor being billed (no transaction holds
    their row lock) and were queued longer than ``BILLING_CHUNK_REDISPATCH_SECONDS`` ago (or
    never), stamped as queued again now; the caller queues them.

    A consumer killed mid-chunk rolls its transaction back and releases the lock, so its chunk
    shows up here and another consumer bills it; the chunk's lock and its ``done`` status keep
    a chunk queued twice from being billed twice."""
    if older_than_seconds is None:
        older_than_seconds = float(_conf("BILLING_CHUNK_REDISPATCH_SECONDS", 300))
    now = timezone.now()
    cutoff = now - timedelta(seconds=older_than_seconds)
    with transaction.atomic():
        ids = list(
            BillingRunChunk.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(status=RunStatus.RUNNING, run__status=RunStatus.RUNNING)
            .filter(Q(dispatched_at__lt=cutoff) | Q(dispatched_at__isnull=True))
            .order_by("client_from")
            .values_list("id", flat=True)
        )
        BillingRunChunk.objects.filter(pk__in=ids).update(dispatched_at=now)
    return ids


def process_chunk(
    *,
    chunk_id: int,
    now: datetime | None = None,
    book: PriceBook | None = None,
    wait_if_busy: bool = True,
) -> dict[str, Any]:
    """Bill one chunk in one DB transaction; a chunk already done returns its report.

    Auto-payments come first, outside that transaction (they call gateways): what they credit
    is on the balances the chunk then renews from. ``wait_if_busy=False`` (the queued job):
    a chunk another consumer is billing right now is left to it, and ``{"busy": True}`` comes
    back at once instead of a worker waiting on the lock."""
    book = book or PriceBook()
    autopay = autopay_chunk(chunk_id=chunk_id, now=now, book=book)
    with transaction.atomic():
        rows = BillingRunChunk.objects.select_for_update(skip_locked=not wait_if_busy, of=("self",))
        chunk = rows.select_related("run").filter(pk=chunk_id).first()
        if chunk is None:
            if BillingRunChunk.objects.filter(pk=chunk_id).exists():
                return {"busy": True}
            raise BillingRunChunk.DoesNotExist(f"billing run chunk {chunk_id}")
        if chunk.status == RunStatus.DONE:
            return dict(chunk.report)
        moment = run_moment(chunk.run.date, now)
        rules = run_rules(chunk.run.date)
        lo, hi = chunk.client_from, chunk.client_to
        wallet_rows = lock_wallets_in_range(lo, hi)
        credit = apply_credit_terms(wallet_rows, lo, hi, day=rules.date, now=moment)
        data = load_chunk(rules, lo, hi, book, wallet_rows=wallet_rows, credit=credit)
        plan = plan_chunk(rules, data.services, data.wallets, already_charged=data.already_charged)
        plan.notices.extend(autopay.notices)
        usage = rate_chunk(day=rules.date, client_from=lo, client_to=hi)
        write_plan(
            plan,
            data.wallet_ids,
            data.pending,
            moment,
            services=data.services,
            extra=overage_items(usage),
        )
        record_overage_charges(usage, now=moment)
        _crash_point("mid")
        chunk.status = RunStatus.DONE
        chunk.report = {
            **chunk_report(plan, len(data.services), data.services),
            **autopay.as_report(),
            "usage_charges": len(usage.charges),
        }
        chunk.finished_at = moment
        chunk.save(update_fields=["status", "report", "finished_at"])
        finish_run_if_complete(run_id=chunk.run_id, now=moment)
    return dict(chunk.report)


def autopay_enabled() -> bool:
    return str(_conf("BILLING_AUTOPAY", "1")) in ("1", "true", "True")


def autopay_chunk(*, chunk_id: int, now: datetime | None, book: PriceBook) -> AutoPayReport:
    """Charge the saved methods of the chunk's clients whose balance will not cover the
    renewals of the notice window (``billing.autopay``). Costs one query when none of the
    chunk's clients has auto-payment on; a chunk already done charges nothing."""
    payer = get_auto_payer()
    if payer is None or not autopay_enabled():
        return AutoPayReport()
    chunk = BillingRunChunk.objects.select_related("run").get(pk=chunk_id)
    if chunk.status == RunStatus.DONE:
        return AutoPayReport()
    methods = payer.methods(chunk.client_from, chunk.client_to)
    if not methods:
        return AutoPayReport()
    rules = run_rules(chunk.run.date)
    services, wallets = load_autopay_data(rules, {m.client_id for m in methods}, book)
    decisions = plan_autopay(rules, services, wallets, methods)
    return execute_autopay(
        payer,
        decisions,
        day=rules.date,
        now=run_moment(rules.date, now),
        reference=f"billing_run:{chunk.run_id}",
    )


def write_plan(
    plan: Plan,
    wallet_ids: dict[Any, int],
    pending: dict[int, Any],
    now: datetime,
    *,
    services: Sequence[DueService],
    extra: Sequence[MoneyItem] = (),
) -> None:
    """Write a plan of the daily or the hourly run: its charges (and ``extra`` charges written
    and documented with its period charges: the overage of metered addons), paid-until moves
    (dates, or moments for hourly services), trial conversions, prolongs, pending changes,
    status changes and notices."""
    if plan.charges or extra:
        wallets = dict(wallet_ids)
        missing = {c.wallet_key for c in plan.charges} | {x.wallet_key for x in extra}
        missing -= wallets.keys()
        if missing:
            wallets.update(wallet_accounts(missing, create=True))
        labels = {s.id: s.label for s in services}
        periods = [
            _money_item(c, labels.get(c.service_id, ""))
            for c in plan.charges
            if not _is_hour(c.period_from)
        ]
        periods.extend(extra)
        hours = [
            _money_item(c, labels.get(c.service_id, ""))
            for c in plan.charges
            if _is_hour(c.period_from)
        ]
        if periods:
            write_money(periods, wallets, now=now, actor=RUN_ACTOR, fast=True)
        if hours:  # documented once a day (billing.hourly.document_hourly_charges)
            write_money(hours, wallets, now=now, actor=RUN_ACTOR, fast=True, documents=False)
    set_paid_until({k: v for k, v in plan.paid_until.items() if not _is_hour(v)}, now=now)
    set_paid_until_at(
        {k: v for k, v in plan.paid_until.items() if isinstance(v, datetime)}, now=now
    )
    _convert_trials(plan, services, now)
    request_prolongs(_renewals(plan, services), now=now)
    _apply_pending_changes(plan, pending, now)
    apply_status_changes(plan.changes, now=now, actor=RUN_ACTOR)
    notify_after_commit(plan.notices)


def _is_hour(moment: date) -> bool:
    return isinstance(moment, datetime)


def _money_item(c: Charge, label: str) -> MoneyItem:
    if isinstance(c.period_from, datetime):
        return replace(
            MoneyItem.hour_charge(
                service_id=c.service_id,
                wallet_key=c.wallet_key,
                hour_start=c.period_from,
                amount_minor=c.amount_minor,
                tax=c.tax,
            ),
            label=label,
        )
    return MoneyItem(
        c.service_id,
        c.wallet_key,
        ExpenseKind.CHARGE,
        ExpenseReason.PERIOD,
        c.key,
        c.period_from,
        c.period_to,
        c.amount_minor,
        tax=c.tax,
        label=label,
    )


def _convert_trials(plan: Plan, services: Sequence[DueService], now: datetime) -> None:
    """Trials charged into their paid period become services of that period."""
    charged = {c.service_id for c in plan.charges}
    conversions = [
        TrialConversion(s.id, s.renew_period, s.status)
        for s in services
        if s.in_trial and s.id in charged and s.renew_period is not None
    ]
    if conversions:
        convert_trials(conversions, actor=RUN_ACTOR, now=now)


def _renewals(plan: Plan, services: Sequence[DueService]) -> list[Renewal]:
    """The renewed services that have a module (whose ``prolong`` may need to run); not hourly
    services (an hour is no term to prolong a panel's service by)."""
    return [
        Renewal(s.id, s.module_instance_id, s.status, plan.paid_until[s.id])
        for s in services
        if s.module_instance_id and s.id in plan.paid_until and not s.is_hourly
    ]


def _apply_pending_changes(plan: Plan, pending: dict[int, Any], now: datetime) -> None:
    """Scheduled downgrades take effect with the first period charged on or after their date."""
    charged = {c.service_id for c in plan.charges}
    due = sorted(charged & pending.keys())
    if not due:
        return
    apply_scheduled_plan_changes(
        {
            service_id: PlanChange(pending[service_id].tariff_id, pending[service_id].addon_values)
            for service_id in due
        },
        actor=RUN_ACTOR,
        now=now,
    )
    PendingChange.objects.filter(pk__in=[pending[service_id].pk for service_id in due]).delete()


def chunk_report(plan: Plan, seen: int, services: Any) -> dict[str, Any]:
    currency_of = {s.id: s.currency for s in services}
    amounts: Counter[str] = Counter()
    for c in plan.charges:
        amounts[currency_of[c.service_id]] += c.gross_minor
    return {
        "services": seen,
        "renewed": len({c.service_id for c in plan.charges}),
        "charges": len(plan.charges),
        "suspended": sum(1 for c in plan.changes if c.to_status in SUSPENDED),
        "expired": plan.count(ServiceStatus.SUSPENDED_NONPAYMENT, "expired"),
        "resumed": plan.count(ServiceStatus.ACTIVE),
        "deleted": plan.count(ServiceStatus.DELETED),
        "deferred": len(plan.deferred),
        "unpaid": len(plan.unpaid),
        "failed": len(plan.failed),
        "failures": [list(f) for f in plan.failed[:MAX_FAILURES_LISTED]],
        "notices": len(plan.notices),
        "amounts": dict(sorted(amounts.items())),
    }


def merge_reports(reports: list[dict[str, Any]]) -> dict[str, Any]:
    total: dict[str, Any] = {k: 0 for k in _INT_KEYS}
    amounts: Counter[str] = Counter()
    failures: list[Any] = []
    for r in reports:
        for k in _INT_KEYS:
            total[k] += int(r.get(k, 0))
        amounts.update(r.get("amounts", {}))
        failures.extend(r.get("failures", []))
    total["amounts"] = dict(sorted(amounts.items()))
    total["failures"] = failures[:MAX_FAILURES_LISTED]
    return total


def finish_run_if_complete(*, run_id: int, now: datetime) -> BillingRun:
    """Lock the run, count its chunks; when all are done, store the merged report."""
    with transaction.atomic():
        run = BillingRun.objects.select_for_update().get(pk=run_id)
        if run.status == RunStatus.DONE:
            return run
        reports = list(run.chunks.filter(status=RunStatus.DONE).values_list("report", flat=True))
        run.chunks_done = len(reports)
        fields = ["chunks_done"]
        if run.chunks_done >= run.chunks_total:
            run.status = RunStatus.DONE
            run.finished_at = now
            run.report = merge_reports(reports)
            fields += ["status", "finished_at", "report"]
        run.save(update_fields=fields)
    return run


def run_billing(
    *,
    day: date,
    now: datetime | None = None,
    on_chunk: Callable[[int, dict[str, Any]], None] | None = None,
) -> BillingRun:
    """Run (or resume) the billing of ``day`` inline, chunk after chunk; returns the run."""
    run = start_billing_run(day=day, now=now)
    book = PriceBook()
    for n, chunk_id in enumerate(pending_chunk_ids(run), start=1):
        report = process_chunk(chunk_id=chunk_id, now=now, book=book)
        if on_chunk is not None:
            on_chunk(chunk_id, report)
        _crash_point("after", n)
    run.refresh_from_db()
    if run.status != RunStatus.DONE:  # every chunk was done before we came
        run = finish_run_if_complete(run_id=run.pk, now=run_moment(day, now))
    return run


_chunks_seen = 0


def _crash_point(stage: str, done: int = 0) -> None:
    """Test hook for the crash test: ``BILLOW_BILL_CRASH_AFTER_CHUNKS=N`` ends the process
    (``os._exit``, no cleanup) after N chunks committed, or inside chunk N+1 before its commit
    when ``BILLOW_BILL_CRASH_MID_CHUNK=1``. Unset in production."""
    global _chunks_seen
    limit = os.environ.get("BILLOW_BILL_CRASH_AFTER_CHUNKS")
    if not limit:
        return
    mid = os.environ.get("BILLOW_BILL_CRASH_MID_CHUNK") == "1"
    if stage == "mid":
        _chunks_seen += 1
        if mid and _chunks_seen > int(limit):
            os._exit(75)
    elif not mid and done >= int(limit):
        os._exit(75)
