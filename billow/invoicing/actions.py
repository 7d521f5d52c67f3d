"""Invoicing writes: issue an invoice (gapless number), mark it paid, issue a credit note. Each
issued document is emailed to its payer after commit (``invoicing.delivery``).

Numbering: ``_next_number`` locks the (provider, year, kind) counter row FOR UPDATE and bumps
it in the caller's transaction; the document insert follows in the same transaction, so a
rollback returns the number and concurrent issuers queue on the row: no gaps, no duplicates.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Sum

from billow.accounts.models import SELLER_FIELDS, Client, Payer, Provider
from billow.core import clock, rows
from billow.core.actors import Actor
from billow.core.money import check_amount, exponent
from billow.invoicing import sql
from billow.invoicing.delivery import deliver_after_commit
from billow.invoicing.errors import InvoicingError
from billow.invoicing.models import (
    CreditNote,
    DocumentCounter,
    DocumentKind,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
)
from billow.invoicing.vat import provider_vat_registration

_PAYER_FIELDS = (
    "kind",
    "name",
    "tax_id",
    "registration_number",
    "email",
    "phone",
    "country",
    "region",
    "postcode",
    "city",
    "address",
    "legal_country",
    "legal_region",
    "legal_postcode",
    "legal_city",
    "legal_address",
)


@dataclass(frozen=True, slots=True)
class InvoiceLineInput:
    """One line as priced by the quote: ``total = net + added tax``."""

    description: str
    quantity: int
    unit_price_minor: int
    discount_minor: int
    net_minor: int
    tax_rate: Decimal
    tax_minor: int
    total_minor: int
    service_id: int | None = None
    period_from: date | None = None
    period_to: date | None = None
    proration: Decimal | None = None
    list_price_minor: int | None = None


def next_numbers(provider_id: int, year: int, kind: str, count: int = 1) -> range:
    """The next ``count`` gapless numbers of (provider, year, kind), allocated in one statement;
    the counter row stays locked until the caller's transaction ends."""
    last = sql.bump_counter(provider_id, year, kind, count)
    if last is None:
        try:  # the first document of (provider, year, kind)
            with transaction.atomic(using=rows.alias_for(DocumentCounter)):
                DocumentCounter.objects.get_or_create(provider_id=provider_id, year=year, kind=kind)
        except IntegrityError:  # a concurrent first issuer created it; the row exists now
            pass
        last = sql.bump_counter(provider_id, year, kind, count)
        assert last is not None  # the row exists and is never deleted
    return range(last - count + 1, last + 1)


def continue_numbering(*, provider_id: int, year: int, kind: str, last_number: int) -> int:
    """Continue a series another billing system numbered: the next document of (provider,
    year, kind) gets a number above ``last_number`` (a counter already past it stays). Returns
    the counter's last number. Refusals: ``invalid_document_kind``, ``invalid_last_number``."""
    if kind not in DocumentKind.values:
        raise InvoicingError(f"unknown document kind {kind!r}", code="invalid_document_kind")
    if type(last_number) is not int or not 0 <= last_number < 2**31:
        raise InvoicingError(
            "the last number must be a non-negative integer", code="invalid_last_number"
        )
    with transaction.atomic():
        counter, _ = DocumentCounter.objects.select_for_update().get_or_create(
            provider_id=provider_id, year=year, kind=kind
        )
        if counter.last_number < last_number:
            counter.last_number = last_number
            counter.save(update_fields=["last_number"])
    return counter.last_number


def _next_number(provider_id: int, year: int, kind: str) -> int:
    return next_numbers(provider_id, year, kind)[0]


def payer_snapshot(payer: Payer | None, client: Client) -> dict[str, Any]:
    """The buyer block as it is at issue (the payer may change later; the document doesn't)."""
    if payer is None:
        return {"name": client.name, "email": client.email, "country": client.country}
    return {f: getattr(payer, f) for f in _PAYER_FIELDS}


def provider_snapshot(provider: Provider) -> dict[str, Any]:
    """The seller block as it is at issue, from the provider row the issuer holds: ``name`` is
    the legal name (else the brand), ``brand`` the provider's name. The country and VAT/tax id
    fall back to the provider's VAT registration (``ProviderTaxProfile``, the one the reverse
    charge reads; cached per process), so a reverse-charge invoice always names the seller's
    VAT number."""
    block = {
        "name": provider.legal_name or provider.name,
        "brand": provider.name,
        "email": provider.support_email or provider.email,
        "site_url": provider.site_url,
        **{f: getattr(provider, f) for f in SELLER_FIELDS if f != "legal_name"},
    }
    if not block["tax_id"] or not block["country"]:
        country, number = provider_vat_registration(provider.pk)
        block["country"] = block["country"] or country
        block["tax_id"] = block["tax_id"] or number
    return block


