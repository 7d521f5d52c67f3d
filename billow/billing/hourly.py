"""The hourly run: hourly services (VPS-like tariffs priced per hour) are charged per started
hour from the balance, suspended when it cannot pay, deleted after the product type's
auto-delete period, with low-balance notices, by the billing run's own plan (``plan_chunk``)
and writes (``write_plan``).

Each hour is its own charge under the key ``hour:<service>:<YYYY-MM-DDTHH>`` (also its ledger
transaction's), and ``paid_until_at`` moves with the charges in one transaction, so a rerun of
any hour (or a run after missed ones: every started hour is caught up) charges nothing twice.
Chunks are client id ranges, as the daily run's; only the wallets of clients with hourly
services are locked. No run rows: the keys and ``paid_until_at`` are the state.

The hourly charges are written undocumented (``write_money(documents=False)``): a day's are
documented the next night by ``document_hourly_charges``, one invoice per client (provider and
currency) for the day, through ``billing.documents.document_pending_charges``.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from typing import Any

from django.db import transaction

from billow.billing.documents import document_pending_charges
from billow.billing.models import Expense, ExpenseKind, ExpenseReason
from billow.billing.plan import RunRules, plan_chunk
from billow.billing.run import (
    chunk_report,
    client_chunk_bounds,
    merge_reports,
    run_rules,
    write_plan,
)
from billow.billing.selectors import PriceBook, hourly_candidates, load_hourly_chunk
from billow.core import clock
from billow.core.actors import Actor
from billow.invoicing.models import Invoice


def hourly_rules(moment: datetime) -> RunRules:
    """The daily run's rules with the moment in place of the day: every hour that started by
    then is due."""
    return replace(run_rules(moment.date()), date=moment)


def run_hourly_billing(
    *, now: datetime | None = None, book: PriceBook | None = None
) -> dict[str, Any]:
    """Charge every started hour of every hourly service up to ``now`` (default: the clock),
    chunk after chunk; returns the merged report (as the daily run's)."""
    moment = clock.now(now)
    rules = hourly_rules(moment)
    book = book or PriceBook()
    reports = [
        bill_hourly_chunk(rules, lo, hi, now=moment, book=book)
        for lo, hi in client_chunk_bounds(hourly_candidates(rules))
    ]
    return merge_reports(reports)


def bill_hourly_chunk(
    rules: RunRules, lo: int, hi: int | None, *, now: datetime, book: PriceBook
) -> dict[str, Any]:
    """One chunk in one transaction: lock, load, plan, write."""
    with transaction.atomic():
        data = load_hourly_chunk(rules, lo, hi, book)
        if not data.services:
            return chunk_report(plan_chunk(rules, [], {}), 0, [])
        plan = plan_chunk(rules, data.services, data.wallets, already_charged=data.already_charged)
        write_plan(plan, data.wallet_ids, {}, now, services=data.services)
        return chunk_report(plan, len(data.services), data.services)


DOCUMENTS_ACTOR = Actor.job("hourly_documents")


def document_hourly_charges(*, day: date, now: datetime | None = None) -> list[Invoice]:
    """One paid invoice per (client, provider, currency) for the charges written on ``day``
    (UTC) of the prepaid clients who had hourly charges that day; post-paid clients' wait for
    their monthly invoice. A rerun documents nothing twice (``document_pending_charges``)."""
    clients = (
        Expense.objects.filter(
            kind=ExpenseKind.CHARGE,
            reason=ExpenseReason.HOUR,
            invoice__isnull=True,
            created_at__date=day,
        )
        .values_list("client_id", flat=True)
        .distinct()
    )
    client_ids = sorted(set(clients))
    if not client_ids:
        return []
    return document_pending_charges(
        day=day, client_ids=client_ids, postpaid=False, now=clock.now(now), actor=DOCUMENTS_ACTOR
    )
