"""A document for every charge: invoices for charges, credit notes for refunds and credits.

- ``document_items`` (called by ``wallet.write_money``): the charges of each (client, provider,
  currency) in one paid invoice (a line per service period), each refund or credit a credit
  note against the invoice of the charge it corrects. Post-paid wallets' charges are left
  undocumented (their monthly invoice gathers them).
- ``document_pending_charges``: the charges no invoice documents yet (post-paid, hourly) in one
  invoice per (client, provider, currency), linked to it under a row lock, so a rerun or a
  concurrent call documents nothing twice.

Every line satisfies ``unit_price x quantity - discount = net``: a partial period's unit price
is its prorated price, and the line shows the share (``proration``) and the whole period's
price beside it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any

from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q

from billow.billing.models import ClientBillingSettings, Expense, ExpenseKind, ExpenseReason
from billow.billing.selectors import service_labels
from billow.billing.wallet.money import ItemTax, MoneyItem
from billow.invoicing.actions import InvoiceLineInput, issue_credit_note
from billow.invoicing.issuing import InvoiceDraft, issue_invoices
from billow.invoicing.models import Invoice
from billow.invoicing.selectors import PAYER_BATCH, get_document_payers


@dataclass(frozen=True, slots=True)
class Links:
    """The document of each item, by the item's position: invoice ids, credit note ids."""

    invoices: dict[int, int] = field(default_factory=dict)
    credit_notes: dict[int, int] = field(default_factory=dict)


NO_LINKS = Links()


@dataclass(frozen=True, slots=True)
class ChargeLine:
    """What an invoice line says about one charge (an item being written or a stored expense)."""

    service_id: int
    reason: str
    period_from: date
    period_to: date
    amount_minor: int
    tax_minor: int
    tax_added_minor: int
    tax_rate: Decimal
    proration: Fraction | None = None
    list_price_minor: int | None = None
    label: str = ""
    quantity: int = 1  # hours of one service and day folded into one line (``fold_hours``)


def fold_hours(lines: Sequence[ChargeLine]) -> list[ChargeLine]:
    """The lines with each service's hourly charges of a day (same price and rate) folded into
    one line of that many hours, where the first of them stood: a day of an hourly VPS is one
    line of 24, not 24 lines. The tax of the folded line is the sum of its hours' (the hourly
    run spreads a day's tax over its hours, so this is the day's tax)."""
    out: list[ChargeLine] = []
    folded: dict[tuple[Any, ...], int] = {}
    for c in lines:
        if c.reason != ExpenseReason.HOUR:
            out.append(c)
            continue
        key = (c.service_id, c.amount_minor, c.tax_rate, c.period_from, c.period_to, c.label)
        at = folded.get(key)
        if at is None:
            folded[key] = len(out)
            out.append(c)
            continue
        kept = out[at]
        out[at] = replace(
            kept,
            quantity=kept.quantity + c.quantity,
            tax_minor=kept.tax_minor + c.tax_minor,
            tax_added_minor=kept.tax_added_minor + c.tax_added_minor,
        )
    return out


def document_items(items: Sequence[MoneyItem], *, now: datetime, actor: Any) -> Links:
    """Issue the documents of ``items`` (tax priced) before their expenses are inserted."""
    charges = [n for n, x in enumerate(items) if x.is_charge and x.gross_minor]
    backs = [n for n, x in enumerate(items) if not x.is_charge and x.gross_minor]
    links = Links()
    if charges:
        _invoice_charges(items, charges, links, now)
    for n in backs:
        note = _credit_back(items[n], now=now, actor=actor)
        if note is not None:
            links.credit_notes[n] = note
    return links


def _invoice_charges(
    items: Sequence[MoneyItem], positions: list[int], links: Links, now: datetime
) -> None:
    postpaid = _postpaid({items[n].wallet_key for n in positions})
    groups: dict[tuple[int, int, str], list[int]] = defaultdict(list)
    for n in positions:
        if items[n].wallet_key not in postpaid:
            groups[items[n].wallet_key].append(n)
    if not groups:
        return
    lines = {
        n: ChargeLine(
            x.service_id,
            x.reason,
            x.period_from,
            x.period_to,
            x.amount_minor,
            x.item_tax.tax_minor,
            x.item_tax.tax_added_minor,
            x.item_tax.rate,
            x.proration,
            x.list_price_minor,
            x.label,
        )
        for n, x in ((n, items[n]) for ns in groups.values() for n in ns)
    }
    reverse = {n: items[n].item_tax.reverse_charge for n in lines}
    keys = sorted(groups)
    invoices = _issue(
        [(k, [lines[n] for n in groups[k]], any(reverse[n] for n in groups[k])) for k in keys],
        now=now,
        paid=True,
        reference="",
    )
    for k, invoice in zip(keys, invoices, strict=True):
        for n in groups[k]:
            links.invoices[n] = invoice.pk