def issue_invoice(
    *,
    provider: Provider,
    client: Client,
    currency: str,
    lines: Sequence[InvoiceLineInput],
    payer: Payer | None = None,
    reference: str = "",
    paid: bool = False,
    actor: Actor | None = None,
    now: datetime | None = None,
    reverse_charge: bool = False,
) -> Invoice:
    """Issue a numbered invoice with ``lines`` (``invoice_empty`` without any); ``paid``
    issues it already paid (an order paid from the balance in the same transaction);
    ``reverse_charge`` marks an EU B2B sale without VAT.

    Guarantees: the number is the next gapless one for (provider, year); totals are the sums of
    the lines; payer and provider details are snapshotted. The counter row stays locked until
    the caller's transaction ends: issue as late in it as possible.
    """
    moment = clock.now(now)
    exponent(currency)
    if not lines:
        raise InvoicingError("an invoice needs at least one line", code="invoice_empty")
    for line in lines:
        check_amount(line.total_minor)
    with transaction.atomic(savepoint=False):  # writes only (refusals are raised above)
        number = _next_number(provider.pk, moment.year, DocumentKind.INVOICE)
        # rows.insert: issued with every order; the ORM's INSERT build costs more than it.
        (invoice,) = rows.insert(
            [
                Invoice(
                    provider=provider,
                    client=client,
                    payer=payer,
                    year=moment.year,
                    number=number,
                    currency=currency,
                    subtotal_minor=sum(x.net_minor for x in lines),
                    tax_minor=sum(x.tax_minor for x in lines),
                    total_minor=sum(x.total_minor for x in lines),
                    payer_snapshot=payer_snapshot(payer, client),
                    provider_snapshot=provider_snapshot(provider),
                    reference=reference,
                    issued_at=moment,
                    status=InvoiceStatus.PAID if paid else InvoiceStatus.ISSUED,
                    paid_at=moment if paid else None,
                    reverse_charge=reverse_charge,
                )
            ]
        )
        rows.insert(
            [
                InvoiceLine(
                    invoice=invoice,
                    position=i,
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
                for i, x in enumerate(lines, start=1)
            ]
        )
        deliver_after_commit(invoice_ids=[invoice.pk])
    return invoice


def mark_invoice_paid(
    *, invoice: Invoice, actor: Actor | None = None, now: datetime | None = None
) -> Invoice:
    """Issued -> paid (idempotent); a cancelled invoice is refused (``invoice_cancelled``)."""
    moment = clock.now(now)
    with transaction.atomic():
        locked = Invoice.objects.select_for_update().get(pk=invoice.pk)
        if locked.status == InvoiceStatus.CANCELLED:
            raise InvoicingError("the invoice is cancelled", code="invoice_cancelled")
        if locked.status == InvoiceStatus.ISSUED:
            locked.status, locked.paid_at = InvoiceStatus.PAID, moment
            locked.save(update_fields=["status", "paid_at"])
    return locked


def issue_credit_note(
    *,
    invoice: Invoice,
    amount_minor: int,
    reason: str = "",
    reference: str = "",
    actor: Actor | None = None,
    now: datetime | None = None,
    subtotal_minor: int | None = None,
    tax_minor: int = 0,
) -> CreditNote:
    """A numbered credit note for a refund of ``amount_minor`` (the total credited) of
    ``invoice``: ``subtotal_minor`` net (default: the whole amount) and ``tax_minor`` tax.

    Refusals: ``invalid_credit_amount`` (not positive, or parts that do not fit the total),
    ``credit_note_exceeds_invoice`` (all credit notes of the invoice together may not exceed
    its total).
    """
    moment = clock.now(now)
    check_amount(amount_minor)
    subtotal = amount_minor if subtotal_minor is None else subtotal_minor
    if amount_minor <= 0 or not tax_minor >= 0 or not 0 <= subtotal <= amount_minor:
        raise InvoicingError("the amount must be positive", code="invalid_credit_amount")
    with transaction.atomic():
        locked = Invoice.objects.select_for_update().get(pk=invoice.pk)
        credited = locked.credit_notes.aggregate(s=Sum("amount_minor"))["s"] or 0
        if credited + amount_minor > locked.total_minor:
            raise InvoicingError(
                "credit notes would exceed the invoice total",
                code="credit_note_exceeds_invoice",
                available_minor=locked.total_minor - credited,
            )
        provider = Provider.objects.get(pk=locked.provider_id)
        number = _next_number(locked.provider_id, moment.year, DocumentKind.CREDIT_NOTE)
        note = CreditNote.objects.create(
            invoice=locked,
            provider_id=locked.provider_id,
            year=moment.year,
            number=number,
            currency=locked.currency,
            amount_minor=amount_minor,
            subtotal_minor=subtotal,
            tax_minor=tax_minor,
            reason=reason,
            reference=reference,
            issued_at=moment,
            payer_snapshot=locked.payer_snapshot,
            provider_snapshot=provider_snapshot(provider),
        )
        deliver_after_commit(credit_note_ids=[note.pk])
    return note
