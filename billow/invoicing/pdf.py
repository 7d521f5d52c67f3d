"""Invoice PDF: a Django template rendered to HTML, printed by WeasyPrint (imported lazily so
the rest of Billow works without its system libraries)."""

from __future__ import annotations

from typing import Any

from django.template.loader import render_to_string

from billow.core.money import Money
from billow.invoicing.models import Invoice


def _money(amount_minor: int, currency: str) -> str:
    return str(Money(amount_minor, currency))


def invoice_context(invoice: Invoice) -> dict[str, Any]:
    cur = invoice.currency
    lines = [
        {
            "description": x.description,
            "quantity": x.quantity,
            "unit_price": _money(x.unit_price_minor, cur),
            "discount": _money(x.discount_minor, cur) if x.discount_minor else "",
            "net": _money(x.net_minor, cur),
            "tax_rate": x.tax_rate.normalize(),
            "tax": _money(x.tax_minor, cur),
            "total": _money(x.total_minor, cur),
        }
        for x in invoice.lines.all()
    ]
    return {
        "invoice": invoice,
        "number": invoice.display_number,
        "provider": invoice.provider_snapshot,
        "payer": invoice.payer_snapshot,
        "lines": lines,
        "subtotal": _money(invoice.subtotal_minor, cur),
        "tax": _money(invoice.tax_minor, cur),
        "total": _money(invoice.total_minor, cur),
    }


def render_invoice_html(invoice: Invoice) -> str:
    return render_to_string("invoicing/invoice.html", invoice_context(invoice))


def render_invoice_pdf(invoice: Invoice) -> bytes:
    from weasyprint import HTML

    pdf = HTML(string=render_invoice_html(invoice)).write_pdf()
    assert pdf is not None  # write_pdf without a target returns the bytes
    return bytes(pdf)
