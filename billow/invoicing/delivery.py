"""Email delivery of issued documents: each invoice and credit note goes to its payer's email
(else the client's) with its PDF attached, once.

``deliver_after_commit`` is what issuers call inside their transaction: it only schedules the
``deliver_documents`` job for ``DOCUMENT_EMAIL_DELAY_SECONDS`` (default 120) after commit (a
batch of ids per job), so the issuing transaction pays for no rendering or mail, and a burst of
checkouts is not slowed by the PDFs of its invoices (about 75 ms of CPU each with WeasyPrint):
they are rendered and mailed a couple of minutes later. The job honours
``Payer.document_delivery``: only ``email`` sends; ``post``, ``edi`` and ``none`` are handled
outside Billow. Each email is an outbox row keyed
``document:<kind>:<id>`` (``notifications.email_clients``): a rerun of the job, or a second call
for the same document, queues nothing, and the outbox row records the sending. The PDF is built
when the email is sent (the row stores a reference, ``notifications.attachments``), in the
client's language.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.conf import settings

from billow.accounts.models import DocumentDelivery, Payer
from billow.core.errors import NotFoundError
from billow.invoicing.models import CreditNote, Invoice, InvoiceStatus
from billow.jobs import schedule_on_commit
from billow.notifications.actions import ClientEmail, email_clients
from billow.notifications.attachments import Attachment, attachment_ref, builders
from billow.notifications.events import Event
from billow.notifications.models import OutboundEmail

#: Ids per ``deliver_documents`` job (a billing run day issues many documents at once).
DELIVERY_BATCH = 500
INVOICE = "invoice"
CREDIT_NOTE = "credit_note"


def deliver_after_commit(
    invoice_ids: Iterable[int] = (), credit_note_ids: Iterable[int] = ()
) -> None:
    """Email these documents after the current transaction commits (never if it rolls back)."""
    from billow.invoicing.tasks import deliver_documents  # tasks import this module

    invoices = sorted(set(invoice_ids))
    notes = sorted(set(credit_note_ids))
    delay = email_delay_seconds()
    for start in range(0, max(len(invoices), len(notes)), DELIVERY_BATCH):
        end = start + DELIVERY_BATCH
        schedule_on_commit(deliver_documents, delay, invoices[start:end], notes[start:end])


def email_delay_seconds() -> float:
    return float(getattr(settings, "BILLOW", {}).get("DOCUMENT_EMAIL_DELAY_SECONDS", 120))


def dedup_key(kind: str, document_id: int) -> str:
    return f"document:{kind}:{document_id}"


def _recipient(payer: Payer | None, client_email: str) -> str | None:
    """The address to email, or None when the payer takes documents another way."""
    if payer is None:
        return client_email
    if payer.document_delivery != DocumentDelivery.EMAIL:
        return None
    return payer.email or client_email


def deliver_documents(
    *, invoice_ids: Iterable[int] = (), credit_note_ids: Iterable[int] = ()
) -> int:
    """Queue one email per document whose payer receives documents by email; returns how many
    were queued now (0 for documents emailed before). Missing ids are skipped."""
    invoices = Invoice.objects.filter(pk__in=list(invoice_ids)).select_related("payer", "client")
    notes = CreditNote.objects.filter(pk__in=list(credit_note_ids)).select_related(
        "invoice__payer", "invoice__client"
    )
    invoice_emails = [
        _email(INVOICE, inv, inv, _invoice_context(inv)) for inv in invoices.order_by("pk")
    ]
    note_emails = [
        _email(CREDIT_NOTE, note, note.invoice, _credit_note_context(note))
        for note in notes.order_by("pk")
    ]
    queued = email_clients(
        event=Event.INVOICE_ISSUED, emails=[e for e in invoice_emails if e is not None]
    )
    return queued + email_clients(
        event=Event.CREDIT_NOTE_ISSUED, emails=[e for e in note_emails if e is not None]
    )


def _email(
    kind: str, document: Invoice | CreditNote, invoice: Invoice, context: dict[str, Any]
) -> ClientEmail | None:
    to = _recipient(invoice.payer, invoice.client.email)
    if not to:
        return None
    return ClientEmail(
        client_id=invoice.client_id,
        provider_id=invoice.provider_id,
        context=context,
        dedup_key=dedup_key(kind, document.pk),
        to=to,
        attachments=(attachment_ref(kind, document.pk),),
    )


def _invoice_context(invoice: Invoice) -> dict[str, Any]:
    return {
        "number": invoice.display_number,
        "issued_on": invoice.issued_at.date(),
        "due_on": getattr(invoice, "due_on", None) or "",
        "paid": invoice.status == InvoiceStatus.PAID,
        "total_minor": invoice.total_minor,
        "currency": invoice.currency,
    }


def _credit_note_context(note: CreditNote) -> dict[str, Any]:
    return {
        "number": note.display_number,
        "issued_on": note.issued_at.date(),
        "invoice_number": note.invoice.display_number,
        "reason": note.reason,
        "total_minor": note.amount_minor,
        "currency": note.currency,
    }


def get_document_email(kind: str, document_id: int) -> OutboundEmail | None:
    """The email of a document, if one was queued (its status says whether it went out)."""
    return OutboundEmail.objects.filter(dedup_key=dedup_key(kind, document_id)).first()


# --- the PDFs the send job attaches ---------------------------------------------------------


def invoice_attachment(invoice_id: int, language: str) -> Attachment:
    from billow.invoicing.pdf import render_invoice_pdf

    invoice = Invoice.objects.filter(pk=invoice_id).first()
    if invoice is None:
        raise NotFoundError(f"No invoice {invoice_id}", invoice_id=invoice_id)
    pdf = render_invoice_pdf(invoice, language=language)
    return Attachment(f"{invoice.display_number}.pdf", pdf, "application/pdf")


def credit_note_attachment(credit_note_id: int, language: str) -> Attachment:
    from billow.invoicing.pdf import render_credit_note_pdf

    note = CreditNote.objects.select_related("invoice").filter(pk=credit_note_id).first()
    if note is None:
        raise NotFoundError(f"No credit note {credit_note_id}", credit_note_id=credit_note_id)
    pdf = render_credit_note_pdf(note, language=language)
    return Attachment(f"{note.display_number}.pdf", pdf, "application/pdf")


def register_attachments() -> None:
    """Called once by ``InvoicingConfig.ready``."""
    builders.add(INVOICE, invoice_attachment)
    builders.add(CREDIT_NOTE, credit_note_attachment)
