"""Ledger writes. Every posting goes through ``post_transaction`` or ``post_transactions_bulk``.

Both validate everything before writing (a refusal leaves nothing behind), are idempotent by key
(same key + same legs returns the existing transaction, other legs raise
``idempotency_key_reused``) and move cached balances in the same database transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from billow.core import rows
from billow.core.errors import RetryableError
from billow.ledger import bulk, sql
from billow.ledger.errors import (
    IdempotencyKeyReusedError,
    LedgerValidationError,
    UnknownAccountError,
)
from billow.ledger.models import (
    AccountKind,
    LedgerAccount,
    LedgerEntry,
    LedgerTransaction,
    TransactionKind,
)
from billow.ledger.postings import (
    CheckedPosting,
    LegInput,
    Posting,
    Reference,
    account_currencies,
    balance_refused,
    balance_window,
    check_posting,
)
from billow.ledger.selectors import get_account_id, get_or_create_account

__all__ = [
    "BulkPostResult",
    "OpeningBalance",
    "adjust_client_balance",
    "post_opening_balances",
    "post_transaction",
    "post_transactions_bulk",
]


def post_transaction(
    *,
    kind: str,
    legs: Sequence[LegInput],
    idempotency_key: str,
    reference: Reference = "",
    memo: str = "",
    actor: object | None = None,
) -> LedgerTransaction:
    """Post one balanced transaction and move the cached balances of its accounts.

    Guarantees: legs sum to zero per currency and match their accounts' currencies, or a
    ``BillowError`` is raised and nothing is written; the same ``idempotency_key`` posted again
    with the same legs returns the first transaction (also under concurrent posting: the unique
    key decides, not a prior read); balances move by ``F()`` in this DB transaction, accounts in
    id order so concurrent posters cannot deadlock, and never beyond their currency's limit
    (``balance_out_of_range``, nothing written; the check is part of the UPDATE itself).
    """
    posting = Posting(kind, legs, idempotency_key, reference, memo, actor)
    checked = check_posting(posting, account_currencies(legs))
    with transaction.atomic():
        try:
            with transaction.atomic():  # savepoint: a duplicate key rolls back only this insert
                txn = LedgerTransaction.objects.create(**_txn_fields(checked))
        except IntegrityError as exc:
            return _replay(checked, exc)
        LedgerEntry.objects.bulk_create(
            LedgerEntry(transaction=txn, account_id=a, amount_minor=m, currency=c)
            for a, c, m in checked.legs
        )
        _move_balances(checked.deltas, {a: c for a, c, _ in checked.legs})
    return txn


def _move_balances(deltas: dict[int, int], currencies: dict[int, str]) -> None:
    """F() increments in account id order (the one lock order); a vanished account aborts, and
    so does a balance that would leave its currency's limit (``balance_out_of_range``)."""
    for account_id in sorted(deltas):
        delta = deltas[account_id]
        # The window is computed in Python, so the statement itself never overflows.
        low, high = balance_window(account_id, delta, currencies[account_id])
        room = Q(balance_minor__gte=low, balance_minor__lte=high)
        # An account whose legs cancel out still gets a no-op update: it proves the row exists.
        # rows.bigint: a bare int is sent as a 32-bit int under server-side binding.
        moved = LedgerAccount.objects.filter(room, pk=account_id).update(
            balance_minor=F("balance_minor") + rows.bigint(delta)
        )
        if moved == 1:
            continue
        if LedgerAccount.objects.filter(pk=account_id).exists():
            raise balance_refused(account_id, currencies[account_id])
        raise UnknownAccountError(f"ledger account {account_id} does not exist")


def _txn_fields(p: CheckedPosting) -> dict[str, str]:
    return {
        "kind": p.kind,
        "idempotency_key": p.idempotency_key,
        "reference_type": p.reference_type,
        "reference_id": p.reference_id,
        "memo": p.memo,
        "actor_kind": p.actor_kind,
        "actor_id": p.actor_id,
        "legs_hash": p.legs_hash,
    }


def _replay(checked: CheckedPosting, exc: IntegrityError) -> LedgerTransaction:
    existing = LedgerTransaction.objects.filter(idempotency_key=checked.idempotency_key).first()
    if existing is None:  # the IntegrityError was about something else
        raise exc
    if existing.legs_hash != checked.legs_hash:
        raise IdempotencyKeyReusedError(
            f"idempotency key {checked.idempotency_key!r} was posted with other legs",
            idempotency_key=checked.idempotency_key,
            transaction_id=existing.pk,
        )
    return existing


@dataclass(frozen=True, slots=True)
class BulkPostResult:
    """``transaction_ids`` follow the input order; a replayed item carries the existing id."""

    transaction_ids: list[int]
    created: int
    replayed: int


