"""Issuing many invoices at once: the billing run's invoice per (client, provider, currency) and
``billing.documents``' invoices of charges documented later.

Numbers stay gapless per (provider, year): each provider's counter moves by the count of its new
invoices in one statement (``invoicing.sql.bump_counter``) and the numbers are handed out in the
drafts' order; the counter row stays locked until the caller's transaction ends, so a rollback
gives them all back. Invoices and their lines are inserted by COPY (``invoicing.sql``; the
invoices are then read back by their unique numbers for their ids).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from billow.accounts.models import Client, Payer, Provider
from billow.core.money import check_amount, exponent
from billow.invoicing import sql
from billow.invoicing.actions import (
    InvoiceLineInput,
    next_numbers,
    payer_snapshot,
    provider_snapshot,
)
from billow.invoicing.errors import InvoicingError
from billow.invoicing.models import DocumentKind, Invoice, InvoiceStatus
from billow.invoicing.selectors import PAYER_BATCH


@dataclass(frozen=True, slots=True)
class InvoiceDraft:
    """An invoice to issue: its lines in order, and the payer it is made out to (None: the
    client itself)."""

    provider_id: int
    client_id: int
    currency: str
    lines: tuple[InvoiceLineInput, ...]
    payer: Payer | None = None
    reference: str = ""
    reverse_charge: bool = False


def issue_invoices(
    drafts: Sequence[InvoiceDraft],
    *,
    now: datetime,
    paid: bool = True,
    due_on: date | None = None,
) -> list[Invoice]:
    """Issue ``drafts`` (in order) as numbered invoices, paid at ``now`` when ``paid`` (charged
    from the balance) else issued (``due_on``: the payment's due date where invoices have one).
    Totals are the sums of the lines; payer and provider details are snapshotted. Refuses
    ``invoice_empty`` (a draft without lines) before writing anything. Inside a transaction."""
    for d in drafts:
        exponent(d.currency)
        if not d.lines:
            raise InvoicingError("an invoice needs at least one line", code="invoice_empty")
        for line in d.lines:
            check_amount(line.total_minor)
    if not drafts:
        return []
    providers = {p.pk: p for p in Provider.objects.filter(pk__in={d.provider_id for d in drafts})}
    sellers = {pk: json.dumps(provider_snapshot(p)) for pk, p in providers.items()}
    clients = _clients({d.client_id for d in drafts if d.payer is None})
    numbers = _numbers(drafts, now.year)
    status = InvoiceStatus.PAID if paid else InvoiceStatus.ISSUED
    sql.insert_invoice_rows(
        [
            (
                d.provider_id,
                d.client_id,
                d.payer.pk if d.payer is not None else None,
                now.year,
                numbers[n],
                status,
                d.currency,
                sum(x.net_minor for x in d.lines),
                sum(x.tax_minor for x in d.lines),
                sum(x.total_minor for x in d.lines),
                json.dumps(payer_snapshot(d.payer, clients.get(d.client_id) or Client())),
                sellers[d.provider_id],
                d.reference,
                now,
                now if paid else None,
                d.reverse_charge,
            )
            for n, d in enumerate(drafts)
        ]
    )
    invoices = _issued(drafts, numbers, now.year)
    sql.insert_line_rows(
        [
            _line(invoice.pk, i, x)
            for invoice, d in zip(invoices, drafts, strict=True)
            for i, x in enumerate(d.lines, start=1)
        ]
    )
    if due_on is not None:  # invoices get their due date with post-paid terms (issue 12, h3)
        Invoice.objects.filter(pk__in=[i.pk for i in invoices]).update(due_on=due_on)
    return invoices


def _issued(drafts: Sequence[InvoiceDraft], numbers: list[int], year: int) -> list[Invoice]:
    """The invoices just inserted, in draft order (found by their unique numbers)."""
    ranges: dict[int, tuple[int, int]] = {}
    for d, number in zip(drafts, numbers, strict=True):
        low, high = ranges.get(d.provider_id, (number, number))
        ranges[d.provider_id] = (min(low, number), max(high, number))
    found: dict[tuple[int, int], Invoice] = {}
    for provider_id, (low, high) in ranges.items():
        for invoice in Invoice.objects.filter(
            provider_id=provider_id, year=year, number__gte=low, number__lte=high
        ).defer("payer_snapshot", "provider_snapshot"):  # loaded if read; the run never does
            found[(provider_id, invoice.number)] = invoice
    return [found[(d.provider_id, n)] for d, n in zip(drafts, numbers, strict=True)]


def _line(invoice_id: int, position: int, x: InvoiceLineInput) -> tuple[Any, ...]:
    """A line row in ``sql.LINE_FIELDS`` order."""
    return (
        invoice_id,
        position,
        x.description[:300],
        x.quantity,
        x.unit_price_minor,
        x.discount_minor,
        x.net_minor,
        x.tax_rate,
        x.tax_minor,
        x.total_minor,
        x.service_id,
        x.period_from,
        x.period_to,
        x.proration,
        x.list_price_minor,
    )


def _numbers(drafts: Sequence[InvoiceDraft], year: int) -> list[int]:
    """The drafts' numbers: each provider's counter bumped once, numbers in draft order."""
    per_provider: dict[int, list[int]] = defaultdict(list)
    for n, d in enumerate(drafts):
        per_provider[d.provider_id].append(n)
    out = [0] * len(drafts)
    for provider_id in sorted(per_provider):  # counters locked in a fixed order
        positions = per_provider[provider_id]
        for n, number in zip(
            positions,
            next_numbers(provider_id, year, DocumentKind.INVOICE, len(positions)),
            strict=True,
        ):
            out[n] = number
    return out


def _clients(ids: set[int]) -> dict[int, Client]:
    ordered = sorted(ids)
    out: dict[int, Client] = {}
    for start in range(0, len(ordered), PAYER_BATCH):
        batch = ordered[start : start + PAYER_BATCH]
        out.update(
            (c.pk, c)
            for c in Client.objects.filter(pk__in=batch).only("id", "name", "email", "country")
        )
    return out
