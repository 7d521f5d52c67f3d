"""What a client reads on their statement: each entry with a sentence saying what happened.

The sentence is rendered when the statement is read, in the active language, from structured
rows the postings already point at (the transaction's kind and ``reference``, the expense under
the same key, the payment or refund), never from free text written at posting time: the writers
stay untouched (the billing run writes no text per row) and a translation applies to old rows
too. The ledger knows no services, payments or orders, so each app that posts to a client
balance registers a *describer* for its reference type in ``AppConfig.ready()``::

    register_describer("services.service", describe_service_charges)

A describer gets the transactions of one page (or CSV chunk) that carry its reference type and
returns ``{transaction id: sentence}``; it reads what it needs in a fixed number of queries, so
a page costs the same number of queries whatever it holds. A transaction nobody describes shows
its kind's label and the memo stored with it (a staff adjustment: "Balance adjustment: <reason>").
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from django.utils.translation import gettext

from billow.core.registry import Registry
from billow.ledger.models import LedgerEntry, LedgerTransaction, TransactionKind

Describer = Callable[[Sequence[LedgerTransaction]], dict[int, str]]

#: Reference type (``"services.service"``, ``"payments.payment"``, ``"order"``) -> describer.
describers: Registry[Describer] = Registry("statement describer")


def register_describer(reference_type: str, describer: Describer) -> Describer:
    """Describe the transactions whose reference is of ``reference_type`` (once per process)."""
    return describers.add(reference_type, describer)


@dataclass(frozen=True, slots=True)
class StatementLine:
    """One statement row: the entry, what happened, and the balance right after it."""

    entry: LedgerEntry
    description: str

    @property
    def id(self) -> int:
        return self.entry.pk

    @property
    def transaction_id(self) -> int:
        return self.entry.transaction_id

    @property
    def kind(self) -> str:
        return self.entry.transaction.kind

    @property
    def memo(self) -> str:
        return self.entry.transaction.memo

    @property
    def created_at(self) -> datetime:
        return self.entry.transaction.created_at

    @property
    def amount_minor(self) -> int:
        return self.entry.amount_minor

    @property
    def currency(self) -> str:
        return self.entry.currency

    @property
    def balance_minor(self) -> int:
        """Set by ``list_statement_for_client``."""
        return int(self.entry.balance_minor)  # type: ignore[attr-defined]


def describe_statement(entries: Iterable[LedgerEntry]) -> list[StatementLine]:
    """``entries`` of ``list_statement_for_client`` (a page, a chunk) as statement lines: one
    query per reference type present that has a describer, none per row."""
    rows = list(entries)
    by_type: dict[str, dict[int, LedgerTransaction]] = defaultdict(dict)
    for entry in rows:
        txn = entry.transaction
        by_type[txn.reference_type][txn.pk] = txn
    texts: dict[int, str] = {}
    for reference_type, txns in by_type.items():
        if reference_type in describers:
            texts.update(describers.get(reference_type)(list(txns.values())))
    return [StatementLine(e, texts.get(e.transaction_id) or fallback(e.transaction)) for e in rows]


def fallback(txn: LedgerTransaction) -> str:
    """The kind's label, then the stored memo: "Balance adjustment: goodwill credit"."""
    label = kind_label(txn.kind)
    return gettext("%(what)s: %(memo)s") % {"what": label, "memo": txn.memo} if txn.memo else label


def kind_label(kind: str) -> str:
    try:
        return str(TransactionKind(kind).label)
    except ValueError:
        return kind
