"""Invoicing reads: tax rules for a payer, a client's documents (invoices and credit notes)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, overload

from django.db import models
from django.db.models import F, Q, QuerySet, Value

from billow.accounts.models import Payer
from billow.catalog import cache as catalog_cache
from billow.invoicing.models import CreditNote, DocumentKind, Invoice, InvoiceStatus, TaxRule
from billow.invoicing.tax import TaxRuleInfo, select_rules


def list_tax_rules_for_payer(
    *,
    provider_id: int,
    group_ids: Iterable[int],
    country: str,
    region: str = "",
    client_id: int | None = None,
) -> tuple[TaxRuleInfo, ...]:
    """The tax rules for a payer of client ``client_id`` of ``provider_id``. The provider's
    active rules are cached per process under the catalog token (every tax rule write replaces
    it)."""
    key = ("tax_rules", provider_id)
    infos = catalog_cache.cached(key, lambda: _active_rules(provider_id))
    return select_rules(
        list(infos), group_ids=group_ids, country=country, region=region, client_id=client_id
    )


def list_provider_tax_rules(provider_id: int) -> tuple[TaxRuleInfo, ...]:
    """All active tax rules of ``provider_id`` (cached like ``list_tax_rules_for_payer``'s):
    empty means nothing it sells is taxed."""
    return tuple(
        catalog_cache.cached(("tax_rules", provider_id), lambda: _active_rules(provider_id))
    )


def _active_rules(provider_id: int) -> tuple[TaxRuleInfo, ...]:
    rows = TaxRule.objects.filter(provider_id=provider_id, is_active=True)
    return tuple(
        TaxRuleInfo(
            id=r.pk,
            name=r.name,
            rate=r.rate,
            included=r.included,
            product_type=r.product_type,
            country=r.country,
            region=r.region,
            client_group_id=r.client_group_id,
            client_id=r.client_id,
        )
        for r in rows
    )


def get_invoice_by_reference(reference: str) -> Invoice | None:
    return Invoice.objects.filter(reference=reference).order_by("-id").first()


def get_document_payers(client_ids: Iterable[int]) -> dict[int, Payer]:
    """The payer a client's charges are taxed for and invoiced to: its first active payer (the
    client's own country when it has none). One query per ``PAYER_BATCH`` clients."""
    ids = sorted(set(client_ids))
    out: dict[int, Payer] = {}
    for start in range(0, len(ids), PAYER_BATCH):
        batch = ids[start : start + PAYER_BATCH]
        for payer in Payer.objects.filter(client_id__in=batch, is_active=True).order_by("-id"):
            out[payer.client_id] = payer  # the lowest id is seen last and kept
    return out


PAYER_BATCH = 900  # ids per IN list (SQLite's bound-parameter cap on older builds)
# --- a client's documents (client area and API) ---------------------------------------------


@dataclass(frozen=True, slots=True)
class DocumentRow:
    """One line of a client's document list: an invoice or a credit note."""

    kind: str
    id: int
    number: str
    issued_at: datetime
    status: str
    currency: str
    total_minor: int
    invoice_id: int | None
    provider_id: int

    @property
    def status_label(self) -> str:
        return str(InvoiceStatus(self.status).label)

    @property
    def kind_label(self) -> str:
        return str(DocumentKind(self.kind).label)


INVOICE = DocumentKind.INVOICE.value
CREDIT_NOTE = DocumentKind.CREDIT_NOTE.value


def _number(kind: str, year: int, number: int) -> str:
    prefix = "CN" if kind == CREDIT_NOTE else "INV"
    return f"{prefix}-{year}-{number:06d}"


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


#: The columns of both halves of the UNION, in one order (Django 5.2 selects ``values()`` in
#: the order given, which a UNION needs).
_COLUMNS = (
    "doc_kind",
    "doc_id",
    "doc_year",
    "doc_number",
    "doc_issued_at",
    "doc_status",
    "doc_currency",
    "doc_total",
    "doc_invoice",
    "doc_provider",
)


def _columns(kind: str, *, status: Any, total: str, invoice: Any) -> dict[str, Any]:
    return {
        "doc_kind": Value(kind),
        "doc_id": F("id"),
        "doc_year": F("year"),
        "doc_number": F("number"),
        "doc_issued_at": F("issued_at"),
        "doc_status": status,
        "doc_currency": F("currency"),
        "doc_total": F(total),
        "doc_invoice": invoice,
        "doc_provider": F("provider_id"),
    }


class DocumentPage(Sequence[DocumentRow]):
    """A lazily sliced, counted list of a client's documents (what Paginator and DRF's
    pagination need): one UNION query per slice, newest first, one COUNT for the total."""

    def __init__(self, rows: QuerySet[Any]) -> None:
        self._rows = rows

    def count(self) -> int:  # type: ignore[override]  # Paginator calls count() with no value
        return self._rows.count()

    def __len__(self) -> int:
        return self.count()

    @overload
    def __getitem__(self, index: int) -> DocumentRow: ...
    @overload
    def __getitem__(self, index: slice) -> list[DocumentRow]: ...
    def __getitem__(self, index: int | slice) -> DocumentRow | list[DocumentRow]:
        if isinstance(index, int):
            return self[index : index + 1][0]
        return [_row(values) for values in self._rows[index]]


def _row(values: dict[str, Any]) -> DocumentRow:
    kind = values["doc_kind"]
    return DocumentRow(
        kind=kind,
        id=values["doc_id"],
        number=_number(kind, values["doc_year"], values["doc_number"]),
        issued_at=values["doc_issued_at"],
        status=values["doc_status"],
        currency=values["doc_currency"],
        total_minor=values["doc_total"],
        invoice_id=values["doc_invoice"],
        provider_id=values["doc_provider"],
    )


def list_documents_for_client(
    client_id: int,
    *,
    date_from: date | None = None,
    date_to: date | None = None,
    status: str | None = None,
    kind: str | None = None,
) -> DocumentPage:
    """A client's invoices and credit notes, newest first (issue time, then kind and id),
    optionally issued on the days ``date_from`` .. ``date_to`` (inclusive, UTC), in one status
    (credit notes count as ``issued``) and of one kind. Only this client's documents: a credit
    note belongs to the client of the invoice it corrects."""
    window = Q()
    if date_from is not None:
        window &= Q(issued_at__gte=_day_start(date_from))
    if date_to is not None:
        window &= Q(issued_at__lt=_day_start(date_to + timedelta(days=1)))
    no_invoice = Value(None, output_field=models.BigIntegerField())
    invoices = (
        Invoice.objects.filter(window, client_id=client_id)
        .annotate(**_columns(INVOICE, status=F("status"), total="total_minor", invoice=no_invoice))
        .values(*_COLUMNS)
        .order_by()  # a UNION part may not be ordered (the models order by -id)
    )
    issued = Value(InvoiceStatus.ISSUED.value)
    notes = (
        CreditNote.objects.filter(window, invoice__client_id=client_id)
        .annotate(
            **_columns(CREDIT_NOTE, status=issued, total="amount_minor", invoice=F("invoice_id"))
        )
        .values(*_COLUMNS)
        .order_by()
    )
    if status:
        invoices = invoices.filter(status=status)
        if status != InvoiceStatus.ISSUED:
            notes = notes.none()
    if kind == INVOICE:
        rows = invoices
    elif kind == CREDIT_NOTE:
        rows = notes
    else:
        rows = invoices.union(notes, all=True)
    return DocumentPage(rows.order_by("-doc_issued_at", "-doc_kind", "-doc_id"))


def get_invoice_for_client(client_id: int, invoice_id: int) -> Invoice | None:
    """The client's invoice with its lines and credit notes (None for another's)."""
    rows = Invoice.objects.prefetch_related("lines", "credit_notes")
    return rows.filter(pk=invoice_id, client_id=client_id).first()


def get_credit_note_for_client(client_id: int, credit_note_id: int) -> CreditNote | None:
    """The client's credit note with its invoice (None for another's)."""
    rows = CreditNote.objects.select_related("invoice")
    return rows.filter(pk=credit_note_id, invoice__client_id=client_id).first()
