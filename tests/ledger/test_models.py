"""Ledger models: append-only history and one account per owner/kind/currency."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.db import IntegrityError, transaction

from billow.accounts.models import Client, Provider
from billow.core.errors import BillowError, ValidationError
from billow.ledger.actions import post_transaction
from billow.ledger.models import AccountKind, LedgerAccount, LedgerEntry, LedgerTransaction
from billow.ledger.selectors import get_or_create_account
from tests.ledger.helpers import ledger_state

pytestmark = pytest.mark.django_db


@pytest.fixture
def posted(wallet: LedgerAccount, revenue: LedgerAccount) -> LedgerTransaction:
    return post_transaction(kind="charge", legs=[(wallet, -10), (revenue, 10)], idempotency_key="c")


def _refused(call: Callable[[], object]) -> None:
    before = ledger_state()
    with pytest.raises(BillowError) as err:
        call()
    assert err.value.code == "ledger_immutable"
    assert ledger_state() == before


def test_transaction_cannot_be_updated_or_deleted(posted: LedgerTransaction) -> None:
    posted.memo = "edited"
    _refused(posted.save)
    _refused(lambda: posted.save(update_fields=["memo"]))
    _refused(posted.delete)
    _refused(lambda: LedgerTransaction.objects.filter(pk=posted.pk).update(memo="x"))
    _refused(lambda: LedgerTransaction.objects.all().delete())
    _refused(lambda: LedgerTransaction.objects.bulk_update([posted], ["memo"]))
    _refused(lambda: LedgerTransaction.objects.update_or_create(pk=posted.pk, defaults={}))
    assert LedgerTransaction.objects.get(pk=posted.pk).memo == ""


def test_entries_cannot_be_updated_or_deleted(posted: LedgerTransaction) -> None:
    entry = posted.entries.first()
    assert entry is not None
    entry.amount_minor = 999
    _refused(entry.save)
    _refused(entry.delete)
    _refused(lambda: LedgerEntry.objects.filter(pk=entry.pk).update(amount_minor=1))
    _refused(lambda: LedgerEntry.objects.filter(transaction=posted).delete())
    _refused(lambda: posted.entries.all().delete())
    assert sorted(posted.entries.values_list("amount_minor", flat=True)) == [-10, 10]


def test_zero_entry_is_refused_by_the_database(
    posted: LedgerTransaction, wallet: LedgerAccount
) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerEntry.objects.create(
            transaction=posted, account=wallet, amount_minor=0, currency="USD"
        )


def test_get_or_create_account_returns_one_account_per_owner(
    provider: Provider, make_client: Callable[..., Client]
) -> None:
    client = make_client()
    # given the same owner/kind/currency asked twice, for every NULL pattern of the owners
    for kw in (
        {"client": client, "provider": provider},
        {"client": client},
        {"provider": provider},
        {},
    ):
        a = get_or_create_account(kind=AccountKind.CLIENT_BALANCE, currency="USD", **kw)
        b = get_or_create_account(kind=AccountKind.CLIENT_BALANCE, currency="USD", **kw)
        assert a.pk == b.pk
    # then four distinct accounts exist; another currency is another account
    assert LedgerAccount.objects.count() == 4
    eur = get_or_create_account(kind=AccountKind.CLIENT_BALANCE, currency="EUR", client=client)
    assert LedgerAccount.objects.count() == 5
    assert eur.balance_minor == 0


@pytest.mark.parametrize("owners", ["both", "client", "provider", "house"])
def test_unique_constraints_hold_with_null_owners(
    owners: str, provider: Provider, make_client: Callable[..., Client]
) -> None:
    client = make_client()
    kw = {
        "both": {"client": client, "provider": provider},
        "client": {"client": client},
        "provider": {"provider": provider},
        "house": {},
    }[owners]
    LedgerAccount.objects.create(kind=AccountKind.SUSPENSE, currency="USD", **kw)
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerAccount.objects.create(kind=AccountKind.SUSPENSE, currency="USD", **kw)
    assert LedgerAccount.objects.count() == 1


def test_get_or_create_account_refuses_bad_input(provider: Provider) -> None:
    with pytest.raises(ValidationError) as err:
        get_or_create_account(kind=AccountKind.SUSPENSE, currency="XXX", provider=provider)
    assert err.value.code == "unknown_currency"
    with pytest.raises(ValidationError) as err:
        get_or_create_account(kind="piggy_bank", currency="USD", provider=provider)
    assert err.value.code == "invalid_account_kind"
    assert LedgerAccount.objects.count() == 0
