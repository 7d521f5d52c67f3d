"""Invoices with a due date: issued unpaid, settled later (reference §1.14).

Billing decides when an invoice is due and when the balance has paid it (``billing.overdue``);
this module writes it: ``issue_due_invoice`` (a numbered invoice with its last day to pay),
``set_due_date`` (for an invoice another writer issued unpaid) and ``settle_invoices``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from django.db import transaction

from billow.accounts.models import Client, Payer, Provider
from billow.core import clock
from billow.core.actors import Actor
from billow.invoicing.actions import InvoiceLineInput, issue_invoice
from billow.invoicing.models import Invoice, InvoiceStatus


def issue_due_invoice(
    *,
    provider: Provider,
    client: Client,
    currency: str,
    lines: Sequence[InvoiceLineInput],
    due_on: date | None,
    payer: Payer | None = None,
    reference: str = "",
    actor: Actor | None = None,
    now: datetime | None = None,
) -> Invoice:
    """Issue an unpaid invoice (``issue_invoice``) that is due on ``due_on`` (None: no due
    date, a payment request such as an invoice ahead of renewals)."""
    with transaction.atomic():
        invoice = issue_invoice(
            provider=provider,
            client=client,
            currency=currency,
            lines=lines,
            payer=payer,
            reference=reference,
            actor=actor,
            now=now,
        )
        if due_on is not None:
            set_due_date(invoice_ids=[invoice.pk], due_on=due_on)
            invoice.due_on = due_on
    return invoice


def set_due_date(*, invoice_ids: Sequence[int], due_on: date) -> int:
    """Give issued unpaid invoices their last day to pay; returns how many changed."""
    return Invoice.objects.filter(pk__in=list(invoice_ids), status=InvoiceStatus.ISSUED).update(
        due_on=due_on
    )


def settle_invoices(*, invoice_ids: Sequence[int], now: datetime | None = None) -> int:
    """Issued -> paid for ``invoice_ids`` (the balance paid them); idempotent: invoices paid or
    cancelled meanwhile are left as they are. Returns how many were settled."""
    if not invoice_ids:
        return 0
    return Invoice.objects.filter(pk__in=list(invoice_ids), status=InvoiceStatus.ISSUED).update(
        status=InvoiceStatus.PAID, paid_at=clock.now(now)
    )
