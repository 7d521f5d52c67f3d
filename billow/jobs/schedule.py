"""The one table of periodic jobs (STYLE §8). Times are crontab specs in UTC.

Add a row here; nothing else schedules anything. ``register_schedule()`` turns the rows into Huey
periodic tasks; it runs in the consumer via ``billow/jobs/tasks.py`` (autodiscovered by
``run_huey``), and only one consumer runs the scheduler (DESIGN §6). Each periodic task just
enqueues its target ``@job``, which carries its own retry policy.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils.module_loading import import_string
from huey import crontab
from huey.contrib import djhuey

from billow.core.errors import ConflictError, ValidationError


@dataclass(frozen=True, slots=True)
class PeriodicJob:
    """Run the job at dotted path ``target`` whenever ``cron`` ("m h dom mon dow", UTC) matches."""

    name: str
    target: str
    cron: str

    def matcher(self) -> Callable[[datetime], bool]:
        """The crontab test function; a malformed spec raises ``invalid_crontab``."""
        fields = self.cron.split()
        if len(fields) != 5:
            raise ValidationError(f"{self.name}: crontab needs 5 fields", code="invalid_crontab")
        minute, hour, day, month, day_of_week = fields
        try:
            test: Callable[[datetime], bool] = crontab(minute, hour, day, month, day_of_week)
        except ValueError as exc:
            raise ValidationError(f"{self.name}: {exc}", code="invalid_crontab") from exc
        return test


#: Every periodic job of Billow. Apps add their rows here, e.g.
#: ``PeriodicJob("billing_daily", "billow.billing.tasks.run_billing_day", "5 0 * * *")``.
SCHEDULE: list[PeriodicJob] = [
    # The daily billing run (DESIGN §5): renew, suspend, resume, delete, notices.
    PeriodicJob("billing_daily", "billow.billing.tasks.run_billing_day", "5 0 * * *"),
    # Chunks of a running billing run whose job was lost (a consumer killed mid-chunk).
    PeriodicJob(
        "billing_redispatch_chunks", "billow.billing.tasks.redispatch_billing_chunks", "* * * * *"
    ),
    # Hourly services: every started hour charged, unpaid ones suspended (billing.hourly).
    PeriodicJob("billing_hourly", "billow.billing.tasks.run_hourly_billing_job", "0 * * * *"),
    # Yesterday's hourly charges: one invoice per client (billing.hourly).
    PeriodicJob(
        "billing_hourly_documents",
        "billow.billing.tasks.document_hourly_charges_job",
        "20 0 * * *",
    ),
    # The 1st: post-paid charges and credit-limit debts of the month before, invoiced with a
    # due date (after the run, whose charges of the 1st belong to the new month).
    PeriodicJob(
        "billing_monthly_invoices",
        "billow.billing.tasks.issue_monthly_invoices_job",
        "30 0 1 * *",
    ),
    # Resource statuses of ended periods start over (the 1st; every day for per-day addons)
    # and services over a limit of the old period resume (usage.status).
    PeriodicJob("usage_reset_statuses", "billow.usage.tasks.reset_usage_statuses_job", "1 0 * * *"),
    # Referral rewards of the charges before today; on the 1st, the partners' payout (after
    # the run and the 1st's invoices, whose charges belong to the new month).
    PeriodicJob(
        "referral_daily", "billow.marketing.referrals.tasks.run_referral_day_job", "50 0 * * *"
    ),
    # Invoices ahead of renewals for clients who pay by invoice (LowMoneyNoticePeriod rule).
    PeriodicJob(
        "billing_auto_invoices", "billow.billing.tasks.issue_auto_invoices_job", "45 0 * * *"
    ),
    # Bonus program (issue 16): renewal accruals after the run; expired point lots.
    PeriodicJob(
        "bonus_renewal_accruals", "billow.billing.tasks.accrue_renewal_bonuses_job", "50 0 * * *"
    ),
    PeriodicJob(
        "bonus_expiry", "billow.marketing.bonus.tasks.expire_bonus_points_job", "55 0 * * *"
    ),
    # Quick orders never configured: deleted and refunded after QUICK_ORDER_CONFIGURE_DAYS.
    PeriodicJob(
        "orders_expire_unconfigured", "billow.orders.tasks.expire_unconfigured", "35 0 * * *"
    ),
    # Usage (docs/usage.md): raw-table partitions ahead and retention; the modules' stat() of
    # yesterday, just before the billing run rates it (later records re-rate: RerateMark).
    PeriodicJob(
        "usage_maintain_raw_storage", "billow.usage.tasks.maintain_raw_storage_job", "10 0 * * *"
    ),
    PeriodicJob("usage_pull_stats", "billow.usage.tasks.pull_stats_job", "1 0 * * *"),
    # Service operations: re-queue stuck ones, resolve unknowns, dispatch due retries.
    PeriodicJob("services_janitor", "billow.services.tasks.janitor_operations", "* * * * *"),
    # Payments janitor: resolve unknown / stale pending payments by asking the gateway.
    PeriodicJob("payments_janitor", "billow.payments.tasks.resolve_payments", "*/5 * * * *"),
    # Idempotency records past API_IDEMPOTENCY_RETENTION_HOURS.
    PeriodicJob("api_purge_idempotency", "billow.api.tasks.purge_idempotency", "17 * * * *"),
    # Client status: active with an active service or a recent balance movement (issue 13.2).
    PeriodicJob(
        "client_statuses", "billow.billing.tasks.refresh_client_statuses_job", "25 * * * *"
    ),
    # Dedicated servers (docs/dedicated.md): ready servers from DCImanager 6 every 10 minutes;
    # reservation holds past their expiry back to free / in stock every 5.
    PeriodicJob(
        "inventory_sync_dcimanager", "billow.inventory.tasks.sync_dcimanager", "*/10 * * * *"
    ),
    PeriodicJob(
        "inventory_expire_reservations", "billow.inventory.tasks.expire_reservations", "*/5 * * * *"
    ),
    PeriodicJob(
        "notifications_requeue_email",
        "billow.notifications.tasks.requeue_stuck_emails",
        "*/10 * * * *",
    ),
]

_registered: dict[str, tuple[PeriodicJob, Any]] = {}


def _periodic_task(entry: PeriodicJob) -> Any:
    target = import_string(entry.target)  # import now: the consumer must know the target job

    def fire() -> None:
        target()  # a @job enqueues itself when called

    fire.__name__ = fire.__qualname__ = f"periodic_{entry.name}"
    return djhuey.periodic_task(entry.matcher(), name=fire.__name__)(fire)


def register_schedule(schedule: Sequence[PeriodicJob] | None = None) -> list[Any]:
    """Register each row as a Huey periodic task; safe to call twice with the same rows."""
    tasks = []
    for entry in SCHEDULE if schedule is None else schedule:
        known = _registered.get(entry.name)
        if known is not None:
            if known[0] != entry:
                raise ConflictError(
                    f"periodic job {entry.name!r} registered differently", code="already_registered"
                )
            tasks.append(known[1])
            continue
        task = _periodic_task(entry)
        _registered[entry.name] = (entry, task)
        tasks.append(task)
    return tasks


def unregister_schedule(names: Sequence[str]) -> None:
    """Drop registered periodic jobs by name (tests)."""
    for name in names:
        known = _registered.pop(name, None)
        if known is not None:
            known[1].unregister()
