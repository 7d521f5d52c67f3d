"""post_transactions_bulk: same results as the single path, idempotent, all or nothing."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import override_settings

from billow.core.errors import ConflictError, NotFoundError, ValidationError
from billow.core.money import Money
from billow.ledger.actions import post_transaction, post_transactions_bulk
from billow.ledger.models import AccountKind, LedgerAccount, LedgerEntry, LedgerTransaction
from billow.ledger.postings import Leg, Posting
from billow.ledger.selectors import get_reconcile_report
from tests.ledger.helpers import balance_of, entry_sum, ledger_state

pytestmark = pytest.mark.django_db


def _charges(
    wallets: list[LedgerAccount], revenue: LedgerAccount, n: int, prefix: str
) -> list[Posting]:
    return [
        Posting(
            kind="charge",
            legs=[(wallets[i % len(wallets)], -(100 + i)), (revenue, 100 + i)],
            idempotency_key=f"{prefix}:{i}",
            reference=f"services.expense:{i}",
            memo=f"renewal {i}",
            actor="billing",
        )
        for i in range(n)
    ]


def _canon(txn_ids: list[int]) -> list[tuple[object, ...]]:
    """Transactions and entries without ids/keys/accounts, to compare two runs."""
    txns = LedgerTransaction.objects.filter(pk__in=txn_ids).order_by("id")
    return [
        (
            (t.kind, t.reference_type, t.reference_id, t.memo, t.actor_kind, t.actor_id),
            sorted(t.entries.values_list("amount_minor", "currency")),
        )
        for t in txns
    ]


@override_settings(BILLOW={"LEDGER_BULK_BATCH": 7})
def test_bulk_equals_single_path(make_account: Callable[..., LedgerAccount]) -> None:
    # given two identical sets of accounts and the same 25 charges for each (batch of 7 rows)
    wallets_a = [make_account() for _ in range(3)]
    wallets_b = [make_account() for _ in range(3)]
    revenue_a = make_account(AccountKind.PROVIDER_REVENUE, "USD")
    revenue_b = LedgerAccount.objects.create(kind=AccountKind.PROVIDER_REVENUE, currency="USD")
    # when one set goes through post_transaction and the other through the bulk path
    single_ids = [
        post_transaction(
            kind=p.kind,
            legs=p.legs,
            idempotency_key=p.idempotency_key,
            reference=p.reference,
            memo=p.memo,
            actor=p.actor,
        ).pk
        for p in _charges(wallets_a, revenue_a, 25, "single")
    ]
    result = post_transactions_bulk(_charges(wallets_b, revenue_b, 25, "bulk"))
    # then balances, transactions and entries are the same, and the ledger reconciles
    assert (result.created, result.replayed, len(result.transaction_ids)) == (25, 0, 25)
    assert [balance_of(w) for w in wallets_a] == [balance_of(w) for w in wallets_b]
    assert balance_of(revenue_a) == balance_of(revenue_b) == sum(100 + i for i in range(25))
    assert _canon(single_ids) == _canon(result.transaction_ids)
    legs_hashes = LedgerTransaction.objects.filter(pk__in=result.transaction_ids)
    assert all(len(t.legs_hash) == 64 for t in legs_hashes)
    assert get_reconcile_report().ok


def test_bulk_ids_follow_input_order_and_created_at_is_set(
    wallet: LedgerAccount, revenue: LedgerAccount
) -> None:
    result = post_transactions_bulk(_charges([wallet], revenue, 3, "o"))
    keys = [LedgerTransaction.objects.get(pk=pk).idempotency_key for pk in result.transaction_ids]
    assert keys == ["o:0", "o:1", "o:2"]
    assert LedgerTransaction.objects.filter(created_at__isnull=True).count() == 0


def test_bulk_skips_keys_already_posted_with_same_legs(
    wallet: LedgerAccount, revenue: LedgerAccount
) -> None:
    # given two of four charges already posted (one by each path)
    items = _charges([wallet], revenue, 4, "c")
    first = post_transaction(
        kind="charge", legs=items[0].legs, idempotency_key="c:0", reference=items[0].reference
    )
    earlier = post_transactions_bulk([items[2]])
    # when the whole batch is posted
    result = post_transactions_bulk(items)
    # then only the two new ones are written, and ids of the old ones come back
    assert (result.created, result.replayed) == (2, 2)
    assert result.transaction_ids[0] == first.pk
    assert result.transaction_ids[2] == earlier.transaction_ids[0]
    assert LedgerTransaction.objects.count() == 4
    assert balance_of(wallet) == -(100 + 101 + 102 + 103)
    # and replaying everything again writes nothing
    before = ledger_state()
    again = post_transactions_bulk(items)
    assert (again.created, again.replayed) == (0, 4)
    assert again.transaction_ids == result.transaction_ids
    assert ledger_state() == before


def test_bulk_duplicate_key_inside_batch(wallet: LedgerAccount, revenue: LedgerAccount) -> None:
    item = _charges([wallet], revenue, 1, "d")[0]
    # same key, same legs twice: posted once
    result = post_transactions_bulk([item, item])
    assert (result.created, result.replayed) == (1, 1)
    assert result.transaction_ids[0] == result.transaction_ids[1]
    assert balance_of(wallet) == -100
    # same key, other legs inside one batch: refused, nothing written
    before = ledger_state()
    other = Posting(kind="charge", legs=[(wallet, -1), (revenue, 1)], idempotency_key="new")
    clash = Posting(kind="charge", legs=[(wallet, -2), (revenue, 2)], idempotency_key="new")
    with pytest.raises(ConflictError) as err:
        post_transactions_bulk([other, clash])
    assert err.value.code == "idempotency_key_reused"
    assert ledger_state() == before


def test_bulk_conflict_with_existing_key_writes_nothing(
    wallet: LedgerAccount, revenue: LedgerAccount
) -> None:
    # given a posted charge
    post_transaction(kind="charge", legs=[(wallet, -5), (revenue, 5)], idempotency_key="x:1")
    before = ledger_state()
    # when a batch of new items also reuses that key with other legs
    clash = Posting(kind="charge", legs=[(wallet, -6), (revenue, 6)], idempotency_key="x:1")
    items = [*_charges([wallet], revenue, 5, "fresh"), clash]
    with pytest.raises(ConflictError) as err:
        post_transactions_bulk(items)
    # then none of the batch is written
    assert err.value.code == "idempotency_key_reused"
    assert ledger_state() == before


@pytest.mark.parametrize(
    ("bad_legs", "code"),
    [
        (lambda w, r: [(w, -1), (r, 2)], "unbalanced_transaction"),
        (lambda w, r: [], "empty_transaction"),
        (lambda w, r: [(w, Money(-1, "EUR")), (r, Money(1, "EUR"))], "currency_mismatch"),
        (lambda w, r: [Leg(w, -1, "QQQ"), Leg(r, 1, "QQQ")], "unknown_currency"),
        (lambda w, r: [(w, -(2**63)), (r, 2**63)], "amount_out_of_range"),
    ],
)
def test_bulk_one_bad_item_refuses_the_batch(
    bad_legs: Callable[..., list[object]], code: str, wallet: LedgerAccount, revenue: LedgerAccount
) -> None:
    bad = Posting(kind="charge", legs=bad_legs(wallet, revenue), idempotency_key="bad")
    items = [*_charges([wallet], revenue, 3, "ok"), bad]
    before = ledger_state()
    with pytest.raises(ValidationError) as err:
        post_transactions_bulk(items)
    assert err.value.code == code
    assert ledger_state() == before


def test_bulk_empty_batch_is_a_no_op(db: None) -> None:
    result = post_transactions_bulk([])
    assert (result.transaction_ids, result.created, result.replayed) == ([], 0, 0)


def test_bulk_then_single_posting_continues_ids(
    wallet: LedgerAccount, revenue: LedgerAccount
) -> None:
    # ids allocated by the bulk path must not collide with the ORM's next insert
    result = post_transactions_bulk(_charges([wallet], revenue, 3, "b"))
    txn = post_transaction(kind="charge", legs=[(wallet, -1), (revenue, 1)], idempotency_key="s")
    assert txn.pk > max(result.transaction_ids)
    assert LedgerEntry.objects.count() == 8
    assert balance_of(wallet) == entry_sum(wallet) == -(100 + 101 + 102 + 1)


def test_bulk_account_missing_from_the_database_writes_nothing(
    wallet: LedgerAccount, revenue: LedgerAccount
) -> None:
    ghost = LedgerAccount(id=987_654, kind=AccountKind.SUSPENSE, currency="USD")
    ghostly = Posting(kind="charge", legs=[(wallet, -5), (ghost, 5)], idempotency_key="ghost")
    before = ledger_state()
    with pytest.raises(NotFoundError) as err:
        post_transactions_bulk([*_charges([wallet], revenue, 3, "ok"), ghostly])
    assert err.value.code == "unknown_account"
    assert ledger_state() == before