def _postpaid(keys: Iterable[tuple[int, int, str]]) -> set[tuple[int, int, str]]:
    wanted = set(keys)
    clients = sorted({k[0] for k in wanted})
    found: set[tuple[int, str]] = set()
    for start in range(0, len(clients), PAYER_BATCH):
        found.update(
            ClientBillingSettings.objects.filter(
                client_id__in=clients[start : start + PAYER_BATCH], postpaid=True
            ).values_list("client_id", "currency")
        )
    return {k for k in wanted if (k[0], k[2]) in found}


def _issue(
    groups: Sequence[tuple[tuple[int, int, str], list[ChargeLine], bool]],
    *,
    now: datetime,
    paid: bool,
    reference: str,
    due_on: date | None = None,
) -> list[Invoice]:
    """One invoice per (client, provider, currency) group, its lines in the given order."""
    labels = service_labels(
        {c.service_id for _k, lines, _r in groups for c in lines if not c.label}
    )
    payers = get_document_payers({k[0] for k, _l, _r in groups})
    drafts = [
        InvoiceDraft(
            provider_id=k[1],
            client_id=k[0],
            currency=k[2],
            lines=tuple(invoice_line(c, c.label or labels.get(c.service_id, "")) for c in lines),
            payer=payers.get(k[0]),
            reference=reference,
            reverse_charge=reverse,
        )
        for k, lines, reverse in groups
    ]
    return issue_invoices(drafts, now=now, paid=paid, due_on=due_on)


def invoice_line(c: ChargeLine, label: str) -> InvoiceLineInput:
    """The invoice line of a charge (``unit x quantity - 0 = net``; the share shown beside
    it); ``quantity`` is more than 1 only for folded hours."""
    last_day = c.period_to - timedelta(days=1)
    what = ExpenseReason(c.reason).label if c.reason != ExpenseReason.PERIOD else ""
    text = f"{label}{f' ({what})' if what else ''}, {c.period_from} - {last_day}"
    share = None
    if c.proration is not None:
        share = (Decimal(c.proration.numerator) / c.proration.denominator).quantize(
            Decimal("0.000001")
        )
    net = c.amount_minor * c.quantity
    return InvoiceLineInput(
        description=text,
        quantity=c.quantity,
        unit_price_minor=c.amount_minor,
        discount_minor=0,
        net_minor=net,
        tax_rate=c.tax_rate,
        tax_minor=c.tax_minor,
        total_minor=net + c.tax_added_minor,
        service_id=c.service_id,
        period_from=c.period_from,
        period_to=c.period_to,
        proration=share,
        list_price_minor=c.list_price_minor,
    )


def attach_invoice(*, invoice_id: int, keys: Sequence[str]) -> int:
    """Link the undocumented charges under ``keys`` to the invoice that documents them (the
    checkout's order invoice, issued after its charges); returns how many were linked."""
    if not keys:
        return 0
    return Expense.objects.filter(
        key__in=list(keys), kind=ExpenseKind.CHARGE, invoice__isnull=True
    ).update(invoice_id=invoice_id)


# -- credit notes -----------------------------------------------------------------------------


def _credit_back(item: MoneyItem, *, now: datetime, actor: Any) -> int | None:
    """A credit note for a refund or credit against the invoice it names, else the invoices of
    the charges of the days it gives back, newest first, each credited at most what is left of
    it (``credit_note_exceeds_invoice`` when the one named has not enough left); the id of the
    last one issued (None when those charges were never documented)."""
    if item.invoice_id is not None:
        invoices = list(Invoice.objects.filter(pk=item.invoice_id))
    else:
        invoices = list(
            Invoice.objects.filter(
                pk__in=Expense.objects.filter(
                    service_id=item.service_id,
                    kind=ExpenseKind.CHARGE,
                    invoice__isnull=False,
                    period_to__gt=item.period_from,
                    period_from__lt=item.period_to,
                ).values("invoice_id")
            ).order_by("-id")
        )
    left = item.gross_minor
    tax, added = item.item_tax.tax_minor, item.item_tax.tax_added_minor
    last = None
    for invoice in invoices:
        room = invoice.total_minor - sum(n.amount_minor for n in invoice.credit_notes.all())
        part = left if item.invoice_id is not None else min(left, room)
        if part <= 0:
            continue
        part_tax = tax if part == left else tax * part // left
        part_added = added if part == left else added * part // left
        note = issue_credit_note(
            invoice=invoice,
            amount_minor=part,
            subtotal_minor=part - part_added,
            tax_minor=part_tax,
            reason=item.description or str(ExpenseReason(item.reason).label),
            reference=item.key,
            actor=actor,
            now=now,
        )
        last = note.pk
        left, tax, added = left - part, tax - part_tax, added - part_added
        if left <= 0:
            break
    return last


# -- charges documented later -----------------------------------------------------------------


