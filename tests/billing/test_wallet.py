"""The one wallet (``billow.billing.wallet``): locking a client's balance with its credit terms,
reading it without a lock, and moving money for a service under one key."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.transaction import TransactionManagementError

from billow.billing.actions import set_client_billing_settings
from billow.billing.models import ClientBillingSettings, Expense, ExpenseKind, ExpenseReason
from billow.billing.wallet import (
    MoneyItem,
    Wallet,
    build_wallets,
    lock_wallet,
    move_money,
    read_wallet,
    wallet_accounts,
)
from billow.ledger.models import AccountKind, LedgerAccount, LedgerTransaction
from billow.ledger.selectors import get_reconcile_report
from tests.billing.world import World, at

pytestmark = pytest.mark.django_db


def test_lock_wallet_creates_the_account_once_and_reads_the_credit_terms() -> None:
    world = World()
    client = world.client()
    set_client_billing_settings(client=client, currency="USD", credit_limit_minor=2500)
    with transaction.atomic():
        first = lock_wallet(client.pk, world.provider.pk, "USD")
    with transaction.atomic():
        again = lock_wallet(client.pk, world.provider.pk, "USD")
    assert first == again == Wallet(first.account, 0, 2500, False)
    assert (
        LedgerAccount.objects.filter(
            kind=AccountKind.CLIENT_BALANCE, client=client, provider=world.provider
        ).count()
        == 1
    )
    assert first.available_minor == 2500
    assert first.can_pay(2500) and not first.can_pay(2501)


def test_read_wallet_matches_the_locked_one_and_never_creates_an_account() -> None:
    world = World()
    client = world.client(balance=1234)
    ClientBillingSettings.objects.create(client=client, currency="USD", postpaid=True)
    unknown = world.client()
    with transaction.atomic():
        locked = lock_wallet(client.pk, world.provider.pk, "USD")
    assert read_wallet(client.pk, world.provider.pk, "USD") == locked
    assert locked == Wallet(locked.account, 1234, 0, True)
    assert locked.can_pay(10**9)  # post-paid
    assert read_wallet(unknown.pk, world.provider.pk, "USD") == Wallet(None, 0)
    assert not LedgerAccount.objects.filter(client=unknown).exists()
    with pytest.raises(LookupError):
        _ = Wallet(None, 0).account


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_lock_wallet_refuses_outside_a_transaction() -> None:
    world = World()
    client = world.client(balance=100)
    assert connection.get_autocommit()
    with pytest.raises(TransactionManagementError):
        lock_wallet(client.pk, world.provider.pk, "USD")


def test_build_wallets_gives_an_empty_wallet_with_credit_terms_to_keys_without_an_account() -> None:
    world = World()
    rich, newcomer = world.client(balance=700), world.client()
    ClientBillingSettings.objects.create(client=newcomer, currency="USD", credit_limit_minor=300)
    rich_key = (rich.pk, world.provider.pk, "USD")
    new_key = (newcomer.pk, world.provider.pk, "USD")
    account = world.wallet(rich).pk
    wallets, ids = build_wallets(
        [(rich.pk, world.provider.pk, "USD", account, 700)],
        [rich_key, new_key],
        ClientBillingSettings.objects.all(),
    )
    assert wallets == {rich_key: Wallet(account, 700), new_key: Wallet(None, 0, 300)}
    assert ids == {rich_key: account}
    created = wallet_accounts([new_key], create=True)
    assert created == {
        new_key: LedgerAccount.objects.get(kind=AccountKind.CLIENT_BALANCE, client=newcomer).pk
    }
    assert wallet_accounts([new_key], create=True) == created  # no second account


def test_move_money_charges_once_per_key_and_refunds_back() -> None:
    world = World()
    tariff = world.tariff("VPS", {"1m": 1000})
    client = world.client(balance=5000)
    service = world.service(client, tariff, date(2025, 3, 1), charge=False)
    key = (client.pk, world.provider.pk, "USD")
    charge = MoneyItem.period_charge(
        service_id=service.pk,
        wallet_key=key,
        period_from=date(2025, 3, 1),
        period_to=date(2025, 4, 1),
        amount_minor=1000,
        description="first month",
    )
    assert charge.key == f"charge:{service.pk}:2025-03-01"
    with transaction.atomic():
        wallet = lock_wallet(*key)
        first = move_money(charge, wallet.account, now=at(date(2025, 3, 1)), actor=None)
    with transaction.atomic():
        wallet = lock_wallet(*key)
        with pytest.raises(IntegrityError), transaction.atomic():  # the expense key is unique
            move_money(charge, wallet.account, now=at(date(2025, 3, 1)), actor=None)
    assert (first.kind, first.reason, first.amount_minor) == (
        ExpenseKind.CHARGE,
        ExpenseReason.PERIOD,
        1000,
    )
    assert world.balance(client) == 4000
    assert LedgerTransaction.objects.filter(idempotency_key=charge.key).count() == 1
    refund = MoneyItem(
        service.pk,
        key,
        ExpenseKind.REFUND,
        ExpenseReason.DELETION,
        f"refund:{service.pk}:1",
        date(2025, 3, 16),
        date(2025, 4, 1),
        516,
    )
    with transaction.atomic():
        wallet = lock_wallet(*key)
        move_money(refund, wallet.account, now=at(date(2025, 3, 16)), actor=None)
    assert world.balance(client) == 4516
    assert list(
        Expense.objects.filter(service=service).order_by("id").values_list("kind", "amount_minor")
    ) == [(ExpenseKind.CHARGE, 1000), (ExpenseKind.REFUND, 516)]
    assert get_reconcile_report().ok
