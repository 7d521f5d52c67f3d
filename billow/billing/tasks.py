"""Billing jobs: the daily run fans out one job per chunk (more workers, more speed); the
1st's invoices (post-paid, credit-limit debts); invoices ahead of renewals."""

from __future__ import annotations

import logging
import os
from datetime import date, timedelta
from typing import Any

from billow.billing.hourly import document_hourly_charges, run_hourly_billing
from billow.billing.run import (
    claim_stale_chunks,
    mark_dispatched,
    pending_chunk_ids,
    process_chunk,
    start_billing_run,
)
from billow.core import clock
from billow.jobs import enqueue_on_commit, job

logger = logging.getLogger("billow.billing")


@job(retries=3, base_delay=60)
def run_billing_day(day: date | None = None) -> int:
    """Start (or resume) the run of ``day`` (default today) and enqueue its pending chunks."""
    run = start_billing_run(day=day or clock.today())
    ids = pending_chunk_ids(run)
    mark_dispatched(ids)
    for chunk_id in ids:
        enqueue_on_commit(bill_chunk, chunk_id)
    return len(ids)


@job(retries=5, base_delay=30, keep_result=False)
def bill_chunk(chunk_id: int) -> None:
    """Bill one chunk; idempotent (a done chunk is skipped, one being billed elsewhere is left
    to that consumer)."""
    report = process_chunk(chunk_id=chunk_id, wait_if_busy=False)
    if report.get("busy"):
        logger.info("billing chunk %s is being billed by another consumer", chunk_id)
    else:
        logger.info("billing chunk %s done in process %s", chunk_id, os.getpid())


@job(retries=0, keep_result=False)
def redispatch_billing_chunks() -> int:
    """Queue again the chunks of running runs whose job was lost (its consumer died mid-chunk,
    or the queue dropped it): see ``billing.run.claim_stale_chunks``."""
    ids = claim_stale_chunks()
    for chunk_id in ids:
        enqueue_on_commit(bill_chunk, chunk_id)
    if ids:
        logger.warning("billing chunks queued again (lost jobs): %s", ids)
    return len(ids)


@job(retries=3, base_delay=60)
def run_hourly_billing_job() -> dict[str, Any]:
    """Charge the started hours of hourly services (``billing.hourly``); rerun-safe."""
    return run_hourly_billing()


@job(retries=3, base_delay=60)
def document_hourly_charges_job(day: date | None = None) -> int:
    """Document the hourly charges of ``day`` (default: yesterday); returns the invoices."""
    return len(document_hourly_charges(day=day or clock.today() - timedelta(days=1)))


@job(retries=3, base_delay=300)
def issue_monthly_invoices_job(day: date | None = None) -> dict[str, int]:
    """The 1st's invoices: post-paid charges and credit-limit debts (``billing.monthly``);
    idempotent, so a retry or a second start of the month issues nothing twice."""
    from billow.billing.monthly import issue_monthly_invoices

    return issue_monthly_invoices(day=day or clock.today()).as_dict()


@job(retries=3, base_delay=300)
def issue_auto_invoices_job(day: date | None = None) -> int:
    """Invoices ahead of renewals for clients who pay by invoice (``billing.auto_invoice``)."""
    from billow.billing.auto_invoice import issue_auto_invoices

    return len(issue_auto_invoices(day=day or clock.today()))


@job(retries=3, base_delay=300)
def accrue_renewal_bonuses_job(day: date | None = None) -> int:
    """Bonus points for the renewals charged today and yesterday (``billing.bonus``); keyed,
    so a rerun accrues nothing twice; one query without a running bonus program."""
    from billow.billing.bonus import accrue_renewal_bonuses

    return accrue_renewal_bonuses(day=day or clock.today())


@job(retries=3, base_delay=60)
def refresh_client_statuses_job() -> int:
    """Clients' stored status follows their services and balance movements (client_status)."""
    from billow.billing.client_status import refresh_client_statuses

    return refresh_client_statuses()
