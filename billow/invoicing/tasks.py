"""Jobs of the invoicing app (thin: take ids, call one action)."""

from __future__ import annotations

from billow.invoicing import delivery
from billow.jobs import job


@job
def deliver_documents(invoice_ids: list[int], credit_note_ids: list[int]) -> int:
    """Queue the emails of issued documents (idempotent: each document is emailed once)."""
    return delivery.deliver_documents(invoice_ids=invoice_ids, credit_note_ids=credit_note_ids)