def post_transactions_bulk(
    items: Sequence[Posting], *, now: datetime | None = None
) -> BulkPostResult:
    """Post many transactions set-based (the billing run): all or nothing.

    Guarantees: every item is validated with the same rules and codes as ``post_transaction``
    and any refusal leaves nothing written (validation streams into COPY inside one atomic
    block; an error aborts it); an item whose key exists (in the database or earlier in
    ``items``) with identical legs is skipped, with other legs the whole call raises
    ``idempotency_key_reused``; rows go in chunks of ``settings.BILLOW["LEDGER_BULK_BATCH"]``
    (COPY on PostgreSQL, executemany on SQLite); each account's balance moves once by its
    aggregated delta in the same DB transaction, never beyond its currency's limit
    (``balance_out_of_range``, checked inside the balance UPDATE). Everything runs in a
    savepoint, so a database error leaves a caller's transaction usable; a key inserted
    concurrently by another poster surfaces as ``RetryableError`` (``ledger_bulk_race``):
    retrying skips it.
    """
    currencies = account_currencies(leg for item in items for leg in item.legs)
    small = bulk.is_small(items)  # asked before the savepoint below opens a transaction
    run = bulk.BulkRun(items, currencies, now or timezone.now(), _batch_size())
    try:
        # A savepoint on both paths: a database error rolls back to it, so a caller's
        # transaction stays usable (the small path's refusals come before its first write).
        with transaction.atomic(using=sql.connection().alias):
            ids = run.execute_small() if small else run.execute()
    except IntegrityError as exc:
        raise RetryableError(
            "a key of this batch was posted concurrently; retry", code="ledger_bulk_race"
        ) from exc
    return BulkPostResult(ids, created=run.created, replayed=len(items) - run.created)


def _batch_size() -> int:
    return max(1, int(settings.BILLOW.get("LEDGER_BULK_BATCH", 5000)))


def adjust_client_balance(
    *,
    account: LedgerAccount,
    amount_minor: int,
    direction: str,
    reason: str,
    nonce: str,
    actor: object | None = None,
) -> LedgerTransaction:
    """Credit or debit a client balance against the house adjustments account.

    Guarantees: only ``client_balance`` accounts, a positive amount and a non-empty reason are
    accepted; the key is ``adjustment:<nonce>``, so a form submitted twice posts once.
    """
    if account.kind != AccountKind.CLIENT_BALANCE:
        raise LedgerValidationError(
            "only client balances can be adjusted", code="not_a_client_balance"
        )
    if direction not in ("credit", "debit"):
        raise LedgerValidationError("direction is credit or debit", code="invalid_direction")
    if type(amount_minor) is not int or amount_minor <= 0:
        raise LedgerValidationError("the amount must be positive", code="invalid_amount")
    if not reason.strip():
        raise LedgerValidationError("a reason is required", code="reason_required")
    if not nonce:
        raise LedgerValidationError("a form nonce is required", code="invalid_idempotency_key")
    with transaction.atomic(durable=True):
        house = get_or_create_account(
            kind=AccountKind.ADJUSTMENTS, currency=account.currency, provider=account.provider
        )
        signed = amount_minor if direction == "credit" else -amount_minor
        return post_transaction(
            kind=TransactionKind.ADJUSTMENT,
            legs=[(account, signed), (house, -signed)],
            idempotency_key=f"adjustment:{nonce}",
            reference=account.client if account.client is not None else account,
            memo=reason.strip(),
            actor=actor,
        )


@dataclass(frozen=True, slots=True)
class OpeningBalance:
    """A client's balance with a provider in a currency as another system left it."""

    client_id: int
    provider_id: int
    currency: str
    amount_minor: int
    key: str  # unique per source balance: the posting's idempotency key


def post_opening_balances(
    balances: Sequence[OpeningBalance], *, memo: str, actor: object | None = None
) -> BulkPostResult:
    """Open each client's balance account (created if missing, in bulk) and post its opening
    amount against the provider's adjustments (equity) account, one ``adjustment`` transaction
    per balance keyed ``balance.key``: all or nothing, a repeat posts nothing (the bulk
    posting's rules). A zero balance only opens the account."""
    with transaction.atomic():
        wanted = {(b.client_id, b.provider_id, b.currency) for b in balances}
        accounts: dict[tuple[int, int, str], int] = {}
        client_ids = sorted({b.client_id for b in balances})
        for start in range(0, len(client_ids), 5000):
            found = LedgerAccount.objects.filter(
                kind=AccountKind.CLIENT_BALANCE, client_id__in=client_ids[start : start + 5000]
            ).values_list("client_id", "provider_id", "currency", "pk")
            accounts.update({(c, p, cur): pk for c, p, cur, pk in found if p is not None})
        missing = sorted(wanted - set(accounts))
        now = timezone.now()
        new_ids = rows.write_new(
            LedgerAccount,
            ("kind", "client_id", "provider_id", "currency", "created_at"),
            [(AccountKind.CLIENT_BALANCE.value, c, p, cur, now) for c, p, cur in missing],
            with_ids=True,
        )
        accounts.update(zip(missing, new_ids, strict=True))
        houses = {
            (p, cur): get_account_id(kind=AccountKind.ADJUSTMENTS, currency=cur, provider_id=p)
            for p, cur in {(p, cur) for _c, p, cur in wanted}
        }
        items = [
            Posting(
                TransactionKind.ADJUSTMENT,
                [
                    (accounts[b.client_id, b.provider_id, b.currency], b.amount_minor),
                    (houses[b.provider_id, b.currency], -b.amount_minor),
                ],
                b.key,
                f"accounts.client:{b.client_id}",
                memo,
                actor,
            )
            for b in balances
            if b.amount_minor
        ]
        return post_transactions_bulk(items)
