"""Issuing many invoices at once: the billing run's invoice per (client, provider, currency) and
``billing.documents``' invoices of charges documented later.

Numbers stay gapless per (provider, year): each provider's counter moves by the count of its new
invoices in one statement (``invoicing.sql.bump_counter``) and the numbers are handed out in the
drafts' order; the counter row stays locked until the caller's transaction ends, so a rollback
gives them all back. Invoices and lines are inserted in a few statements (``rows.insert``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from billow.accounts.models import Client, Payer, Provider
from billow.core import rows
from billow.core.money import check_amount, exponent
from billow.invoicing.actions import (
    InvoiceLineInput,
    next_numbers,
    payer_snapshot,
    provider_snapshot,
)
from billow.invoicing.errors import InvoicingError
from billow.invoicing.models import DocumentKind, Invoice, InvoiceLine, InvoiceStatus
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
    clients = _clients({d.client_id for d in drafts if d.payer is None})
    numbers = _numbers(drafts, now.year)
    invoices = []
    for n, d in enumerate(drafts):
        invoice = Invoice(
            provider_id=d.provider_id,
            client_id=d.client_id,
            payer=d.payer,
            year=now.year,
            number=numbers[n],
            currency=d.currency,
            subtotal_minor=sum(x.net_minor for x in d.lines),
            tax_minor=sum(x.tax_minor for x in d.lines),
            total_minor=sum(x.total_minor for x in d.lines),
            payer_snapshot=payer_snapshot(d.payer, clients.get(d.client_id) or Client()),
            provider_snapshot=provider_snapshot(providers[d.provider_id]),
            reference=d.reference,
            issued_at=now,
            status=InvoiceStatus.PAID if paid else InvoiceStatus.ISSUED,
            paid_at=now if paid else None,
            reverse_charge=d.reverse_charge,
        )
        if due_on is not None:
            invoice.due_on = due_on
        invoices.append(invoice)
    rows.insert(invoices)
    rows.insert(
        [
            _line(inv, i, x)
            for inv, d in zip(invoices, drafts, strict=True)
            for i, x in enumerate(d.lines, start=1)
        ]
    )
    return invoices


def _line(invoice: Invoice, position: int, x: InvoiceLineInput) -> InvoiceLine:
    return InvoiceLine(
        invoice=invoice,
        position=position,
        description=x.description[:300],
        quantity=x.quantity,
        unit_price_minor=x.unit_price_minor,
        discount_minor=x.discount_minor,
        net_minor=x.net_minor,
        tax_rate=x.tax_rate,
        tax_minor=x.tax_minor,
        total_minor=x.total_minor,
        service_id=x.service_id,
        period_from=x.period_from,
        period_to=x.period_to,
        proration=x.proration,
        list_price_minor=x.list_price_minor,
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
