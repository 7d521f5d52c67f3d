"""post_transaction: balanced postings, idempotency, and refusals that write nothing."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from billow.core.errors import BillowError, ConflictError, NotFoundError, ValidationError
from billow.core.money import Money
from billow.ledger.actions import post_transaction
from billow.ledger.models import AccountKind, LedgerAccount, LedgerEntry, LedgerTransaction
from billow.ledger.postings import Leg, legs_fingerprint
from billow.ledger.selectors import get_balance, list_entries_for_account
from tests.ledger.helpers import balance_of, ledger_state

pytestmark = pytest.mark.django_db


def test_posting_moves_both_balances_and_writes_entries(
    wallet: LedgerAccount, clearing: LedgerAccount
) -> None:
    # given a client wallet and the gateway clearing account, both at zero
    # when a payment of 12.50 USD is posted
    txn = post_transaction(
        kind="payment",
        legs=[(clearing, -1250), (wallet, 1250)],
        idempotency_key="payment:1",
        reference="payments.payment:1",
        memo="card payment",
        actor="gateway:sandbox",
    )
    # then the transaction, its two entries and both balances are there
    txn.refresh_from_db()
    assert (txn.kind, txn.reference_type, txn.reference_id) == ("payment", "payments.payment", "1")
    assert (txn.actor_kind, txn.actor_id, txn.memo) == ("system", "gateway:sandbox", "card payment")
    assert sorted(txn.entries.values_list("account_id", "amount_minor", "currency")) == sorted(
        [(clearing.pk, -1250, "USD"), (wallet.pk, 1250, "USD")]
    )
    assert get_balance(wallet) == Money(1250, "USD")
    assert get_balance(clearing) == Money(-1250, "USD")
    assert [e.amount_minor for e in list_entries_for_account(wallet)] == [1250]


def test_legs_accept_leg_objects_money_and_account_ids(
    wallet: LedgerAccount, revenue: LedgerAccount
) -> None:
    # given legs in three accepted shapes
    legs = [Leg(wallet, -300, "USD"), (revenue.pk, Money(200, "USD")), (revenue, 100)]
    # when posted
    txn = post_transaction(kind="charge", legs=legs, idempotency_key="charge:1")
    # then the balances reflect all of them
    assert balance_of(wallet) == -300
    assert balance_of(revenue) == 300
    assert txn.entries.count() == 3


def test_multi_currency_transaction_balanced_per_currency(
    make_account: Callable[..., LedgerAccount],
) -> None:
    # given USD and EUR accounts on both sides of a conversion
    usd_wallet, eur_wallet = make_account(currency="USD"), make_account(currency="EUR")
    usd_fx = make_account(AccountKind.SUSPENSE, "USD")
    eur_fx = make_account(AccountKind.SUSPENSE, "EUR")
    # when each currency sums to zero on its own
    post_transaction(
        kind="transfer",
        legs=[(usd_wallet, -1000), (usd_fx, 1000), (eur_fx, -920), (eur_wallet, 920)],
        idempotency_key="fx:1",
    )
    # then the posting is accepted
    assert [balance_of(a) for a in (usd_wallet, usd_fx, eur_fx, eur_wallet)] == [
        -1000,
        1000,
        -920,
        920,
    ]


def test_same_key_same_legs_returns_existing_transaction(
    wallet: LedgerAccount, clearing: LedgerAccount
) -> None:
    # given a posted payment
    first = post_transaction(
        kind="payment", legs=[(clearing, -500), (wallet, 500)], idempotency_key="p:1"
    )
    before = ledger_state()
    # when the very same posting is replayed, legs in another order
    again = post_transaction(
        kind="payment", legs=[(wallet, 500), (clearing, -500)], idempotency_key="p:1"
    )
    # then the first transaction comes back and nothing is written
    assert again.pk == first.pk
    assert ledger_state() == before
    assert balance_of(wallet) == 500


def test_same_key_other_legs_raises_and_writes_nothing(
    wallet: LedgerAccount, clearing: LedgerAccount
) -> None:
    # given a posted payment
    post_transaction(kind="payment", legs=[(clearing, -500), (wallet, 500)], idempotency_key="p:1")
    before = ledger_state()
    # when the key is reused with another amount
    with pytest.raises(ConflictError) as err:
        post_transaction(
            kind="payment", legs=[(clearing, -501), (wallet, 501)], idempotency_key="p:1"
        )
    # then the conflict carries the stable code and nothing changed
    assert err.value.code == "idempotency_key_reused"
    assert ledger_state() == before


def test_same_key_other_kind_is_a_conflict(wallet: LedgerAccount, clearing: LedgerAccount) -> None:
    post_transaction(kind="payment", legs=[(clearing, -5), (wallet, 5)], idempotency_key="k")
    before = ledger_state()
    with pytest.raises(ConflictError) as err:
        post_transaction(kind="refund", legs=[(clearing, -5), (wallet, 5)], idempotency_key="k")
    assert err.value.code == "idempotency_key_reused"
    assert ledger_state() == before


def test_legs_fingerprint_ignores_order_but_not_amounts() -> None:
    a = legs_fingerprint("payment", [(1, "USD", -5), (2, "USD", 5)])
    assert a == legs_fingerprint("payment", [(2, "USD", 5), (1, "USD", -5)])
    assert a != legs_fingerprint("payment", [(1, "USD", -6), (2, "USD", 6)])
    assert a != legs_fingerprint("refund", [(1, "USD", -5), (2, "USD", 5)])
    assert len(a) == 64


BAD_LEGS = {
    "unbalanced": (lambda w, r, e: [(w, -100), (r, 99)], ValidationError, "unbalanced_transaction"),
    "empty": (lambda w, r, e: [], ValidationError, "empty_transaction"),
    "zero_leg": (lambda w, r, e: [(w, 0), (r, 0)], ValidationError, "empty_transaction"),
    "leg_currency_differs": (
        lambda w, r, e: [(w, Money(-100, "EUR")), (r, 100)],
        ValidationError,
        "currency_mismatch",
    ),
    "mixed_currencies": (
        lambda w, r, e: [(w, -100), (e, 100)],
        ValidationError,
        "unbalanced_transaction",
    ),
    "unknown_currency": (
        lambda w, r, e: [Leg(w, -100, "XXX"), Leg(r, 100, "XXX")],
        ValidationError,
        "unknown_currency",
    ),
    "amount_2_pow_63": (
        lambda w, r, e: [(w, -(2**63)), (r, 2**63)],
        ValidationError,
        "amount_out_of_range",
    ),
    "amount_beyond_2_pow_63": (
        lambda w, r, e: [(w, -(2**70)), (r, 2**70)],
        ValidationError,
        "amount_out_of_range",
    ),
    "float_amount": (lambda w, r, e: [(w, -1.5), (r, 1.5)], ValidationError, "invalid_amount"),
    "bool_amount": (lambda w, r, e: [(w, True), (r, -1)], ValidationError, "invalid_amount"),
    "unknown_account": (lambda w, r, e: [(w, -1), (999_999, 1)], NotFoundError, "unknown_account"),
    "malformed_leg": (lambda w, r, e: [(w, -1, "USD", 0)], ValidationError, "invalid_leg"),
}


@pytest.mark.parametrize("case", list(BAD_LEGS), ids=list(BAD_LEGS))
def test_bad_legs_raise_stable_code_and_write_nothing(
    case: str, make_account: Callable[..., LedgerAccount]
) -> None:
    # given a USD wallet, USD revenue and a EUR wallet
    wallet, eur = make_account(), make_account(currency="EUR")
    revenue = make_account(AccountKind.PROVIDER_REVENUE)
    build, exc_type, code = BAD_LEGS[case]
    before = ledger_state()
    # when the bad legs are posted
    with pytest.raises(exc_type) as err:
        post_transaction(kind="charge", legs=build(wallet, revenue, eur), idempotency_key="bad:1")
    # then the refusal carries the stable code and nothing is written
    assert err.value.code == code
    assert ledger_state() == before


def test_account_with_unknown_currency_is_refused(wallet: LedgerAccount) -> None:
    # given an account row whose currency is not in the table (created around the selector)
    odd = LedgerAccount.objects.create(kind=AccountKind.SUSPENSE, currency="ZZZ")
    before = ledger_state()
    with pytest.raises(ValidationError) as err:
        post_transaction(kind="x", legs=[(odd, 5), (wallet, -5)], idempotency_key="k")
    assert err.value.code == "unknown_currency"
    assert ledger_state() == before


@pytest.mark.parametrize(
    ("kind", "key", "code"),
    [
        ("", "k", "invalid_kind"),
        ("x" * 51, "k", "invalid_kind"),
        ("charge", "", "invalid_idempotency_key"),
        ("charge", "k" * 201, "invalid_idempotency_key"),
    ],
)
def test_bad_kind_or_key_is_refused(
    kind: str, key: str, code: str, wallet: LedgerAccount, revenue: LedgerAccount
) -> None:
    before = ledger_state()
    with pytest.raises(BillowError) as err:
        post_transaction(kind=kind, legs=[(wallet, -1), (revenue, 1)], idempotency_key=key)
    assert err.value.code == code
    assert ledger_state() == before


def test_refusal_inside_callers_transaction_leaves_it_usable(
    wallet: LedgerAccount, revenue: LedgerAccount
) -> None:
    # given a caller that already posted in its own atomic block
    from django.db import transaction

    with transaction.atomic():
        post_transaction(kind="charge", legs=[(wallet, -7), (revenue, 7)], idempotency_key="a")
        # when a replay with other legs is refused inside the same block
        with pytest.raises(ConflictError):
            post_transaction(kind="charge", legs=[(wallet, -8), (revenue, 8)], idempotency_key="a")
        # then the caller's transaction still works
        post_transaction(kind="charge", legs=[(wallet, -1), (revenue, 1)], idempotency_key="b")
    assert balance_of(wallet) == -8
    assert LedgerTransaction.objects.count() == 2
    assert LedgerEntry.objects.count() == 4


def test_reference_accepts_a_model_instance(wallet: LedgerAccount, revenue: LedgerAccount) -> None:
    assert wallet.client is not None
    txn = post_transaction(
        kind="charge",
        legs=[(wallet, -1), (revenue, 1)],
        idempotency_key="r",
        reference=wallet.client,
    )
    assert (txn.reference_type, txn.reference_id) == ("accounts.client", str(wallet.client.pk))


def test_account_missing_from_the_database_aborts_the_posting(wallet: LedgerAccount) -> None:
    # given an account object whose row does not exist (the entries carry no FK constraint)
    ghost = LedgerAccount(id=987_654, kind=AccountKind.SUSPENSE, currency="USD")
    before = ledger_state()
    with pytest.raises(NotFoundError) as err:
        post_transaction(kind="x", legs=[(ghost, 5), (wallet, -5)], idempotency_key="ghost")
    assert err.value.code == "unknown_account"
    assert ledger_state() == before