def document_pending_charges(
    *,
    day: date | None = None,
    until: datetime | date | None = None,
    client_ids: Iterable[int] | None = None,
    postpaid: bool | None = None,
    due_on: date | None = None,
    paid: bool = True,
    now: datetime,
    actor: Any = None,
) -> list[Invoice]:
    """Document the charges no invoice documents yet: those written on ``day`` (UTC), or
    before ``until`` (a moment, or the start of a day), of ``client_ids`` (default: all), of
    post-paid clients only (``postpaid=True``), of the others (``False``) or of both (None).

    One invoice per (client, provider, currency), lines in charge order, issued ``paid`` at
    ``now`` (from the balance) or issued with ``due_on``. The charges are locked and linked to
    their invoice in the same transaction: a rerun, or a concurrent call, documents nothing
    twice. Then the refunds and credits of the same window that no credit note documents yet
    (their charges were undocumented when they were written) get theirs, against the invoices
    of their charges. Returns the invoices issued (none when nothing was pending)."""
    if (day is None) == (until is None):
        raise ValueError("give either day or until")
    window = _window(Expense.objects.all(), day, until, client_ids, postpaid)
    with transaction.atomic():
        invoices = _document_charges(
            window.filter(kind=ExpenseKind.CHARGE, invoice__isnull=True), now, paid, due_on
        )
        _document_backs(
            window.exclude(kind=ExpenseKind.CHARGE).filter(credit_note__isnull=True), now, actor
        )
    return invoices


def _window(
    qs: Any,
    day: date | None,
    until: datetime | date | None,
    client_ids: Iterable[int] | None,
    postpaid: bool | None,
) -> Any:
    """``qs`` narrowed to ``document_pending_charges``' window: the day or the moment, the
    clients, post-paid or not."""
    if day is not None:
        start = datetime.combine(day, time(0), tzinfo=UTC)
        qs = qs.filter(created_at__gte=start, created_at__lt=start + timedelta(days=1))
    else:
        assert until is not None
        end = until if isinstance(until, datetime) else datetime.combine(until, time(0), UTC)
        qs = qs.filter(created_at__lt=end)
    if client_ids is not None:
        qs = qs.filter(client_id__in=list(client_ids))
    if postpaid is not None:
        terms = ClientBillingSettings.objects.filter(
            client_id=OuterRef("client_id"), currency=OuterRef("currency"), postpaid=True
        )
        qs = qs.filter(Exists(terms)) if postpaid else qs.filter(~Exists(terms))
    return qs


def _document_charges(qs: Any, now: datetime, paid: bool, due_on: date | None) -> list[Invoice]:
    """One invoice per (client, provider, currency) of the charges of ``qs``, locked and
    linked to it."""
    if connection.features.has_select_for_update:
        qs = qs.select_for_update(of=("self",))
    rows = list(
        qs.exclude(Q(amount_minor=0) & Q(tax_added_minor=0))
        .order_by("client_id", "provider_id", "currency", "created_at", "id")
        .values_list(
            "id",
            "client_id",
            "provider_id",
            "currency",
            "service_id",
            "reason",
            "period_from",
            "period_to",
            "amount_minor",
            "tax_minor",
            "tax_added_minor",
            "tax_rate",
            "reverse_charge",
        )
    )
    if not rows:
        return []
    groups: dict[tuple[int, int, str], list[tuple[Any, ...]]] = defaultdict(list)
    for r in rows:
        groups[(r[1], r[2], r[3])].append(r)
    keys = sorted(groups)
    invoices = _issue(
        [
            (
                k,
                fold_hours([ChargeLine(*r[4:12]) for r in groups[k]]),
                any(r[12] for r in groups[k]),
            )
            for k in keys
        ],
        now=now,
        paid=paid,
        reference="",
        due_on=due_on,
    )
    for k, invoice in zip(keys, invoices, strict=True):
        Expense.objects.filter(pk__in=[r[0] for r in groups[k]]).update(invoice=invoice)
    return invoices


def _document_backs(qs: Any, now: datetime, actor: Any) -> None:
    """Credit notes for the window's undocumented refunds and credits whose charges have an
    invoice now (the others wait)."""
    if connection.features.has_select_for_update:
        qs = qs.select_for_update(of=("self",))
    for e in qs.exclude(Q(amount_minor=0) & Q(tax_added_minor=0)).order_by("id"):
        item = MoneyItem(
            e.service_id,
            (e.client_id, e.provider_id, e.currency),
            e.kind,
            e.reason,
            e.key,
            e.period_from,
            e.period_to,
            e.amount_minor,
            e.description,
            ItemTax(e.tax_minor, e.tax_added_minor, e.tax_rate, e.reverse_charge),
        )
        note = _credit_back(item, now=now, actor=actor)
        if note is not None:
            Expense.objects.filter(pk=e.pk).update(credit_note_id=note)


def attach_credit_note(*, credit_note_id: int, keys: Sequence[str]) -> int:
    """Link the refunds or credits under ``keys`` to the credit note that documents them (the
    quick-order expiry issues its own); returns how many were linked."""
    if not keys:
        return 0
    return (
        Expense.objects.filter(key__in=list(keys), credit_note__isnull=True)
        .exclude(kind=ExpenseKind.CHARGE)
        .update(credit_note_id=credit_note_id)
    )
