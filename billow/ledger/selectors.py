"""Ledger reads, plus the race-safe ``get_or_create_account`` (it never changes an existing row).

The reconciliation checks are set-based (GROUP BY / HAVING): they scale with the tables, not
with a Python loop, and integer SUM is exact on both PostgreSQL (numeric) and SQLite.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import TypeVar

from django.db import DatabaseError, transaction
from django.db.models import (
    BigIntegerField,
    Case,
    Exists,
    F,
    OuterRef,
    Q,
    QuerySet,
    RowRange,
    Subquery,
    Sum,
    Value,
    When,
    Window,
)
from django.db.models.functions import Cast, Coalesce

from billow.accounts.models import Client, Provider
from billow.core.errors import ValidationError
from billow.core.money import Money, balance_limit_minor, exponent
from billow.ledger.errors import LedgerValidationError
from billow.ledger.models import AccountKind, LedgerAccount, LedgerEntry, LedgerTransaction

_T = TypeVar("_T")


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
    client_id: int,
    *,
    currency: str | None = None,
    kind: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
) -> QuerySet[LedgerEntry]:
    """The client's statement: entries of their balance accounts (every provider), in date
    order (oldest first; ties by id), with their transactions; optionally one currency, one
    transaction kind and the days ``date_from`` .. ``date_to`` (inclusive, UTC). The one
    statement query of the client area (page and CSV) and the API.

    Each entry carries ``balance_minor``: the client's balance in the entry's currency (all
    providers together) right after it, the same on every page and under every filter (the
    window runs over the listed rows plus the opening balance before ``date_from``; with a kind
    filter, which hides rows in between, a correlated sum per row instead). ``date_from`` after
    ``date_to`` is refused with ``invalid_date_range``.
    """
    if date_from is not None and date_to is not None and date_from > date_to:
        raise LedgerValidationError(
            "date_from is after date_to",
            code="invalid_date_range",
            date_from=date_from.isoformat(),
            date_to=date_to.isoformat(),
        )
    mine = LedgerEntry.objects.filter(
        account__client_id=client_id, account__kind=AccountKind.CLIENT_BALANCE
    )
    if currency:
        mine = mine.filter(currency=currency)
    rows = mine.select_related("transaction")
    if date_from is not None:
        rows = rows.filter(transaction__created_at__gte=_day_start(date_from))
    if date_to is not None:
        rows = rows.filter(transaction__created_at__lt=_day_start(date_to + timedelta(days=1)))
    if kind:
        through = Cast(_balance_through(mine), BigIntegerField())
        rows = rows.filter(transaction__kind=kind).annotate(balance_minor=through)
    else:
        opening = _opening_balances(mine, date_from) if date_from is not None else {}
        # Cast: PostgreSQL's SUM of a BIGINT is NUMERIC (a Decimal in Python).
        running = _running_sum() + _per_currency(opening)
        rows = rows.annotate(balance_minor=Cast(running, BigIntegerField()))
    return rows.order_by("transaction__created_at", "id")


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def _running_sum() -> Window:
    return Window(
        Sum("amount_minor"),
        partition_by=[F("currency")],
        order_by=[F("transaction__created_at").asc(), F("id").asc()],
        frame=RowRange(start=None, end=0),
        output_field=BigIntegerField(),
    )


def _opening_balances(mine: QuerySet[LedgerEntry], date_from: date) -> dict[str, int]:
    """The balance per currency before ``date_from`` (one grouped query)."""
    before = mine.filter(transaction__created_at__lt=_day_start(date_from)).order_by()
    totals = before.values("currency").annotate(total=Sum("amount_minor"))
    return {row["currency"]: int(row["total"]) for row in totals}


def _per_currency(amounts: dict[str, int]) -> Case | Value:
    if not amounts:
        return Value(0, output_field=BigIntegerField())
    return Case(
        *(When(currency=c, then=Value(a)) for c, a in sorted(amounts.items())),
        default=Value(0),
        output_field=BigIntegerField(),
    )


def _balance_through(mine: QuerySet[LedgerEntry]) -> Subquery:
    """The sum of the client's entries in the row's currency up to and including the row (in
    statement order): one correlated sum per listed row, so only for paged reads."""
    at = OuterRef("transaction__created_at")
    earlier = Q(transaction__created_at__lt=at) | Q(
        transaction__created_at=at, id__lte=OuterRef("id")
    )
    totals = (
        mine.filter(earlier, currency=OuterRef("currency"))
        .order_by()
        .values("currency")
        .annotate(total=Sum("amount_minor"))
        .values("total")
    )
    return Subquery(totals, output_field=BigIntegerField())


def _exact_sums(in_sql: Callable[[], list[_T]], in_python: Callable[[], list[_T]]) -> list[_T]:
    """``in_sql()``, or ``in_python()`` when the database cannot sum exactly: SQLite's integer
    SUM raises "integer overflow" past 2**63 (rows written before balances were limited), where
    Python's ints are exact. A savepoint keeps the caller's transaction usable on PostgreSQL."""
    try:
        with transaction.atomic():
            return in_sql()
    except DatabaseError:
        return in_python()


def _entry_sums(*group_by: str) -> dict[tuple[object, ...], int]:
    """The sum of entries per ``group_by`` values, streamed and added in Python."""
    sums: dict[tuple[object, ...], int] = {}
    rows = LedgerEntry.objects.order_by().values_list(*group_by, "amount_minor")
    for *key, amount in rows.iterator(chunk_size=10_000):
        sums[tuple(key)] = sums.get(tuple(key), 0) + int(amount)
    return sums


def list_unbalanced_transactions() -> list[tuple[int, str, int]]:
    """(transaction id, currency, non-zero sum) for every transaction that is not zero-sum."""

    def in_sql() -> list[tuple[int, str, int]]:
        rows = (
            LedgerEntry.objects.order_by()
            .values("transaction_id", "currency")
            .annotate(total=Sum("amount_minor"))
            .exclude(total=0)
            .values_list("transaction_id", "currency", "total")
        )
        return sorted((t, c, int(s)) for t, c, s in rows)

    def in_python() -> list[tuple[int, str, int]]:
        sums = _entry_sums("transaction_id", "currency")
        return sorted((int(str(k[0])), str(k[1]), s) for k, s in sums.items() if s)

    return _exact_sums(in_sql, in_python)


def list_empty_transactions() -> list[int]:
    """Ids of transactions without entries."""
    return list(
        LedgerTransaction.objects.filter(entries__isnull=True)
        .order_by("id")
        .values_list("id", flat=True)
    )


def list_balance_mismatches() -> list[tuple[int, int, int]]:
    """(account id, cached balance, sum of entries) for every account where they differ."""

    def in_sql() -> list[tuple[int, int, int]]:
        rows = (
            LedgerAccount.objects.order_by("id")
            .annotate(
                total=Coalesce(
                    Sum("entries__amount_minor"), Value(0), output_field=BigIntegerField()
                )
            )
            .exclude(balance_minor=F("total"))
            .values_list("id", "balance_minor", "total")
        )
        return [(a, int(b), int(s)) for a, b, s in rows]

    def in_python() -> list[tuple[int, int, int]]:
        sums = _entry_sums("account_id")
        balances = LedgerAccount.objects.order_by("id").values_list("id", "balance_minor")
        out = []
        for account_id, cached in balances.iterator(chunk_size=10_000):
            total = sums.get((account_id,), 0)
            if int(cached) != total or isinstance(cached, float):  # a REAL is never exact
                out.append((account_id, int(cached), total))
        return out

    return _exact_sums(in_sql, in_python)


def list_accounts_beyond_limit() -> list[tuple[int, str, int]]:
    """(account id, currency, balance) of every account whose cached balance is beyond its
    currency's limit (``billow.core.money.balance_limit_minor``; postings refuse to get there,
    so these predate the limit)."""
    beyond = Q()
    currencies = LedgerAccount.objects.order_by().values_list("currency", flat=True).distinct()
    for currency in currencies:
        try:
            limit = balance_limit_minor(currency)
        except ValidationError:
            continue  # an unknown currency is not this check's finding
        beyond |= Q(currency=currency) & (Q(balance_minor__gt=limit) | Q(balance_minor__lt=-limit))
    if not beyond:
        return []
    rows = LedgerAccount.objects.filter(beyond).order_by("id")
    return [(a, c, int(b)) for a, c, b in rows.values_list("id", "currency", "balance_minor")]


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
    beyond_limit: list[tuple[int, str, int]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (
            self.beyond_limit
            or self.unbalanced
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
        beyond_limit=list_accounts_beyond_limit(),
    )
