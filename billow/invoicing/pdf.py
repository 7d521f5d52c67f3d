"""Invoice and credit note PDFs: a Django template rendered to HTML, printed by WeasyPrint
(imported lazily so the rest of Billow works without its system libraries).

The seller and buyer blocks come from the snapshots taken at issue, never from the provider or
payer rows as they are now. Fields other branches add to the documents (a line's service period,
the invoice's reverse-charge flag and due date, a credit note's net and tax) are read with
``getattr`` so the PDF shows them where the document has them and leaves them out otherwise.
Labels are translated into ``language`` (default: the active one); dates are ISO dates, which
read the same in every language.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.template.loader import render_to_string
from django.utils import translation

from billow.core.money import Money
from billow.invoicing.models import CreditNote, Invoice


def _money(amount_minor: int, currency: str) -> str:
    return str(Money(amount_minor, currency))


def _day(value: Any) -> str:
    return value.isoformat() if isinstance(value, date) else ""


@dataclass(frozen=True, slots=True)
class TaxLine:
    """One tax rate of a document: the net it applies to and the tax (formatted)."""

    rate: Decimal
    base: str
    tax: str


def tax_lines(lines: Iterable[Any], currency: str) -> list[TaxLine]:
    """Per rate, in the order the rates first appear: the sum of the nets and of the taxes.
    A rate of 0 shows too (reverse charge and exempt lines say they carry no tax)."""
    sums: dict[Decimal, list[int]] = {}
    for x in lines:
        pair = sums.setdefault(Decimal(x.tax_rate).normalize(), [0, 0])
        pair[0] += x.net_minor
        pair[1] += x.tax_minor
    return [
        TaxLine(rate=rate, base=_money(net, currency), tax=_money(tax, currency))
        for rate, (net, tax) in sums.items()
    ]


def last_day(period_from: date | None, period_to: date | None) -> date | None:
    """The last day of a period whose ``period_to`` is exclusive (what a reader expects to see:
    "1 Nov - 30 Nov" for a month)."""
    if period_to is None:
        return None
    if period_from is not None and period_to <= period_from:
        return period_to
    return period_to - timedelta(days=1)


def _line_rows(lines: Iterable[Any], currency: str) -> list[dict[str, Any]]:
    return [
        {
            "description": x.description,
            "period_from": _day(getattr(x, "period_from", None)),
            "period_to": _day(
                last_day(getattr(x, "period_from", None), getattr(x, "period_to", None))
            ),
            "quantity": x.quantity,
            "unit_price": _money(x.unit_price_minor, currency),
            "discount": _money(x.discount_minor, currency) if x.discount_minor else "",
            "net": _money(x.net_minor, currency),
            "tax_rate": Decimal(x.tax_rate).normalize(),
            "tax": _money(x.tax_minor, currency),
            "total": _money(x.total_minor, currency),
        }
        for x in lines
    ]


def invoice_context(invoice: Invoice) -> dict[str, Any]:
    cur = invoice.currency
    lines = list(invoice.lines.all())
    return {
        "kind": "invoice",
        "document": invoice,
        "number": invoice.display_number,
        "issued_on": _day(invoice.issued_at.date()),
        "due_on": _day(getattr(invoice, "due_on", None)),
        "paid_on": _day(invoice.paid_at.date()) if invoice.paid_at else "",
        "status": invoice.get_status_display(),
        "provider": invoice.provider_snapshot,
        "payer": invoice.payer_snapshot,
        "lines": _line_rows(lines, cur),
        "discounts": any(x.discount_minor for x in lines),
        "tax_lines": tax_lines(lines, cur),
        "reverse_charge": bool(getattr(invoice, "reverse_charge", False)),
        "subtotal": _money(invoice.subtotal_minor, cur),
        "tax": _money(invoice.tax_minor, cur),
        "total": _money(invoice.total_minor, cur),
        "reference": invoice.reference,
    }


def credit_note_context(note: CreditNote) -> dict[str, Any]:
    invoice = note.invoice
    cur = note.currency
    # The net and tax parts of the amount, where credit notes carry them (issue 12, h1).
    net = getattr(note, "subtotal_minor", None)
    tax = getattr(note, "tax_minor", None)
    if not net and not tax:
        net = tax = None
    lines = list(note.lines.all()) if hasattr(note, "lines") else []
    return {
        "kind": "credit_note",
        "document": note,
        "number": note.display_number,
        "issued_on": _day(note.issued_at.date()),
        "invoice_number": invoice.display_number,
        "invoice_issued_on": _day(invoice.issued_at.date()),
        "reason": note.reason,
        "provider": getattr(note, "provider_snapshot", None) or invoice.provider_snapshot,
        "payer": getattr(note, "payer_snapshot", None) or invoice.payer_snapshot,
        "lines": _line_rows(lines, cur),
        "discounts": any(x.discount_minor for x in lines),
        "tax_lines": tax_lines(lines, cur) if lines else [],
        "reverse_charge": bool(getattr(invoice, "reverse_charge", False)),
        "subtotal": _money(net, cur) if net is not None else "",
        "tax": _money(tax, cur) if tax is not None else "",
        "total": _money(note.amount_minor, cur),
        "reference": note.reference,
    }


def _render(template: str, context: dict[str, Any], language: str | None) -> str:
    with translation.override(language or translation.get_language()):
        return render_to_string(template, context)


def render_invoice_html(invoice: Invoice, *, language: str | None = None) -> str:
    return _render("invoicing/invoice.html", invoice_context(invoice), language)


def render_credit_note_html(note: CreditNote, *, language: str | None = None) -> str:
    return _render("invoicing/credit_note.html", credit_note_context(note), language)


def _print(html: str) -> bytes:
    from weasyprint import HTML

    pdf = HTML(string=html).write_pdf()
    assert pdf is not None  # write_pdf without a target returns the bytes
    return bytes(pdf)


def render_invoice_pdf(invoice: Invoice, *, language: str | None = None) -> bytes:
    return _print(render_invoice_html(invoice, language=language))


def render_credit_note_pdf(note: CreditNote, *, language: str | None = None) -> bytes:
    return _print(render_credit_note_html(note, language=language))
