"""Ledger reads, plus the race-safe ``get_or_create_account`` (it never changes an existing row).

The reconciliation checks are set-based (GROUP BY / HAVING): they scale with the tables, not
with a Python loop, and integer SUM is exact on both PostgreSQL (numeric) and SQLite.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import BigIntegerField, Exists, F, OuterRef, QuerySet, Sum, Value
from django.db.models.functions import Coalesce

from billow.accounts.models import Client, Provider
from billow.core.money import Money, exponent
from billow.ledger.errors import LedgerValidationError
from billow.ledger.models import AccountKind, LedgerAccount, LedgerEntry, LedgerTransaction


def get_or_create_account(
    *,
    kind: str,
    currency: str,
    client: Client | None = None,
    provider: Provider | None = None,
    name: str = "",
) -> LedgerAccount:
    """The one account for (kind, client, provider, currency), created on first use.

    Race-safe: the conditional unique constraints decide; a concurrent creator's row is
    returned (Django's get_or_create retries the read after an IntegrityError in a savepoint).
    """
    exponent(currency)
    if kind not in AccountKind.values:
        raise LedgerValidationError(f"unknown account kind {kind!r}", code="invalid_account_kind")
    account, _ = LedgerAccount.objects.get_or_create(
        kind=kind, currency=currency, client=client, provider=provider, defaults={"name": name}
    )
    return account


# Committed accounts never change kind, owner or currency and are never deleted (PROTECT, an
# append-only ledger), so a process remembers their ids and currencies once they are committed.
_ACCOUNT_IDS: dict[tuple[str, str, int | None, int | None], int] = {}
_CURRENCIES: dict[int, str] = {}


def get_account_id(
    *, kind: str, currency: str, client_id: int | None = None, provider_id: int | None = None
) -> int:
    """The id of ``get_or_create_account``'s account, remembered per process once committed
    (no query on the hot paths after the first use)."""
    key = (kind, currency, client_id, provider_id)
    known = _ACCOUNT_IDS.get(key)
    if known is not None:
        return known
    account = get_or_create_account(
        kind=kind,
        currency=currency,
        client=Client(pk=client_id) if client_id is not None else None,
        provider=Provider(pk=provider_id) if provider_id is not None else None,
    )
    remember_account(account)
    return account.pk


def remember_account(account: LedgerAccount) -> None:
    """Remember ``account``'s id and currency once the current transaction commits (at once
    outside one): a row a rollback removes is never remembered."""
    key = (account.kind, account.currency, account.client_id, account.provider_id)
    pk, currency = account.pk, account.currency

    def store() -> None:
        _ACCOUNT_IDS[key] = pk
        _CURRENCIES[pk] = currency

    transaction.on_commit(store)


def remember_currency(account_id: int, currency: str) -> None:
    """Remember the currency of an account read under lock (see ``remember_account``)."""
    if _CURRENCIES.get(account_id) != currency:
        transaction.on_commit(lambda: _CURRENCIES.__setitem__(account_id, currency))


def known_currencies(ids: Iterable[int]) -> dict[int, str]:
    """Currencies of the remembered accounts among ``ids``."""
    return {i: _CURRENCIES[i] for i in ids if i in _CURRENCIES}


def forget_accounts() -> None:
    """Drop what this process remembers (tests that reuse ids after a rollback)."""
    _ACCOUNT_IDS.clear()
    _CURRENCIES.clear()


def get_balance(account: LedgerAccount | int) -> Money:
    """The cached balance, read fresh from the database."""
    pk = account if isinstance(account, int) else account.pk
    balance, currency = LedgerAccount.objects.values_list("balance_minor", "currency").get(pk=pk)
    return Money(int(balance), currency)


def list_entries_for_account(account: LedgerAccount | int) -> QuerySet[LedgerEntry]:
    """Entries of one account, newest first, with their transactions."""
    pk = account if isinstance(account, int) else account.pk
    return LedgerEntry.objects.filter(account_id=pk).select_related("transaction").order_by("-id")


def list_statement_for_client(
    client_id: int, *, currency: str | None = None, kind: str | None = None
) -> QuerySet[LedgerEntry]:
    """The client's statement: entries of their balance accounts (every provider), newest
    first, with their transactions; optionally one currency and one transaction kind. The one
    statement query of the client area (page and CSV) and the API."""
    rows = LedgerEntry.objects.filter(
        account__client_id=client_id, account__kind=AccountKind.CLIENT_BALANCE
    ).select_related("transaction")
    if currency:
        rows = rows.filter(currency=currency)
    if kind:
        rows = rows.filter(transaction__kind=kind)
    return rows.order_by("-id")


def list_unbalanced_transactions() -> list[tuple[int, str, int]]:
    """(transaction id, currency, non-zero sum) for every transaction that is not zero-sum."""
    rows = (
        LedgerEntry.objects.order_by()
        .values("transaction_id", "currency")
        .annotate(total=Sum("amount_minor"))
        .exclude(total=0)
        .values_list("transaction_id", "currency", "total")
    )
    return sorted((t, c, int(s)) for t, c, s in rows)


def list_empty_transactions() -> list[int]:
    """Ids of transactions without entries."""
    return list(
        LedgerTransaction.objects.filter(entries__isnull=True)
        .order_by("id")
        .values_list("id", flat=True)
    )


def list_balance_mismatches() -> list[tuple[int, int, int]]:
    """(account id, cached balance, sum of entries) for every account where they differ."""
    rows = (
        LedgerAccount.objects.order_by("id")
        .annotate(
            total=Coalesce(Sum("entries__amount_minor"), Value(0), output_field=BigIntegerField())
        )
        .exclude(balance_minor=F("total"))
        .values_list("id", "balance_minor", "total")
    )
    return [(a, int(b), int(s)) for a, b, s in rows]


def list_currency_mismatched_entries() -> list[int]:
    """Ids of entries whose currency differs from their account's."""
    return list(
        LedgerEntry.objects.exclude(currency=F("account__currency"))
        .order_by("id")
        .values_list("id", flat=True)
    )


def list_orphan_entries() -> list[int]:
    """Ids of entries whose transaction or account row is missing (the FKs carry no constraint)."""
    txn_exists = Exists(LedgerTransaction.objects.filter(pk=OuterRef("transaction_id")))
    account_exists = Exists(LedgerAccount.objects.filter(pk=OuterRef("account_id")))
    return list(
        LedgerEntry.objects.filter(~txn_exists | ~account_exists)
        .order_by("id")
        .values_list("id", flat=True)
    )


@dataclass(frozen=True, slots=True)
class ReconcileReport:
    transactions: int
    accounts: int
    entries: int
    unbalanced: list[tuple[int, str, int]] = field(default_factory=list)
    empty: list[int] = field(default_factory=list)
    balance_mismatches: list[tuple[int, int, int]] = field(default_factory=list)
    currency_mismatches: list[int] = field(default_factory=list)
    orphans: list[int] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (
            self.unbalanced
            or self.empty
            or self.balance_mismatches
            or self.currency_mismatches
            or self.orphans
        )


def get_reconcile_report() -> ReconcileReport:
    """Every ledger invariant checked at once (run it in one transaction for a consistent view)."""
    return ReconcileReport(
        transactions=LedgerTransaction.objects.count(),
        accounts=LedgerAccount.objects.count(),
        entries=LedgerEntry.objects.count(),
        unbalanced=list_unbalanced_transactions(),
        empty=list_empty_transactions(),
        balance_mismatches=list_balance_mismatches(),
        currency_mismatches=list_currency_mismatched_entries(),
        orphans=list_orphan_entries(),
    )
