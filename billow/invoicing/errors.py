"""Invoicing refusals: ``invoice_empty``, ``credit_note_exceeds_invoice``,
``invalid_credit_amount``, ``invoice_cancelled``."""

from __future__ import annotations

from billow.core.errors import ValidationError


class InvoicingError(ValidationError):
    code = "invoicing_error"
