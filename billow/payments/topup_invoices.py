"""Invoices for balance top-ups, driven by the payments hooks.

- A top-up left pending (bank transfer instructions, a hosted page) gets an **issued** invoice:
  the payer of a bank transfer needs one to pay against.
- A paid top-up gets its invoice **paid** (issued paid when there was none).
- A failed or cancelled top-up gets its unpaid invoice **cancelled**.

One invoice per payment, referenced ``payment:<id>``; the payment row is locked while it is
looked up and issued, so a repeated or concurrent hook issues it once. Lines: the amount
credited to the balance, and the gateway commission when there is one. A top-up is an advance,
not a sale: no tax rule applies here (taxes are charged on the orders it later pays).
"""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction
from django.utils.translation import gettext as _

from billow.core.actors import Actor
from billow.invoicing.actions import InvoiceLineInput, issue_invoice
from billow.invoicing.models import Invoice, InvoiceStatus
from billow.payments.models import Payment, PaymentPurpose
from billow.payments.states import PaymentStatus

ACTOR = Actor.system("invoicing")


def _line(description: str, amount_minor: int) -> InvoiceLineInput:
    return InvoiceLineInput(
        description=description,
        quantity=1,
        unit_price_minor=amount_minor,
        discount_minor=0,
        net_minor=amount_minor,
        tax_rate=Decimal(0),
        tax_minor=0,
        total_minor=amount_minor,
    )


def invoice_for_topup(payment_id: int) -> Invoice | None:
    """Bring the invoice of top-up ``payment_id`` in line with the payment's status (see the
    module docstring); None for an order payment (the order has its invoice) or a new one."""
    with transaction.atomic():
        payment = (
            Payment.objects.select_for_update(of=("self",))
            .select_related("provider", "client", "payer")
            .filter(pk=payment_id)
            .first()
        )
        if payment is None or payment.purpose != PaymentPurpose.TOPUP:
            return None
        reference = f"payment:{payment.pk}"
        invoice = Invoice.objects.filter(
            provider_id=payment.provider_id, reference=reference
        ).first()
        status = payment.status
        if status in (PaymentStatus.FAILED, PaymentStatus.CANCELLED):
            if invoice is not None and invoice.status == InvoiceStatus.ISSUED:
                invoice.status = InvoiceStatus.CANCELLED
                invoice.save(update_fields=["status"])
            return invoice
        if status not in (PaymentStatus.PENDING, PaymentStatus.PAID):
            return invoice
        paid = status == PaymentStatus.PAID
        if invoice is None:
            lines = [_line(_("Balance top-up"), payment.amount_minor)]
            if payment.commission_minor:
                lines.append(_line(_("Payment commission"), payment.commission_minor))
            return issue_invoice(
                provider=payment.provider,
                client=payment.client,
                currency=payment.currency,
                lines=lines,
                payer=payment.payer,
                reference=reference,
                paid=paid,
                actor=ACTOR,
                now=payment.paid_at if paid else None,
            )
        if paid and invoice.status == InvoiceStatus.ISSUED:
            invoice.status, invoice.paid_at = InvoiceStatus.PAID, payment.paid_at
            invoice.save(update_fields=["status", "paid_at"])
        return invoice


def on_payment_event(*, client_id: int, currency: str, payment_id: int, **_: object) -> None:
    """The payments hook (opened, balance credited, failed)."""
    invoice_for_topup(payment_id)
